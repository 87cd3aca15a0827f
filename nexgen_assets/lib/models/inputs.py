"""Read only what a model needs from the Spark feature table into pandas."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nexgen_assets.lib.grain import SERIES_KEYS

TRAINING_HISTORY_DAYS = 730
"""Most recent days of features a model trains on and the backtest reads."""


def recent_features(features: DataFrame, days: int) -> pd.DataFrame:
    """Feature rows of the last `days` observed days plus all future rows, as pandas."""
    last = features.where(~F.col("is_future")).agg(F.max("date")).first()[0]
    if last is None:
        raise ValueError("sales_features has no observed rows; ingest sales first")
    frame = features.where(F.col("date") > F.date_sub(F.lit(last), days)).toPandas()
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


def history_of(features: pd.DataFrame) -> pd.DataFrame:
    """Daily quantity per series (observed rows only) from a feature extract."""
    observed = features[~features["is_future"].astype(bool)]
    return observed[[*SERIES_KEYS, "date", "quantity"]].reset_index(drop=True)


def future_of(features: pd.DataFrame) -> pd.DataFrame:
    """The rows to forecast, without a target column."""
    return features[features["is_future"].astype(bool)].drop(columns=["quantity"]).reset_index(drop=True)
