"""The model store: versioned folders written whole, read back, listed oldest first."""

import pickle

import pytest

from nexgen_assets.lib.models.store import list_versions, load_model, model_metadata, save_model


def test_saved_model_round_trips_with_its_metadata(tmp_path):
    saved = save_model(tmp_path, "xgboost", {"weights": [1, 2, 3]}, {"training_rows": 42, "params": {"depth": 3}})
    assert saved.name == "xgboost" and saved.path == tmp_path / "xgboost" / saved.version
    assert sorted(p.name for p in saved.path.iterdir()) == ["metadata.json", "model.pkl"]
    assert load_model(tmp_path, "xgboost", saved.version) == {"weights": [1, 2, 3]}
    meta = model_metadata(tmp_path, "xgboost", saved.version)
    assert meta == {"name": "xgboost", "version": saved.version, "training_rows": 42, "params": {"depth": 3}}


def test_versions_are_listed_oldest_first_and_hidden_folders_are_not_versions(tmp_path):
    assert list_versions(tmp_path, "lstm") == []
    first = save_model(tmp_path, "lstm", "a", {})
    second = save_model(tmp_path, "lstm", "b", {})
    (tmp_path / "lstm" / ".half-written").mkdir()
    assert first.version != second.version
    assert list_versions(tmp_path, "lstm") == [first.version, second.version]
    assert load_model(tmp_path, "lstm", first.version) == "a"


def test_a_missing_version_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="model artifact lstm version v9 not found"):
        load_model(tmp_path, "lstm", "v9")


def test_a_failed_save_leaves_nothing_behind(tmp_path):
    circular: dict = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match="[Cc]ircular"):
        save_model(tmp_path, "xgboost", "model", {"bad": circular})
    assert list_versions(tmp_path, "xgboost") == []
    assert list((tmp_path / "xgboost").iterdir()) == []
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        save_model(tmp_path, "xgboost", lambda: None, {})
    assert list((tmp_path / "xgboost").iterdir()) == []
