"""Versioned model artifacts on disk: one folder per model and version, written atomically."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nexgen_assets.lib.storage.atomic import atomic_path


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    path: Path


def _version_id(payload: bytes) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{hashlib.sha256(payload).hexdigest()[:8]}"


def save_model(root: str | Path, name: str, model: Any, metadata: dict[str, Any]) -> ModelVersion:
    """Pickle the model with its metadata under root/name/version; returns where it went."""
    payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    version = _version_id(payload)
    final = Path(root) / name / version
    with atomic_path(final) as staging:
        staging.mkdir()
        (staging / "model.pkl").write_bytes(payload)
        meta = {"name": name, "version": version, **metadata}
        (staging / "metadata.json").write_text(json.dumps(meta, indent=2, default=str))
    return ModelVersion(name, version, final)


def load_model(root: str | Path, name: str, version: str) -> Any:
    """Unpickle one stored version; FileNotFoundError names the missing artifact."""
    path = Path(root) / name / version / "model.pkl"
    if not path.exists():
        raise FileNotFoundError(f"model artifact {name} version {version} not found at {path}")
    return pickle.loads(path.read_bytes())


def model_metadata(root: str | Path, name: str, version: str) -> dict[str, Any]:
    return json.loads((Path(root) / name / version / "metadata.json").read_text())


def list_versions(root: str | Path, name: str) -> list[str]:
    """Stored versions of a model, oldest first."""
    folder = Path(root) / name
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
