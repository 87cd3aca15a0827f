"""Promotion rules with a real warehouse: only a model that beats the baseline may serve."""

import json

import dagster as dg
import pandas as pd

from nexgen_assets.definitions import all_assets
from nexgen_assets.lib.evaluation.champion import choose_champion, registry_row


def _leaderboard(mase: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"model": m, "model_version": f"{m}-v2", "scope": "all", "mase": v, "rmse": v, "mae": v, "wape": v,
          "bias": 0.0, "coverage_p10_p90": 0.8, "pinball": v, "n": 10, "weights": json.dumps({"all": {m: 1.0}}),
          "components": m, "fit_seconds_per_fold": 1.0, "rank": 1}
         for m, v in mase.items()]
    )


def _run(resources, leaderboard: pd.DataFrame, selection=("champion_model", "sales_forecast"), raise_on_error=False):
    resources["warehouse"].replace_table("model_metrics", leaderboard)
    quantiles = pd.DataFrame({"model": ["xgboost", "lstm"], "level": "series", "segment": "fast", "horizon_bucket": "h01-07",
                              "q10": [-1.0, -1.0], "q50": [0.0, 0.0], "q90": [1.0, 1.0]})
    resources["lake"].write_frame(quantiles, "backtest_interval_quantiles")
    keep = {"model_leaderboard", "champion_model", "sales_forecast"}
    return dg.materialize(
        [a for a in all_assets if {k.path[-1] for k in a.keys} & keep],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        selection=dg.AssetSelection.assets(*selection),
        raise_on_error=raise_on_error,
    )


def test_a_model_that_loses_to_the_baseline_leaves_the_old_champion_serving(resources):
    warehouse = resources["warehouse"]
    old = choose_champion(_leaderboard({"seasonal_naive": 1.0, "lstm": 0.8}))
    quantiles = pd.DataFrame({"level": "series", "segment": "fast", "horizon_bucket": ["h01-07"],
                              "q10": [-1.0], "q50": [0.0], "q90": [1.0]})
    previous = registry_row(old, "lstm-v1", {"lstm": "lstm-v1"}, {"all": {"lstm": 1.0}}, ["/models/lstm/v1"],
                            _leaderboard({"lstm": 0.8}).iloc[0], quantiles, "r0")
    warehouse.replace_rows("model_registry", previous, ["registry_id"])

    result = _run(resources, _leaderboard({"seasonal_naive": 0.5, "xgboost": 0.7, "lstm": 0.9}))

    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "beats_seasonal_naive")
    assert not check.passed
    assert "xgboost MASE 0.7000 does not beat seasonal_naive MASE 0.5000" in check.description
    registry = warehouse.read_table("model_registry")
    assert registry["model_version"].tolist() == ["lstm-v1"]
    built = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert "sales_forecast" not in built


def test_a_winning_model_is_registered_with_its_metrics_and_intervals(resources):
    result = _run(resources, _leaderboard({"seasonal_naive": 1.0, "xgboost": 0.7, "lstm": 0.9}),
                  selection=("champion_model",), raise_on_error=True)

    assert result.success

    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "beats_seasonal_naive")
    assert check.passed
    row = resources["warehouse"].read_table("model_registry").iloc[-1]
    assert (row["model_name"], row["model_version"]) == ("xgboost", "xgboost-v2")
    assert row["mase"] == 0.7 and row["baseline_mase"] == 1.0
    assert '"q90":1.0' in row["interval_quantiles"]
