"""Read only what a model needs from the Spark feature table into pandas.

Three reads, each as narrow or as small as its use allows: the daily history of every
series (keys, date, quantity: what the statistical models, the LSTM and the backtest's
cut-offs read), the wide feature rows the tree models fit on (sampled in Spark before
collect when there are more than a cap), and the wide future rows a forecast predicts.
The backtest may first keep a fixed sample of the series (`sample_series`), so its refits
stop growing with the number of series.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from nexgen_assets.lib.grain import SERIES_KEYS
from nexgen_assets.lib.storage.collect import collect_pandas

TRAINING_HISTORY_DAYS = 730
"""Most recent days of features a model trains on and the backtest reads."""
TRAINING_SAMPLE_SEED = 0
"""Seed of the feature-row sample: a fixed one keeps the same rows in every run and backtest fold."""
_HASH_BUCKETS = 1 << 32
HISTORY_COLUMNS = [*SERIES_KEYS, "date", "quantity"]


def last_observed_day(features: DataFrame) -> dt.date:
    """The newest day with observed sales; ValueError when there is none."""
    last = features.where(~F.col("is_future")).agg(F.max("date")).first()[0]
    if last is None:
        raise ValueError("sales_features has no observed rows; ingest sales first")
    return last


def _recent_observed(features: DataFrame, days: int) -> DataFrame:
    """Observed rows of the last `days` observed days (nothing collected yet)."""
    last = last_observed_day(features)
    return features.where(~F.col("is_future") & (F.col("date") > F.date_sub(F.lit(last), days)))


def _collect(rows: DataFrame) -> pd.DataFrame:
    frame = collect_pandas(rows)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


def daily_history(features: DataFrame, days: int) -> pd.DataFrame:
    """Daily quantity of every series on the last `days` observed days: narrow and never sampled."""
    return _collect(_recent_observed(features, days).select(*HISTORY_COLUMNS))


def future_rows(features: DataFrame) -> pd.DataFrame:
    """Every feature row to forecast, without a target column."""
    return _collect(features.where(F.col("is_future")).drop("quantity"))


@dataclass(frozen=True)
class SeriesSample:
    """The feature rows of the series a backtest scores: every series, or the `max_series` series observed in its
    window with the smallest hash of (store, product, seed) when there are more."""

    features: DataFrame
    series_total: int | None
    """Series observed in the window; None when no cap was asked for (then nothing is counted)."""
    series_kept: int | None

    @property
    def sampled(self) -> bool:
        return self.series_total is not None and self.series_kept < self.series_total

    def metadata(self) -> dict[str, int | bool]:
        counted = {} if self.series_total is None else {"series_total": self.series_total, "series_backtested": self.series_kept}
        return {**counted, "series_sampled": self.sampled}


def sample_series(
    features: DataFrame, max_series: int | None, days: int, seed: int = TRAINING_SAMPLE_SEED
) -> SeriesSample:
    """The feature table, or (above `max_series` series observed in the last `days` days; None or 0 = no cap,
    and no Spark job) every row of the `max_series` of them with the smallest hash.

    The hash depends on the series and the seed alone, so the same series are kept in every run, a new series
    enters only by displacing one, and a series that stopped selling leaves the window and the sample. The kept
    keys are collected (at most `max_series` rows) and joined back as a broadcast, so later reads do not repeat
    the ranking."""
    if not max_series:
        return SeriesSample(features, None, None)
    series = _recent_observed(features, days).select(*SERIES_KEYS).distinct()
    total = series.count()
    if total <= max_series:
        return SeriesSample(features, total, total)
    ranked = series.withColumn("_rank", F.xxhash64(*[F.col(k) for k in SERIES_KEYS], F.lit(seed)))
    kept = ranked.orderBy("_rank", *SERIES_KEYS).limit(max_series).drop("_rank").collect()
    keys = features.sparkSession.createDataFrame(kept, series.schema)
    return SeriesSample(features.join(F.broadcast(keys), on=SERIES_KEYS, how="left_semi"), total, len(kept))


def observed_rows_within(features: DataFrame, windows: Sequence[tuple[dt.date, dt.date]]) -> pd.DataFrame:
    """Every observed feature row dated in one of the windows (after start, up to end): the days a backtest scores."""
    inside = F.lit(False)
    for start, end in windows:
        inside = inside | ((F.col("date") > F.lit(start)) & (F.col("date") <= F.lit(end)))
    return _collect(features.where(~F.col("is_future") & inside))


def _sample_bucket(seed: int) -> Column:
    """A number in [0, 2^32) fixed by (series, date, seed) alone: which rows a sample keeps never depends
    on the window read, the partitioning or the run."""
    return F.pmod(F.xxhash64(*[F.col(k) for k in SERIES_KEYS], F.col("date"), F.lit(seed)), F.lit(_HASH_BUCKETS))


@dataclass(frozen=True)
class TrainingExtract:
    """What fitting reads: the complete daily history and the observed feature rows, a sample of them when
    more than the cap were available."""

    history: pd.DataFrame
    feature_rows: pd.DataFrame
    observed_rows: int
    """Observed feature rows in the window, before sampling (= rows of `history`)."""
    sampled: bool

    @property
    def sampled_fraction(self) -> float:
        """Share of the observed feature rows collected: 1.0 = all, 0.0 = none were read."""
        return len(self.feature_rows) / self.observed_rows if self.observed_rows else 1.0

    def metadata(self) -> dict[str, int | float | bool]:
        """Materialization metadata: rows collected from Spark and whether the feature rows were a sample."""
        return {
            "history_rows": len(self.history),
            "feature_rows_observed": self.observed_rows,
            "feature_rows_collected": len(self.feature_rows),
            "feature_rows_sampled": self.sampled,
            "sampled_fraction": round(self.sampled_fraction, 4),
        }


def training_extract(
    features: DataFrame,
    days: int,
    max_feature_rows: int | None,
    seed: int = TRAINING_SAMPLE_SEED,
    with_feature_rows: bool = True,
) -> TrainingExtract:
    """The last `days` observed days: the daily history in full, and the wide feature rows, sampled in Spark by
    a hash of (series, date, seed) to about `max_feature_rows` when more are available (None or 0 = never sampled).
    `with_feature_rows=False` reads none (an empty frame) for models that fit on the history alone.
    Future rows are never included, so nothing after the last observed day reaches a fit."""
    recent = _recent_observed(features, days)
    history = _collect(recent.select(*HISTORY_COLUMNS))
    observed = len(history)
    if not with_feature_rows:
        return TrainingExtract(history, pd.DataFrame(columns=features.columns), observed, sampled=False)
    rows, sampled = _sampled(recent, observed, max_feature_rows, seed)
    return TrainingExtract(history, _collect(rows), observed, sampled)


def _sampled(recent: DataFrame, observed: int, max_feature_rows: int | None, seed: int) -> tuple[DataFrame, bool]:
    """The observed rows, kept by a hash of (series, date, seed) to about `max_feature_rows` when there are more."""
    if not max_feature_rows or observed <= max_feature_rows:
        return recent, False
    kept = max(1, round(max_feature_rows / observed * _HASH_BUCKETS))
    return recent.where(_sample_bucket(seed) < F.lit(kept)), True


@dataclass(frozen=True)
class TrainingFrames:
    """What fitting reads, left in Spark for executors to read per group: the daily history and the feature rows
    (None for models that fit on the history alone), sampled exactly as `training_extract` samples them."""

    history: DataFrame
    feature_rows: DataFrame | None
    observed_rows: int
    sampled: bool


def training_frames(
    features: DataFrame,
    days: int,
    max_feature_rows: int | None,
    seed: int = TRAINING_SAMPLE_SEED,
    with_feature_rows: bool = True,
) -> TrainingFrames:
    """The Spark frames of `training_extract`, nothing collected: one count of the window's observed rows decides
    the sample."""
    recent = _recent_observed(features, days)
    history = recent.select(*HISTORY_COLUMNS)
    if not with_feature_rows:
        return TrainingFrames(history, None, 0, sampled=False)
    observed = history.count()
    rows, sampled = _sampled(recent, observed, max_feature_rows, seed)
    return TrainingFrames(history, rows, observed, sampled)


def history_of(features: pd.DataFrame) -> pd.DataFrame:
    """Daily quantity per series (observed rows only) from a pandas feature panel."""
    observed = features[~features["is_future"].astype(bool)]
    return observed[HISTORY_COLUMNS].reset_index(drop=True)


def future_of(features: pd.DataFrame) -> pd.DataFrame:
    """The rows to forecast of a pandas feature panel, without a target column."""
    return features[features["is_future"].astype(bool)].drop(columns=["quantity"]).reset_index(drop=True)
