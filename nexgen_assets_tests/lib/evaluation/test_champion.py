import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.champion import choose_champion, interval_quantiles, registry_row, serving_champion


def _board(mase: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"model": m, "scope": "all", "mase": v, "rmse": v, "mae": v, "wape": v, "coverage_p10_p90": 0.8,
          "model_version": "v1"} for m, v in mase.items()]
    )


def test_champion_must_beat_the_baseline():
    promoted = choose_champion(_board({"seasonal_naive": 1.0, "xgboost": 0.7, "lstm": 0.8}))
    assert promoted.model == "xgboost" and promoted.promoted
    refused = choose_champion(_board({"seasonal_naive": 0.6, "xgboost": 0.7, "lstm": 0.8}))
    assert refused.model == "xgboost" and not refused.promoted
    assert "does not beat seasonal_naive" in refused.reason


def test_registry_serves_the_latest_promotion():
    quantiles = pd.DataFrame({"horizon": [1, 2], "q10": [-1.0, -1.5], "q90": [1.0, 1.5]})
    decision = choose_champion(_board({"seasonal_naive": 1.0, "xgboost": 0.7}))
    first = registry_row(decision, "v1", "/m/v1", _board({"xgboost": 0.7}).iloc[0], quantiles, "run-a")
    second = registry_row(decision, "v2", "/m/v2", _board({"xgboost": 0.6}).iloc[0], quantiles, "run-b")
    second["promoted_at"] = first["promoted_at"] + pd.Timedelta(seconds=5)
    row = serving_champion(pd.concat([second, first]))
    assert row["model_version"] == "v2"
    pd.testing.assert_frame_equal(interval_quantiles(row), quantiles)
    with pytest.raises(LookupError, match="champion_model"):
        serving_champion(pd.DataFrame())
