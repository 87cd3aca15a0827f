"""Where trained models are kept, by name and version, and verified before they are served."""


from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from nexgen_assets.lib.models import store as model_store
from nexgen_assets.lib.models.interface import Forecaster


class ModelStoreResource(dg.ConfigurableResource):
    """Versioned model artifacts under one folder (see lib/models/store.py for the layout and the checks)."""

    root: str = Field(description="Folder holding one sub-folder per model and version.")

    def save(self, name: str, model: Forecaster, metadata: dict[str, Any]) -> model_store.ModelVersion:
        return model_store.save_model(self.root, name, model, metadata)

    def load(self, name: str, version: str, manifest_sha256: str) -> Forecaster:
        """The stored model, only if its files match its manifest and the manifest matches the registry's hash."""
        return model_store.load_model(self.root, name, version, manifest_sha256)

    def manifest_sha256(self, name: str, version: str) -> str:
        """The hash the registry records for a version, once every file of it matches its manifest."""
        return model_store.verify_model(self.root, name, version)

    def metadata(self, name: str, version: str) -> dict[str, Any]:
        return model_store.model_metadata(self.root, name, version)

    def path_of(self, name: str, version: str) -> Path:
        return model_store.version_path(self.root, name, version)

    def latest_version(self, name: str) -> str:
        versions = model_store.list_versions(self.root, name)
        if not versions:
            raise FileNotFoundError(f"no stored version of model {name} under {self.root}; materialize it first")
        return versions[-1]
