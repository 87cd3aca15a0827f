"""Fast and intermittent movers, told apart by their recent zero days."""

import numpy as np
import pandas as pd

from nexgen_assets.lib.evaluation.segments import RECENT_DAYS, series_segments


def test_a_series_mostly_at_zero_lately_is_intermittent_even_if_it_once_sold_well():
    days = pd.date_range("2024-01-01", periods=200).date
    fast = np.full(200, 5.0)
    faded = np.where(np.arange(200) < 200 - RECENT_DAYS, 20.0, np.where(np.arange(200) % 4 == 0, 1.0, 0.0))
    history = pd.concat([
        pd.DataFrame({"store_id": "S1", "product_id": "FAST", "date": days, "quantity": fast}),
        pd.DataFrame({"store_id": "S1", "product_id": "FADED", "date": days, "quantity": faded}),
        pd.DataFrame({"store_id": "S1", "product_id": "OLD", "date": days[:50], "quantity": 3.0}),
    ])
    segments = series_segments(history).set_index("product_id")["segment"]
    assert segments.to_dict() == {"FAST": "fast", "FADED": "intermittent", "OLD": "intermittent"}
