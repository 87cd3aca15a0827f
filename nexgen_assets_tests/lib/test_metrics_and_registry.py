import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.champion import choose_champion, interval_quantiles, registry_row, serving_champion
from nexgen_assets.lib.evaluation.intervals import cross_conformal, quantile_table
from nexgen_assets.lib.evaluation.metrics import error_sums, horizon_bucket, summarize


def test_metrics_match_hand_computed_values():
    scored = pd.DataFrame(
        {"model": "m", "actual": [0.0, 2.0, 4.0, 10.0], "forecast": [1.0, 2.0, 2.0, 10.0],
         "p10": [0.0, 1.0, 3.0, 11.0], "p90": [2.0, 3.0, 5.0, 12.0], "scale": [1.0, 1.0, 2.0, 2.0],
         "horizon": [1, 2, 8, 28]}
    )
    out = summarize(error_sums(scored, ["model"]), ["model"]).iloc[0]
    assert out["mae"] == pytest.approx(3 / 4)
    assert out["rmse"] == pytest.approx(np.sqrt(5 / 4))
    assert out["mase"] == pytest.approx((1 + 0 + 1 + 0) / 4)
    assert out["wape"] == pytest.approx(3 / 16)
    assert out["bias"] == pytest.approx(-1 / 4)
    assert out["coverage_p10_p90"] == pytest.approx(3 / 4)
    assert list(horizon_bucket(scored["horizon"])) == ["h01-07", "h01-07", "h08-14", "h22-28"]


def test_cross_conformal_covers_about_eighty_percent():
    rng = np.random.default_rng(0)
    n = 6000
    scored = pd.DataFrame(
        {"model": "m", "fold": rng.integers(1, 4, n), "horizon": rng.integers(1, 29, n),
         "forecast": rng.uniform(0.5, 30, n), "scale": 1.0}
    )
    scored["actual"] = scored["forecast"] + rng.normal(0, 1, n) * np.sqrt(scored["forecast"] + 0.25)
    covered = cross_conformal(scored)
    inside = ((covered["actual"] >= covered["p10"]) & (covered["actual"] <= covered["p90"])).mean()
    assert 0.75 < inside < 0.85
    assert set(quantile_table(scored)["horizon"]) == set(range(1, 29))


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
