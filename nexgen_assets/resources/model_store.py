"""Where trained models are kept, by name and version."""


from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from nexgen_assets.lib.models import store as model_store


class ModelStoreResource(dg.ConfigurableResource):
    """Versioned model artifacts under one folder."""

    root: str = Field(description="Folder holding one sub-folder per model and version.")

    def save(self, name: str, model: Any, metadata: dict[str, Any]) -> model_store.ModelVersion:
        return model_store.save_model(self.root, name, model, metadata)

    def load(self, name: str, version: str) -> Any:
        return model_store.load_model(self.root, name, version)

    def metadata(self, name: str, version: str) -> dict[str, Any]:
        return model_store.model_metadata(self.root, name, version)

    def path_of(self, name: str, version: str) -> Path:
        return Path(self.root) / name / version

    def latest_version(self, name: str) -> str:
        versions = model_store.list_versions(self.root, name)
        if not versions:
            raise FileNotFoundError(f"no stored version of model {name} under {self.root}; materialize it first")
        return versions[-1]
