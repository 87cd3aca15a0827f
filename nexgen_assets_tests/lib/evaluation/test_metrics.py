import numpy as np
import pandas as pd
import pytest

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
