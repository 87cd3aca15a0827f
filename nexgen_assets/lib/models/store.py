"""Versioned model artifacts on disk: one folder per model and version, written atomically, verified before loading.

A version is `root/<name>/<version>/`: the files the model's `save` wrote (JSON, Parquet,
XGBoost UBJ, skops, .keras; never pickle), in at most one level of sub-folders (a model
trained per store group keeps each group's files in its own), beside `metadata.json`, the
manifest: name, version, format, the sha256 of every file by its relative path
(`group_0000/state.json`) and the training metadata. The model registry
records the manifest's own sha256 (see lib/evaluation/champion.py).

Loading refuses, before anything is deserialised: a name outside the model catalog or a
version not in the store's format (checked before any path is built); a path that leaves
the root; a symlink or anything but a regular file in the store; a file missing, extra or
changed against the manifest; and, given the registry's hash, a manifest that was changed.
So write access to the registry alone can only pick among stored, intact versions, and
rewriting the store alone cannot change what a registry row serves. Verified bytes are
copied to a private folder and the model loads from there, so nothing can be swapped in
between the check and the read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nexgen_assets.lib.models.catalog import MODELS
from nexgen_assets.lib.models.grouped import GroupedForecaster, load_forecaster
from nexgen_assets.lib.models.interface import Forecaster
from nexgen_assets.lib.storage.atomic import atomic_path

MANIFEST = "metadata.json"
FORMAT = "nexgen-model/2"
"""Manifest format: version 1 was a single pickle, which this store no longer reads."""
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
VERSION_PATTERN = re.compile(r"[0-9]{8}T[0-9]{12}Z-[0-9a-f]{8}")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
FILE_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
RESERVED = ("name", "version", "format", "files")


class UntrustedArtifactError(ValueError):
    """A stored model that must not be loaded: bad name or version, a path outside the store, a symlink, a hash mismatch."""


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    path: Path
    manifest_sha256: str


def sha256_hex(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def check_name(name: Any) -> str:
    """The name if it is one of the model catalog's; refused before it becomes part of a path."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name not in MODELS:
        raise UntrustedArtifactError(f"model name {name!r} is not one of the catalog's: {', '.join(MODELS)}")
    return name


def check_version(version: Any) -> str:
    """The version if it has the store's format (UTC timestamp and 8 hex digits of the content hash)."""
    if not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version):
        raise UntrustedArtifactError(
            f"model version {version!r} is not a store version like 20250101T000000000000Z-0123abcd"
        )
    return version


def _version_id(payload: bytes) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{sha256_hex(payload)[:8]}"


def _no_symlink(path: Path) -> Path:
    if path.is_symlink():
        raise UntrustedArtifactError(f"{path} is a symlink; the model store holds none")
    return path


def version_path(root: str | Path, name: str, version: str) -> Path:
    """root/name/version once both are checked, confirmed inside the root with no symlink below it."""
    check_name(name)
    check_version(version)
    base = Path(root).resolve()
    path = base / name / version
    _no_symlink(base / name)
    _no_symlink(path)
    if not path.resolve().is_relative_to(base):
        raise UntrustedArtifactError(f"model {name} version {version} resolves outside the model store {base}")
    return path


_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _read_regular(path: Path, name: str, version: str, relative: str | None = None) -> bytes:
    """A regular file's bytes, refusing a symlink even if it is swapped in after the folder was listed. A `relative`
    manifest path (`group_0000/state.json`) is opened below the folder `path` one component at a time, so no
    sub-folder on the way can be a symlink either."""
    if relative is None:
        path, relative = path.parent, path.name
    parts = relative.split("/")
    folder_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _NO_FOLLOW)
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | _NO_FOLLOW, dir_fd=folder_fd)
            os.close(folder_fd)
            folder_fd = inner
        fd = os.open(parts[-1], os.O_RDONLY | _NO_FOLLOW, dir_fd=folder_fd)
    except OSError as error:
        linked = next((k for k in range(len(parts)) if (path / "/".join(parts[: k + 1])).is_symlink()), None)
        if linked is not None:
            shown = "/".join(parts[: linked + 1])
            raise UntrustedArtifactError(f"model {name} version {version}: {shown} is a symlink; refusing to load") from error
        raise
    finally:
        os.close(folder_fd)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise UntrustedArtifactError(f"model {name} version {version}: {path.name} is not a regular file")
        return handle.read()


def _file_names(folder: Path, name: str, version: str, prefix: str = "") -> set[str]:
    """Relative paths of the files in a version folder and its sub-folders, one level deep (`group_0000/state.json`);
    anything else (a symlink, a deeper folder, a device, an odd name) is refused."""
    names = set()
    with os.scandir(folder) as entries:
        for entry in entries:
            shown = f"{prefix}{entry.name}"
            if entry.is_symlink():
                raise UntrustedArtifactError(f"model {name} version {version}: {shown} is a symlink; refusing to load")
            if not FILE_PATTERN.fullmatch(entry.name):
                raise UntrustedArtifactError(f"model {name} version {version}: unexpected entry {shown!r}")
            if entry.is_dir(follow_symlinks=False) and not prefix:
                names |= _file_names(Path(entry.path), name, version, prefix=f"{entry.name}/")
            elif entry.is_file(follow_symlinks=False):
                names.add(shown)
            else:
                raise UntrustedArtifactError(f"model {name} version {version}: unexpected entry {shown!r}")
    return names


def _manifest(path: Path, name: str, version: str, expected_sha256: str | None) -> tuple[dict[str, Any], str]:
    """The manifest and its sha256, checked against the registry's hash when given and against the requested version."""
    if expected_sha256 is not None and not (isinstance(expected_sha256, str) and SHA256_PATTERN.fullmatch(expected_sha256)):
        raise UntrustedArtifactError(f"model {name} version {version}: registry hash {expected_sha256!r} is not a sha256")
    file = path / MANIFEST
    if not path.is_dir() or not (file.exists() or file.is_symlink()):
        raise FileNotFoundError(f"model artifact {name} version {version} not found at {path}")
    payload = _read_regular(file, name, version)
    actual = sha256_hex(payload)
    if expected_sha256 is not None and actual != expected_sha256:
        raise UntrustedArtifactError(
            f"model {name} version {version}: {MANIFEST} has sha256 {actual}, the registry recorded {expected_sha256}; "
            "refusing to load"
        )
    manifest = json.loads(payload)
    if not isinstance(manifest, dict):
        raise UntrustedArtifactError(f"model {name} version {version}: {MANIFEST} is not a JSON object; refusing to load")
    if (manifest.get("format"), manifest.get("name"), manifest.get("version")) != (FORMAT, name, version):
        raise UntrustedArtifactError(
            f"model {name} version {version}: {MANIFEST} describes {manifest.get('name')} {manifest.get('version')} "
            f"in format {manifest.get('format')!r}, expected {FORMAT!r}; refusing to load"
        )
    return manifest, actual


def _verified_files(path: Path, name: str, version: str, expected_sha256: str | None) -> tuple[dict[str, bytes], str]:
    """Every artifact file's bytes, each matching its sha256 in the manifest, and the manifest's sha256."""
    manifest, manifest_sha256 = _manifest(path, name, version, expected_sha256)
    listed = manifest.get("files")
    if not isinstance(listed, dict) or not listed:
        raise UntrustedArtifactError(f"model {name} version {version}: {MANIFEST} lists no files")
    present = _file_names(path, name, version) - {MANIFEST}
    if present != set(listed):
        missing, extra = sorted(set(listed) - present), sorted(present - set(listed))
        raise UntrustedArtifactError(
            f"model {name} version {version}: files differ from {MANIFEST} (missing {missing}, not listed {extra}); "
            "refusing to load"
        )
    files = {}
    for file, expected in sorted(listed.items()):
        payload = _read_regular(path, name, version, relative=file)
        if sha256_hex(payload) != expected:
            raise UntrustedArtifactError(
                f"model {name} version {version}: {file} does not match its sha256 in {MANIFEST}; refusing to load"
            )
        files[file] = payload
    return files, manifest_sha256


def _artifact_hashes(folder: Path, name: str) -> dict[str, str]:
    """sha256 of each file a model's `save` wrote, by relative path; it must write plain files (in at most one level
    of sub-folders) only, and no manifest."""
    names = _file_names(folder, name, "being saved")
    if not names or MANIFEST in names:
        raise ValueError(f"{name} saved {sorted(names)}; a model writes at least one file and never {MANIFEST}")
    return {file: sha256_hex((folder / file).read_bytes()) for file in sorted(names)}


def save_model(root: str | Path, name: str, model: Forecaster, metadata: dict[str, Any]) -> ModelVersion:
    """Save the fitted model with its manifest under root/name/version in one rename; returns where, and the manifest hash."""
    check_name(name)
    stored_type = type(model.inner) if isinstance(model, GroupedForecaster) else type(model)
    if stored_type is not MODELS[name]:
        raise TypeError(f"a {stored_type.__name__} cannot be stored as {name!r}; the catalog builds {MODELS[name].__name__}")
    clash = sorted(set(RESERVED) & set(metadata))
    if clash:
        raise ValueError(f"metadata keys {clash} are the manifest's own")
    folder = _no_symlink(Path(root).resolve() / name)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".saving-") as scratch:
        files = Path(scratch) / "files"
        files.mkdir()
        model.save(files)
        hashes = _artifact_hashes(files, name)
        version = _version_id(json.dumps(hashes, sort_keys=True).encode())
        manifest = {**metadata, "format": FORMAT, "name": name, "version": version, "files": hashes}
        payload = json.dumps(manifest, indent=2, sort_keys=True, default=str).encode()
        final = version_path(root, name, version)
        with atomic_path(final) as staging:
            files.rename(staging)
            (staging / MANIFEST).write_bytes(payload)
    return ModelVersion(name, version, final, sha256_hex(payload))


def verify_model(root: str | Path, name: str, version: str, manifest_sha256: str | None = None) -> str:
    """The manifest's sha256 once every file matches it (and it matches `manifest_sha256` when given); nothing is loaded."""
    _, actual = _verified_files(version_path(root, name, version), name, version, manifest_sha256)
    return actual


def load_model(root: str | Path, name: str, version: str, manifest_sha256: str | None = None) -> Forecaster:
    """One stored version, loaded only after verification; pass the registry's `manifest_sha256` to pin the manifest.

    Without it the files are checked against the manifest alone, which guards against
    damage but not against someone who can rewrite the store: serving always passes it.
    FileNotFoundError names a missing version; UntrustedArtifactError anything refused.
    """
    files, _ = _verified_files(version_path(root, name, version), name, version, manifest_sha256)
    with tempfile.TemporaryDirectory(prefix="nexgen-model-") as scratch:
        for file, payload in files.items():
            target = Path(scratch) / file
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(payload)
        return load_forecaster(Path(scratch), MODELS[name])


def model_metadata(root: str | Path, name: str, version: str) -> dict[str, Any]:
    """The manifest of one version (training metadata, file hashes); the files themselves are not read."""
    manifest, _ = _manifest(version_path(root, name, version), name, version, None)
    return manifest


def list_versions(root: str | Path, name: str) -> list[str]:
    """Stored versions of a model, oldest first; hidden, symlinked or foreign entries are not versions."""
    check_name(name)
    folder = _no_symlink(Path(root).resolve() / name)
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.iterdir() if VERSION_PATTERN.fullmatch(p.name) and p.is_dir() and not p.is_symlink()
    )
