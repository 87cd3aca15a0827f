"""Promotion rules with a real warehouse: only a model that beats the baseline may serve, and only the files promoted.

A candidate that loses is a normal outcome: the run succeeds, a WARN check shows the loss, and the serving champion
(the baseline, when nothing served yet) goes on forecasting."""

import hashlib
import json

import dagster as dg
import pandas as pd

from nexgen_assets.definitions import all_assets
from nexgen_assets.lib.evaluation.champion import choose_champion, registry_row
from nexgen_assets.lib.models.inputs import history_of
from nexgen_assets.lib.models.seasonal_naive import SeasonalNaiveForecaster
from nexgen_assets.lib.models.store import MANIFEST
from nexgen_assets.lib.models.xgboost_model import XGBoostForecaster
from nexgen_assets_tests.lib.conftest import feature_panel

QUANTILES = pd.DataFrame({"level": "series", "segment": "fast", "horizon_bucket": ["h01-07"],
                          "q10": [-1.0], "q50": [0.0], "q90": [1.0]})


def _stored_xgboost(resources):
    """A tiny fitted xgboost model in the resources' model store."""
    panel = feature_panel(series=2, days=60)
    model = XGBoostForecaster(n_estimators=2).fit(history_of(panel), panel[~panel["is_future"]])
    return resources["model_store"].save("xgboost", model, {"params": model.params})


def _stored_baseline(resources):
    """The seasonal-naive baseline fitted on the same panel, in the resources' model store."""
    model = SeasonalNaiveForecaster().fit(history_of(feature_panel(series=2, days=60)))
    return resources["model_store"].save("seasonal_naive", model, {"params": model.params})


def _features_in_the_lake(resources, spark):
    """The panel the stored models were fitted on, as the sales_features lake table a forecast reads."""
    resources["lake"].write(spark.createDataFrame(feature_panel(series=2, days=60)), "sales_features")


def _materialized(result, asset: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _leaderboard(mase: dict[str, float], versions: dict[str, str] | None = None) -> pd.DataFrame:
    versions = versions or {}
    return pd.DataFrame(
        [{"model": m, "model_version": versions.get(m, f"{m}-v2"), "scope": "all", "mase": v, "rmse": v, "mae": v, "wape": v,
          "bias": 0.0, "coverage_p10_p90": 0.8, "pinball": v, "n": 10, "weights": json.dumps({"all": {m: 1.0}}),
          "components": m, "fit_seconds_per_fold": 1.0, "rank": 1}
         for m, v in mase.items()]
    )


def _run(resources, leaderboard: pd.DataFrame, selection=("champion_model", "sales_forecast"), raise_on_error=False):
    resources["warehouse"].replace_table("model_metrics", leaderboard)
    quantiles = pd.DataFrame({"model": ["xgboost", "lstm", "seasonal_naive"], "level": "series", "segment": "fast",
                              "horizon_bucket": "h01-07", "q10": -1.0, "q50": 0.0, "q90": 1.0})
    resources["lake"].write_frame(quantiles, "backtest_interval_quantiles")
    keep = {"model_leaderboard", "champion_model", "sales_forecast"}
    return dg.materialize(
        [a for a in all_assets if {k.path[-1] for k in a.keys} & keep],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        selection=dg.AssetSelection.assets(*selection),
        raise_on_error=raise_on_error,
    )


def test_a_model_that_loses_to_the_baseline_leaves_the_old_champion_serving(resources, spark):
    warehouse = resources["warehouse"]
    stored = _stored_xgboost(resources)
    _features_in_the_lake(resources, spark)
    old = choose_champion(_leaderboard({"seasonal_naive": 1.0, "xgboost": 0.8}))
    previous = registry_row(old, stored.version, {"xgboost": stored.version}, {"xgboost": stored.manifest_sha256},
                            {"all": {"xgboost": 1.0}}, [str(stored.path)], _leaderboard({"xgboost": 0.8}).iloc[0],
                            QUANTILES, "r0")
    warehouse.replace_rows("model_registry", previous, ["registry_id"])

    result = _run(resources, _leaderboard({"seasonal_naive": 0.5, "xgboost": 0.7, "lstm": 0.9}))

    assert result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "beats_seasonal_naive")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "xgboost MASE 0.7000 does not beat seasonal_naive MASE 0.5000" in check.description
    assert warehouse.read_table("model_registry")["model_version"].tolist() == [stored.version]
    champion = _materialized(result, "champion_model")
    assert champion["promoted"] is False and champion["kept_champion"] == f"xgboost {stored.version}"
    assert champion["reason"].endswith(f"; xgboost {stored.version} keeps serving")
    assert champion["dagster/row_count"] == 1
    forecast = _materialized(result, "sales_forecast")
    assert forecast["model"] == f"xgboost {stored.version}" and forecast["dagster/row_count"] > 0


def test_with_no_champion_yet_and_no_candidate_beating_it_the_baseline_serves(resources, spark):
    baseline = _stored_baseline(resources)
    _features_in_the_lake(resources, spark)
    board = _leaderboard({"seasonal_naive": 0.5, "xgboost": 0.7}, {"seasonal_naive": baseline.version})

    result = _run(resources, board)

    assert result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "beats_seasonal_naive")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    row = resources["warehouse"].read_table("model_registry").iloc[-1]
    assert (row["model_name"], row["model_version"], row["mase"]) == ("seasonal_naive", baseline.version, 0.5)
    assert json.loads(row["components"])["seasonal_naive"]["manifest_sha256"] == baseline.manifest_sha256
    champion = _materialized(result, "champion_model")
    assert champion["promoted"] is False and champion["registered"] == f"seasonal_naive {baseline.version}"
    assert "kept_champion" not in champion and "the baseline serves" in champion["reason"]
    assert _materialized(result, "sales_forecast")["model"] == f"seasonal_naive {baseline.version}"


def test_a_winning_model_is_registered_with_its_metrics_intervals_and_manifest_hash(resources):
    stored = _stored_xgboost(resources)
    board = _leaderboard({"seasonal_naive": 1.0, "xgboost": 0.7, "lstm": 0.9}, {"xgboost": stored.version})
    result = _run(resources, board, selection=("champion_model",), raise_on_error=True)

    assert result.success

    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "beats_seasonal_naive")
    assert check.passed
    champion = _materialized(result, "champion_model")
    assert champion["promoted"] is True and champion["serving"] == f"xgboost {stored.version}"
    assert champion["dagster/row_count"] == 1
    row = resources["warehouse"].read_table("model_registry").iloc[-1]
    assert (row["model_name"], row["model_version"]) == ("xgboost", stored.version)
    assert row["mase"] == 0.7 and row["baseline_mase"] == 1.0
    assert '"q90":1.0' in row["interval_quantiles"]
    manifest_sha256 = hashlib.sha256((stored.path / MANIFEST).read_bytes()).hexdigest()
    assert json.loads(row["components"]) == {"xgboost": {"version": stored.version, "manifest_sha256": manifest_sha256}}
    assert row["artifact_path"] == str(stored.path)


def test_a_component_whose_files_changed_since_training_is_not_promoted(resources):
    stored = _stored_xgboost(resources)
    (stored.path / "span_01_07.ubj").write_bytes(b"{}")
    board = _leaderboard({"seasonal_naive": 1.0, "xgboost": 0.7}, {"xgboost": stored.version})

    result = _run(resources, board, selection=("champion_model",))

    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert f"model xgboost version {stored.version}: span_01_07.ubj does not match its sha256" in str(failure)
    assert not resources["warehouse"].has_table("model_registry")


def _serve(resources, components: dict) -> str:
    """Register a row naming `components` and run sales_forecast; returns its failure message."""
    warehouse = resources["warehouse"]
    decision = choose_champion(_leaderboard({"seasonal_naive": 1.0, "xgboost": 0.7}))
    row = registry_row(decision, "v", {"xgboost": "v"}, {"xgboost": "0" * 64}, {"all": {"xgboost": 1.0}}, [],
                       _leaderboard({"xgboost": 0.7}).iloc[0], QUANTILES, "r1")
    warehouse.replace_rows("model_registry", row.assign(components=json.dumps(components)), ["registry_id"])
    result = _run(resources, _leaderboard({"seasonal_naive": 1.0}), selection=("sales_forecast",))
    assert not result.success
    return str(result.get_step_failure_events()[0].step_failure_data.error)


def test_serving_refuses_a_model_whose_manifest_differs_from_the_registry_hash(resources):
    stored = _stored_xgboost(resources)
    message = _serve(resources, {"xgboost": {"version": stored.version, "manifest_sha256": "0" * 64}})
    assert f"model xgboost version {stored.version}: metadata.json has sha256 {stored.manifest_sha256}" in message
    assert "the registry recorded " + "0" * 64 in message


def test_serving_refuses_a_registry_row_that_escapes_the_store_or_has_no_hash(resources):
    stored = _stored_xgboost(resources)
    escaping = _serve(resources, {"../../etc": {"version": stored.version, "manifest_sha256": stored.manifest_sha256}})
    assert "model name '../../etc' is not one of the catalog's" in escaping
    unhashed = _serve(resources, {"xgboost": stored.version})
    assert "records no manifest sha256 for ['xgboost']" in unhashed
