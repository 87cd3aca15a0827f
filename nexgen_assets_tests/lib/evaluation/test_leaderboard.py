"""The leaderboard: metrics per model and scope ranked by MASE, and its text chart."""

import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.leaderboard import build_leaderboard, leaderboard_chart
from nexgen_assets.lib.evaluation.metrics import error_sums


def test_chart_has_one_bar_per_model_best_first_and_the_worst_full_width():
    board = pd.DataFrame({"model": ["lstm", "seasonal_naive", "xgboost"], "mase": [0.8, 1.0, 0.5]})
    chart = leaderboard_chart(board, "mase", width=10).splitlines()
    assert chart[0] == "**MASE by model (lower is better)**"
    assert chart[2] == "```" and chart[-1] == "```"
    bars = chart[3:-1]
    assert [line.split()[0] for line in bars] == ["xgboost", "lstm", "seasonal_naive"]
    assert [line.count("█") for line in bars] == [5, 8, 10]
    assert bars[0].endswith(" 0.500") and bars[2].endswith(" 1.000")


def test_chart_of_all_zero_errors_still_draws_a_bar_each():
    board = pd.DataFrame({"model": ["a", "b"], "wape": [0.0, 0.0]})
    bars = leaderboard_chart(board, "wape", width=10).splitlines()[3:-1]
    assert [line.count("█") for line in bars] == [1, 1]


def test_leaderboard_ranks_models_by_mase_overall_and_per_horizon_bucket():
    rows = []
    for model, version, miss in (("seasonal_naive", "sn-v1", 2.0), ("xgboost", "xgb-v1", 1.0)):
        for horizon in (1, 2, 8, 9):
            error = miss if horizon < 8 else miss / 4
            rows.append({"model": model, "model_version": version, "fold": 1, "store_id": "S1", "product_id": "P1",
                         "horizon": horizon, "actual": 10.0, "forecast": 10.0 + error, "scale": 1.0,
                         "p10": 8.0, "p90": 12.0})
    scored = pd.DataFrame(rows)
    sums = error_sums(scored, ["model", "model_version", "fold", "store_id", "product_id", "horizon_bucket"])
    timings = pd.DataFrame({"model": ["seasonal_naive", "xgboost", "xgboost"], "seconds": [0.5, 2.0, 4.0]})
    weights = pd.DataFrame({"model": ["seasonal_naive", "xgboost"], "segment": "all",
                            "component": ["seasonal_naive", "xgboost"], "weight": 1.0})

    board = build_leaderboard(sums, timings, weights)

    assert board["scope"].tolist() == ["all", "all", "h01-07", "h01-07", "h08-14", "h08-14"]
    assert board["model"].tolist() == ["xgboost", "seasonal_naive"] * 3 and board["rank"].tolist() == [1, 2] * 3
    mase = board.set_index(["scope", "model"])["mase"]
    assert mase[("all", "xgboost")] == pytest.approx((1.0 + 1.0 + 0.25 + 0.25) / 4)
    assert mase[("h08-14", "seasonal_naive")] == pytest.approx(0.5)
    assert board.set_index(["scope", "model"])["n"][("h01-07", "xgboost")] == 2
    fit = board.drop_duplicates("model").set_index("model")["fit_seconds_per_fold"]
    assert fit.to_dict() == {"xgboost": 3.0, "seasonal_naive": 0.5}
    assert set(board["model_version"]) == {"sn-v1", "xgb-v1"}


def test_a_blend_row_carries_its_weights_and_the_fit_time_of_its_components():
    scored = pd.DataFrame({"model": ["blend", "xgboost"], "model_version": ["blend-1", "xgb-v1"], "fold": 1,
                           "store_id": "S1", "product_id": "P1", "horizon": 1, "actual": 10.0, "forecast": 9.0,
                           "scale": 1.0, "p10": 8.0, "p90": 12.0})
    sums = error_sums(scored, ["model", "model_version", "fold", "store_id", "product_id", "horizon_bucket"])
    timings = pd.DataFrame({"model": ["lstm", "xgboost"], "seconds": [3.0, 2.0]})
    weights = pd.DataFrame({"model": ["blend", "blend", "xgboost"], "segment": ["fast", "intermittent", "all"],
                            "component": ["lstm", "xgboost", "xgboost"], "weight": [1.0, 1.0, 1.0]})
    board = build_leaderboard(sums, timings, weights).set_index(["scope", "model"])
    assert board.loc[("all", "blend"), "weights"] == '{"fast": {"lstm": 1.0}, "intermittent": {"xgboost": 1.0}}'
    assert board.loc[("all", "blend"), "fit_seconds_per_fold"] == 5.0
    assert board.loc[("all", "xgboost"), "components"] == "xgboost"
