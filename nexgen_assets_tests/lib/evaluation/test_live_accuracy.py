"""Judging live accuracy against the backtest's promise."""

import pandas as pd

from nexgen_assets.lib.evaluation.live_accuracy import judge_live_accuracy


def test_too_few_points_is_not_judged():
    scored = pd.DataFrame({"model_name": ["xgboost"], "model_version": ["v1"], "actual": [5.0],
                           "p10": [8.0], "p50": [10.0], "p90": [12.0]})
    verdict = judge_live_accuracy(scored, "xgboost", "v1", promised_wape=0.1, margin=0.2, min_points=10)
    assert verdict.passed and verdict.live_wape is None and "judging needs 10" in verdict.description
    verdict = judge_live_accuracy(scored, "xgboost", "v1", promised_wape=0.1, margin=0.2, min_points=1)
    assert not verdict.passed and verdict.live_wape == 1.0
