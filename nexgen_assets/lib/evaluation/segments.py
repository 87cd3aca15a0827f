"""Demand segments: fast movers and intermittent (slow) movers, told apart by recent zero days.

Intermittent series are forecast and calibrated apart because their errors have another
shape (mostly zeros, a rare sale), and methods built for them often beat global models.
"""

from __future__ import annotations

import pandas as pd

from nexgen_assets.lib.grain import SERIES_KEYS

SEGMENTS = ("fast", "intermittent")
RECENT_DAYS = 56
INTERMITTENT_ZERO_SHARE = 0.5
"""A series with zero sales on at least this share of its last RECENT_DAYS days is intermittent."""


def series_segments(history: pd.DataFrame) -> pd.DataFrame:
    """One row per series of `history` with its segment at the last day of history."""
    days = pd.to_datetime(history["date"])
    recent = history[days > days.max() - pd.Timedelta(days=RECENT_DAYS)]
    zero_share = (recent["quantity"] <= 0).groupby([recent[c] for c in SERIES_KEYS]).mean()
    segments = zero_share.rename("zero_share").reset_index()
    all_series = history[SERIES_KEYS].drop_duplicates()
    segments = all_series.merge(segments, on=SERIES_KEYS, how="left")
    segments["segment"] = SEGMENTS[0]
    segments.loc[segments["zero_share"].fillna(1.0) >= INTERMITTENT_ZERO_SHARE, "segment"] = SEGMENTS[1]
    return segments[[*SERIES_KEYS, "segment"]].reset_index(drop=True)
