"""The model store: safe formats only, versions written whole, and nothing loaded that is not exactly what was saved."""

import ast
import builtins
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import nexgen_assets
from nexgen_assets.lib.models.catalog import MODELS, build_model
from nexgen_assets.lib.models.inputs import future_of, history_of
from nexgen_assets.lib.models.store import (
    MANIFEST,
    UntrustedArtifactError,
    list_versions,
    load_model,
    model_metadata,
    save_model,
    verify_model,
)
from nexgen_assets_tests.lib.conftest import FAST, feature_panel

FILES = {
    "seasonal_naive": ["last_season.parquet"],
    "xgboost": ["span_01_07.ubj", "span_08_14.ubj", "span_15_28.ubj"],
    "random_forest": ["span_01_07.skops", "span_08_14.skops", "span_15_28.skops"],
    "lstm": ["network.keras"],
    "ets": ["forecast_table.parquet"],
    "theta": ["forecast_table.parquet"],
    "croston": ["forecast_table.parquet"],
}
VERSION = "20250101T000000000000Z-0123abcd"


def _fitted(name: str, seed: int = 0):
    """A small fitted model; the forest predicts on one thread because scikit-learn sums trees in thread order."""
    panel = feature_panel(series=3, days=90, seed=seed)
    params = {**FAST[name], "n_jobs": 1} if name == "random_forest" else FAST[name]
    model = build_model(name, params).fit(history_of(panel), panel[~panel["is_future"]])
    return model, history_of(panel), future_of(panel)


@pytest.fixture
def naive(tmp_path):
    """One stored seasonal naive version and what it forecasts."""
    model, history, future = _fitted("seasonal_naive")
    return save_model(tmp_path, "seasonal_naive", model, {"params": model.params}), history, future


@pytest.mark.parametrize("name", list(MODELS))
def test_every_catalog_model_round_trips_with_identical_forecasts(tmp_path, name):
    model, history, future = _fitted(name)
    saved = save_model(tmp_path, name, model, {"params": model.params, "training_rows": model.training_rows})

    assert sorted(p.name for p in saved.path.iterdir()) == sorted([MANIFEST, "state.json", *FILES[name]])
    manifest = model_metadata(tmp_path, name, saved.version)
    assert manifest["params"] == model.params and manifest["training_rows"] == model.training_rows
    assert manifest["files"] == {f: hashlib.sha256((saved.path / f).read_bytes()).hexdigest() for f in manifest["files"]}
    assert saved.manifest_sha256 == hashlib.sha256((saved.path / MANIFEST).read_bytes()).hexdigest()

    restored = load_model(tmp_path, name, saved.version, saved.manifest_sha256)
    assert type(restored) is type(model) and restored is not model
    assert restored.params == model.params and restored.training_rows == model.training_rows
    np.testing.assert_array_equal(restored.predict(history, future), model.predict(history, future))


BAD_NAMES = ["../../etc", "/tmp/x", "xgboost/../../x", "", "XGBoost", "prophet", "x" * 65, None]
BAD_VERSIONS = ["../x", "/tmp", "v1", f"{VERSION}/../..", VERSION.upper(), f"{VERSION}\n", "٠" * 8 + VERSION[8:]]


@contextmanager
def _filesystem_forbidden():
    """Any stat, listing, open or mkdir inside the block is recorded and fails; everything is restored after."""
    touched: list = []

    def refuse(*args, **kwargs):
        touched.append(args)
        raise OSError("the filesystem is off limits here")

    targets = [(os, "stat"), (os, "lstat"), (os, "scandir"), (os, "open"), (os, "mkdir"), (os, "listdir"), (builtins, "open")]
    originals = [getattr(module, function) for module, function in targets]
    for module, function in targets:
        setattr(module, function, refuse)
    try:
        yield touched
    finally:
        for (module, function), original in zip(targets, originals, strict=True):
            setattr(module, function, original)


def _outcomes(calls) -> list:
    """The exception each call raised (None if it returned), with the filesystem off limits; asserts it was not touched."""
    outcomes = []
    with _filesystem_forbidden() as touched:
        for call in calls:
            try:
                call()
                outcomes.append(None)
            except Exception as error:  # noqa: BLE001 - collected and checked below, outside the block
                outcomes.append(error)
    assert touched == []
    return outcomes


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_outside_the_catalog_is_refused_before_the_filesystem_is_touched(tmp_path, name):
    model = build_model("seasonal_naive")
    outcomes = _outcomes([
        lambda: load_model(tmp_path, name, VERSION), lambda: load_model(tmp_path, name, VERSION, "0" * 64),
        lambda: model_metadata(tmp_path, name, VERSION), lambda: verify_model(tmp_path, name, VERSION),
        lambda: list_versions(tmp_path, name), lambda: save_model(tmp_path, name, model, {}),
    ])
    assert all(isinstance(e, UntrustedArtifactError) and "is not one of the catalog's" in str(e) for e in outcomes), outcomes
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("version", BAD_VERSIONS)
def test_a_version_not_in_the_store_format_is_refused_before_the_filesystem_is_touched(tmp_path, version):
    outcomes = _outcomes([lambda call=call: call(tmp_path, "xgboost", version)
                          for call in (load_model, model_metadata, verify_model)])
    assert all(isinstance(e, UntrustedArtifactError) and "is not a store version" in str(e) for e in outcomes), outcomes


def test_a_registry_hash_that_is_not_a_sha256_is_refused(naive, tmp_path):
    saved, *_ = naive
    with pytest.raises(UntrustedArtifactError, match="is not a sha256"):
        load_model(tmp_path, "seasonal_naive", saved.version, "../../etc/passwd")


def test_a_tampered_artifact_byte_is_refused_naming_model_version_and_file(naive, tmp_path):
    saved, *_ = naive
    artifact = saved.path / "last_season.parquet"
    payload = bytearray(artifact.read_bytes())
    payload[len(payload) // 2] ^= 0x01
    artifact.write_bytes(bytes(payload))
    expected = f"model seasonal_naive version {saved.version}: last_season.parquet does not match its sha256"
    for registry_hash in (None, saved.manifest_sha256):
        with pytest.raises(UntrustedArtifactError, match=expected):
            load_model(tmp_path, "seasonal_naive", saved.version, registry_hash)
    with pytest.raises(UntrustedArtifactError, match=expected):
        verify_model(tmp_path, "seasonal_naive", saved.version)


def test_a_rewritten_manifest_is_refused_when_the_registry_hash_is_given(naive, tmp_path):
    """Someone who can write the store swaps an artifact and its hash in the manifest: only the registry's hash catches it."""
    saved, history, future = naive
    other_model, *_ = _fitted("seasonal_naive", seed=5)
    other = save_model(tmp_path / "elsewhere", "seasonal_naive", other_model, {})
    shutil.copyfile(other.path / "last_season.parquet", saved.path / "last_season.parquet")
    manifest = json.loads((saved.path / MANIFEST).read_text())
    manifest["files"]["last_season.parquet"] = model_metadata(tmp_path / "elsewhere", "seasonal_naive", other.version)[
        "files"]["last_season.parquet"]
    (saved.path / MANIFEST).write_text(json.dumps(manifest))

    swapped = load_model(tmp_path, "seasonal_naive", saved.version)
    np.testing.assert_array_equal(swapped.predict(history, future), other_model.predict(history, future))
    with pytest.raises(UntrustedArtifactError, match=f"model seasonal_naive version {saved.version}: metadata.json has "
                                                     f"sha256 [0-9a-f]{{64}}, the registry recorded {saved.manifest_sha256}"):
        load_model(tmp_path, "seasonal_naive", saved.version, saved.manifest_sha256)
    with pytest.raises(UntrustedArtifactError, match="the registry recorded"):
        verify_model(tmp_path, "seasonal_naive", saved.version, saved.manifest_sha256)


def test_a_manifest_of_another_version_is_refused(naive, tmp_path):
    saved, *_ = naive
    copy = saved.path.with_name(VERSION)
    shutil.copytree(saved.path, copy)
    manifest_sha256 = hashlib.sha256((copy / MANIFEST).read_bytes()).hexdigest()
    with pytest.raises(UntrustedArtifactError, match=f"describes seasonal_naive {saved.version}"):
        load_model(tmp_path, "seasonal_naive", VERSION, manifest_sha256)


def test_a_symlink_in_place_of_an_artifact_is_refused_even_with_the_same_bytes(naive, tmp_path):
    saved, *_ = naive
    outside = tmp_path.parent / f"{tmp_path.name}-outside-state.json"
    shutil.copyfile(saved.path / "state.json", outside)
    (saved.path / "state.json").unlink()
    (saved.path / "state.json").symlink_to(outside)
    with pytest.raises(UntrustedArtifactError, match="state.json is a symlink"):
        load_model(tmp_path, "seasonal_naive", saved.version, saved.manifest_sha256)
    outside.unlink()


def test_symlinked_manifests_version_folders_and_model_folders_are_refused(naive, tmp_path):
    saved, *_ = naive
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    shutil.copytree(saved.path, elsewhere / saved.version)

    manifest = saved.path / MANIFEST
    manifest.unlink()
    manifest.symlink_to(elsewhere / saved.version / MANIFEST)
    with pytest.raises(UntrustedArtifactError, match="metadata.json is a symlink"):
        load_model(tmp_path, "seasonal_naive", saved.version, saved.manifest_sha256)

    shutil.rmtree(saved.path)
    saved.path.symlink_to(elsewhere / saved.version)
    with pytest.raises(UntrustedArtifactError, match="is a symlink; the model store holds none"):
        load_model(tmp_path, "seasonal_naive", saved.version, saved.manifest_sha256)
    assert list_versions(tmp_path, "seasonal_naive") == []

    shutil.rmtree(tmp_path / "seasonal_naive", ignore_errors=True)
    (tmp_path / "seasonal_naive").unlink(missing_ok=True)
    (tmp_path / "seasonal_naive").symlink_to(elsewhere)
    with pytest.raises(UntrustedArtifactError, match="is a symlink; the model store holds none"):
        load_model(tmp_path, "seasonal_naive", saved.version, saved.manifest_sha256)
    with pytest.raises(UntrustedArtifactError, match="is a symlink"):
        list_versions(tmp_path, "seasonal_naive")
    shutil.rmtree(elsewhere)


def test_a_file_missing_or_added_is_refused(naive, tmp_path):
    saved, *_ = naive
    (saved.path / "extra.pkl").write_bytes(b"\x80\x04N.")
    with pytest.raises(UntrustedArtifactError, match=r"not listed \['extra.pkl'\]"):
        load_model(tmp_path, "seasonal_naive", saved.version, saved.manifest_sha256)
    (saved.path / "extra.pkl").unlink()
    (saved.path / "last_season.parquet").unlink()
    with pytest.raises(UntrustedArtifactError, match=r"missing \['last_season.parquet'\]"):
        load_model(tmp_path, "seasonal_naive", saved.version, saved.manifest_sha256)


def test_a_missing_version_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"model artifact lstm version {VERSION} not found"):
        load_model(tmp_path, "lstm", VERSION)


def test_versions_are_listed_oldest_first_and_other_entries_are_not_versions(tmp_path):
    assert list_versions(tmp_path, "seasonal_naive") == []
    model, *_ = _fitted("seasonal_naive")
    first = save_model(tmp_path, "seasonal_naive", model, {})
    second = save_model(tmp_path, "seasonal_naive", model, {})
    for other in (".half-written", "latest", VERSION.replace("0123abcd", "zzzzzzzz")):
        (tmp_path / "seasonal_naive" / other).mkdir()
    assert first.version != second.version
    assert list_versions(tmp_path, "seasonal_naive") == [first.version, second.version]


def test_a_failed_save_leaves_nothing_behind(tmp_path):
    model, *_ = _fitted("seasonal_naive")
    circular: dict = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match="[Cc]ircular"):
        save_model(tmp_path, "seasonal_naive", model, {"bad": circular})
    with pytest.raises(RuntimeError, match="seasonal naive is not fitted"):
        save_model(tmp_path, "seasonal_naive", build_model("seasonal_naive"), {})
    with pytest.raises(TypeError, match="cannot be stored as 'xgboost'"):
        save_model(tmp_path, "xgboost", model, {})
    with pytest.raises(ValueError, match=r"metadata keys \['files'\]"):
        save_model(tmp_path, "seasonal_naive", model, {"files": {}})
    assert list_versions(tmp_path, "seasonal_naive") == []
    assert list((tmp_path / "seasonal_naive").iterdir()) == []


UNSAFE_MODULES = {"pickle", "_pickle", "cPickle", "joblib", "cloudpickle", "dill", "shelve", "marshal"}
UNSAFE_CALLS = {"read_pickle", "to_pickle"}


def test_no_module_of_the_package_uses_pickle_or_its_relatives():
    """Model storage must not depend on pickle-style deserialisation anywhere in the package."""
    found = []
    for path in sorted(Path(nexgen_assets.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                modules = []
            found += [f"{path.name}: import {m}" for m in modules if m.split(".")[0] in UNSAFE_MODULES]
            if isinstance(node, ast.Attribute) and node.attr in UNSAFE_CALLS:
                found.append(f"{path.name}: {node.attr}")
            if isinstance(node, ast.keyword) and node.arg == "allow_pickle":
                found.append(f"{path.name}: allow_pickle=")
    assert found == []

