"""Spark frames brought to the driver as plain pandas frames."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame


def collect_pandas(frame: DataFrame) -> pd.DataFrame:
    """`frame.toPandas()` carrying data only.

    A Spark Connect client attaches its plan metrics to the frame's `attrs`; pandas carries
    attrs through every operation and `to_parquet` then fails to serialise them, so a model
    or table saved from a collected frame would fail under `nexgen dev` only. They are dropped.
    """
    collected = frame.toPandas()
    collected.attrs = {}
    return collected
