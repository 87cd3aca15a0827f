"""Models per store group: fitted and served through Spark exactly as each group fitted alone, stored and refused."""

import zlib

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.backtest import run_backtest
from nexgen_assets.lib.grain import HORIZON_DAYS
from nexgen_assets.lib.models.grouped import (
    GroupedForecaster,
    StoreGroups,
    UntrainedStoreError,
    parse_training_groups,
    with_training_groups,
)
from nexgen_assets.lib.models.inputs import future_of, history_of
from nexgen_assets.lib.models.random_forest import RandomForestForecaster
from nexgen_assets.lib.models.seasonal_naive import SeasonalNaiveForecaster
from nexgen_assets.lib.models.store import UntrustedArtifactError, load_model, model_metadata, save_model
from nexgen_assets.settings import Settings
from nexgen_assets_tests.lib.conftest import feature_panel

STORES = 3


def _panel(days: int = 70) -> pd.DataFrame:
    """Six series in three stores, two each, `days` observed days and the horizon to forecast."""
    panel = feature_panel(series=6, days=days)
    panel["store_id"] = "S" + (panel["product_id"].str[1:].astype(int) % STORES).astype(str)
    return panel


def _forest() -> RandomForestForecaster:
    return RandomForestForecaster(n_estimators=4, max_depth=4, n_jobs=1, seed=3)


@pytest.fixture(scope="module")
def panel():
    return _panel()


@pytest.fixture(scope="module")
def frames(spark, panel):
    """The panel's history and observed feature rows as Spark frames."""
    observed = panel[~panel["is_future"]]
    return spark.createDataFrame(history_of(panel)), spark.createDataFrame(observed)


def _fitted_alone(template, panel: pd.DataFrame, groups: StoreGroups) -> dict[str, np.ndarray]:
    """Each group fitted in this process on its own rows by a fresh copy, and its forecast of its own future rows."""
    history, observed, future = history_of(panel), panel[~panel["is_future"]], future_of(panel)
    out = {}
    for key in sorted(groups.of(history["store_id"]).unique()):
        own_history, own_rows = _of_group(history, groups, key), _of_group(observed, groups, key)
        own_future = future[(groups.of(future["store_id"]) == key).to_numpy()]
        out[key] = template.clone().fit(own_history, own_rows).predict(own_history, own_future)
    return out


def _of_group(frame: pd.DataFrame, groups: StoreGroups, key: str) -> pd.DataFrame:
    """A group's rows in series and date order: the order a grouped fit puts them in, whatever order they came in."""
    mine = frame[(groups.of(frame["store_id"]) == key).to_numpy()]
    return mine.sort_values(["store_id", "product_id", "date"]).reset_index(drop=True)


def _by_group(forecast: np.ndarray, future: pd.DataFrame, groups: StoreGroups) -> dict[str, np.ndarray]:
    keys = groups.of(future["store_id"]).to_numpy()
    return {key: forecast[keys == key] for key in sorted(set(keys))}


@pytest.mark.parametrize("template", [SeasonalNaiveForecaster(), _forest()], ids=["seasonal_naive", "random_forest"])
def test_fitting_each_store_through_spark_equals_fitting_each_store_alone(spark, panel, frames, template):
    history_frame, rows_frame = frames
    grouped = GroupedForecaster(template, StoreGroups())
    summary = grouped.fit_in_spark(history_frame, rows_frame if template.reads_feature_rows else None)

    assert sorted(grouped.models) == ["S0", "S1", "S2"] and summary.groups == STORES
    assert summary.history_rows == len(history_of(panel))
    assert summary.feature_rows == (int((~panel["is_future"]).sum()) if template.reads_feature_rows else 0)
    history, future = history_of(panel), future_of(panel)
    in_process = grouped.predict(history, future)
    through_spark = grouped.predict_from_pandas_in_spark(spark, history, future)
    alone = _fitted_alone(template, panel, StoreGroups())
    for key, expected in _by_group(in_process, future, StoreGroups()).items():
        np.testing.assert_allclose(expected, alone[key], rtol=0, atol=1e-9)
    np.testing.assert_allclose(through_spark, in_process, rtol=0, atol=1e-9)
    in_process_fit = GroupedForecaster(template, StoreGroups()).fit(history, panel[~panel["is_future"]])
    np.testing.assert_allclose(in_process_fit.predict(history, future), in_process, rtol=0, atol=1e-9)
    pandas_through_spark = GroupedForecaster(template, StoreGroups(), spark).fit(history, panel[~panel["is_future"]])
    assert sorted(pandas_through_spark.models) == ["S0", "S1", "S2"] and pandas_through_spark.spark_fit.groups == STORES
    assert in_process_fit.spark_fit is None
    np.testing.assert_allclose(pandas_through_spark.predict(history, future), in_process, rtol=0, atol=1e-9)


def test_a_global_model_per_store_differs_from_the_global_model(panel, frames):
    """The forest per store learns from its own store only: its forecasts are not the global forest's."""
    history, future = history_of(panel), future_of(panel)
    per_store = GroupedForecaster(_forest(), StoreGroups())
    per_store.fit_in_spark(*frames)
    single = _forest().fit(history, panel[~panel["is_future"]])
    assert not np.allclose(per_store.predict(history, future), single.predict(history, future))


def test_hash_groups_are_zlib_crc32_in_pandas_and_in_spark(spark, frames):
    history_frame, _ = frames
    groups = StoreGroups(2)
    by_spark = history_frame.select("store_id", groups.column().alias("group")).distinct().toPandas()
    expected = [str(zlib.crc32(s.encode()) % 2) for s in by_spark["store_id"]]
    assert list(by_spark["group"]) == expected == list(groups.of(by_spark["store_id"]))


def test_hash_groups_through_spark_equal_each_group_fitted_alone(panel, frames):
    groups = StoreGroups(2)
    grouped = GroupedForecaster(_forest(), groups)
    grouped.fit_in_spark(*frames)
    history, future = history_of(panel), future_of(panel)
    assert sorted(grouped.models) == sorted(groups.of(history["store_id"]).unique())
    alone = _fitted_alone(_forest(), panel, groups)
    for key, forecast in _by_group(grouped.predict(history, future), future, groups).items():
        np.testing.assert_allclose(forecast, alone[key], rtol=0, atol=1e-9)


def test_a_grouped_model_round_trips_through_the_model_store(tmp_path, panel, frames):
    grouped = GroupedForecaster(_forest(), StoreGroups())
    grouped.fit_in_spark(*frames)
    saved = save_model(tmp_path, "random_forest", grouped, {"params": grouped.params, "training_groups": "store"})

    assert sorted(p.name for p in saved.path.iterdir()) == ["group_0000", "group_0001", "group_0002", "metadata.json",
                                                            "state.json"]
    files = model_metadata(tmp_path, "random_forest", saved.version)["files"]
    assert "group_0002/span_15_28.skops" in files and "group_0000/state.json" in files
    restored = load_model(tmp_path, "random_forest", saved.version, saved.manifest_sha256)
    assert isinstance(restored, GroupedForecaster) and type(restored.inner) is RandomForestForecaster
    assert restored.groups == StoreGroups() and restored.training_rows == grouped.training_rows
    history, future = history_of(panel), future_of(panel)
    np.testing.assert_array_equal(restored.predict(history, future), grouped.predict(history, future))

    (saved.path / "group_0001" / "state.json").write_text("{}")
    with pytest.raises(UntrustedArtifactError, match="group_0001/state.json does not match its sha256"):
        load_model(tmp_path, "random_forest", saved.version, saved.manifest_sha256)


def test_a_symlinked_group_folder_is_refused(tmp_path, panel):
    grouped = GroupedForecaster(SeasonalNaiveForecaster(), StoreGroups()).fit(history_of(panel), panel.iloc[:0])
    saved = save_model(tmp_path, "seasonal_naive", grouped, {"params": grouped.params})
    elsewhere = tmp_path / "elsewhere"
    (saved.path / "group_0001").rename(elsewhere)
    (saved.path / "group_0001").symlink_to(elsewhere)
    with pytest.raises(UntrustedArtifactError, match="group_0001 is a symlink"):
        load_model(tmp_path, "seasonal_naive", saved.version, saved.manifest_sha256)


def test_a_grouped_model_of_another_kind_is_not_stored_under_this_name(tmp_path, panel):
    grouped = GroupedForecaster(SeasonalNaiveForecaster(), StoreGroups()).fit(history_of(panel), panel.iloc[:0])
    with pytest.raises(TypeError, match="a SeasonalNaiveForecaster cannot be stored as 'xgboost'"):
        save_model(tmp_path, "xgboost", grouped, {})


@pytest.mark.parametrize("value", ["stores", "store_groups", "store_groups:1", "store_groups:x", "store_groups:-3", "Store"])
def test_a_bad_training_groups_value_is_refused_naming_the_setting(value):
    with pytest.raises(ValueError, match=f"NEXGEN_TRAINING_GROUPS={value!r}: expected global, store, or store_groups:N"):
        Settings.from_env({"NEXGEN_TRAINING_GROUPS": value})
    with pytest.raises(ValueError, match="NEXGEN_TRAINING_GROUPS="):
        parse_training_groups(value)


def test_training_groups_values():
    assert Settings().training_groups == "global" and parse_training_groups("global") is None
    assert parse_training_groups("store") == StoreGroups()
    assert parse_training_groups("store_groups:16") == StoreGroups(16) and str(StoreGroups(16)) == "store_groups:16"


def test_a_store_without_a_trained_group_is_a_clear_error(spark, panel):
    """A store that opened after training has no model of its own: forecasting it from another store's model would
    hide that, so the forecast names it and asks for a retrain."""
    history, future = history_of(panel), future_of(panel)
    trained = panel[panel["store_id"] != "S2"]
    grouped = GroupedForecaster(SeasonalNaiveForecaster(), StoreGroups()).fit(history_of(trained), trained.iloc[:0])
    with pytest.raises(UntrainedStoreError, match=r"seasonal_naive per store has no model for store\(s\) S2 .*retrain"):
        grouped.predict(history, future)
    with pytest.raises(UntrainedStoreError, match=r"no model for store\(s\) S2"):
        grouped.predict_from_pandas_in_spark(spark, history, future)


def test_the_backtest_refits_per_store_and_a_per_series_model_scores_as_it_does_globally(spark):
    """Seasonal naive is per series: fitted per store, in this process or on the executors, it forecasts exactly
    what it forecasts globally; the forest refitted per store on the executors scores as refitted in-process."""
    panel = _panel(days=100)
    observed = panel[~panel["is_future"]]
    models = {
        "global": SeasonalNaiveForecaster(),
        "per_store": with_training_groups(SeasonalNaiveForecaster(), "store"),
        "per_store_spark": with_training_groups(SeasonalNaiveForecaster(), "store", spark),
        "forest": with_training_groups(_forest(), "store"),
        "forest_spark": with_training_groups(_forest(), "store", spark),
    }
    scored, timings = run_backtest(models, history_of(panel), observed, HORIZON_DAYS, folds=1, seasonal=False)
    per_model = {name: part["forecast"].to_numpy() for name, part in scored.groupby("model")}
    assert len(per_model["per_store"]) == 6 * HORIZON_DAYS
    np.testing.assert_array_equal(per_model["per_store"], per_model["global"])
    np.testing.assert_array_equal(per_model["per_store_spark"], per_model["global"])
    np.testing.assert_allclose(per_model["forest_spark"], per_model["forest"], rtol=0, atol=1e-9)
    assert not np.allclose(per_model["forest"], per_model["global"])
    assert list(timings["training_rows"][:3]) == [6 * 7, 6 * 7, 6 * 7]


def test_a_group_that_cannot_be_fitted_is_named(spark, panel, frames):
    """A tree model needs rows with 28 days of lags for its last span: a store without fails naming its group,
    through Spark too."""
    short = panel.assign(lag_28=panel["lag_28"].where(panel["store_id"] != "S1"))
    observed = short[~short["is_future"]]
    with pytest.raises(ValueError, match="random_forest per store, group 'S1': random forest has no training rows"):
        GroupedForecaster(_forest(), StoreGroups()).fit(history_of(short), observed)
    with pytest.raises(Exception, match="random_forest per store, group 'S1'"):
        GroupedForecaster(_forest(), StoreGroups()).fit_in_spark(
            spark.createDataFrame(history_of(short)), spark.createDataFrame(observed)
        )
