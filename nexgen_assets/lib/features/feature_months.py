"""sales_features kept by month, so new daily rows rebuild only the feature months that can read them.

A feature of a day reads at most LOOKBACK_DAYS of daily rows before it, so a changed month
of daily_sales changes the feature months from it to LOOKBACK_DAYS after its end, and no
others. A refresh compares the versions of the daily_sales months with those it last built
from (in `_refresh.json` beside the months) and rebuilds those feature months, each stretch
of consecutive months in one Spark job over its daily rows and the LOOKBACK_DAYS before it.
The stretch that reaches the last observed month also writes the future rows. What every
month reads besides the daily rows (product categories, the promotion calendar, the holiday
calendar, the feature set) is summed up in a fingerprint: when it changes, every month is
rebuilt. Either way the months equal a build over the whole history (`build_features`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from nexgen_assets.lib.features.calendar import HolidayCalendar
from nexgen_assets.lib.features.feature_table import LOOKBACK_DAYS, all_feature_columns, build_features
from nexgen_assets.lib.grain import HORIZON_DAYS
from nexgen_assets.lib.storage.lake import RETIRED_GRACE_SECONDS, partition_dir, remove_folder, replace_partitions
from nexgen_assets.lib.storage.monthly import (
    leave_whole_table_layout,
    month_end,
    month_of,
    month_start,
    month_versions,
    months_between,
    months_to_publish,
    next_month,
    read_state,
    stored_months,
    write_state,
)

MONTH = "_month"


@dataclass
class FeatureState:
    daily_versions: dict[str, str] = field(default_factory=dict)
    inputs: str = ""

    @classmethod
    def load(cls, table_dir: Path) -> FeatureState | None:
        raw = read_state(table_dir)
        return None if raw is None else cls(**raw)

    def save(self, table_dir: Path) -> None:
        write_state(table_dir, asdict(self))


@dataclass(frozen=True)
class FeatureRefresh:
    rebuilt: list[str]
    removed: list[str]
    rows_written: int
    full: bool

    def metadata(self) -> dict:
        return {
            "months_rebuilt": len(self.rebuilt),
            "first_month_rebuilt": self.rebuilt[0] if self.rebuilt else "",
            "months_removed": len(self.removed),
            "rows_written": self.rows_written,
            "full_rebuild": self.full,
        }


def inputs_fingerprint(products: pd.DataFrame, promotions: pd.DataFrame | None, holidays: HolidayCalendar) -> str:
    """One hash of everything a feature month reads besides the daily rows."""
    digest = hashlib.sha256()
    digest.update(json.dumps([asdict(holidays), all_feature_columns(), LOOKBACK_DAYS, HORIZON_DAYS]).encode())
    for frame in (products, promotions):
        if frame is not None and len(frame):
            ordered = frame.sort_values(list(frame.columns)).reset_index(drop=True)
            digest.update(pd.util.hash_pandas_object(ordered.astype(str), index=False).to_numpy().tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def months_reading(changed: list[str], last_month: str) -> set[str]:
    """The feature months whose days read a daily row of a changed month (up to `last_month`)."""
    months: set[str] = set()
    for month in changed:
        reach = min(last_month, month_of(month_end(month) + dt.timedelta(days=LOOKBACK_DAYS)))
        months.update(months_between(month, reach))
    return months


def _stretches(months: list[str]) -> list[list[str]]:
    """Consecutive months in runs, each built in one job."""
    stretches: list[list[str]] = []
    for month in sorted(months):
        if stretches and next_month(stretches[-1][-1]) == month:
            stretches[-1].append(month)
        else:
            stretches.append([month])
    return stretches


class MonthlyFeatures:
    """The monthly sales_features table under `lake_root`, refreshed from the monthly daily_sales."""

    def __init__(self, spark: SparkSession, lake_root: str | Path, grace: float = RETIRED_GRACE_SECONDS):
        self.spark = spark
        self.daily_dir = Path(lake_root) / "daily_sales"
        self.table_dir = Path(lake_root) / "sales_features"
        self.grace = grace

    def refresh(
        self, products: DataFrame, promotions: DataFrame | None, holidays: HolidayCalendar, inputs: str, full: bool = False
    ) -> FeatureRefresh:
        """Rebuild the feature months that read changed daily months (all of them when `full`, when the inputs'
        fingerprint changed, or when the table was never built by month)."""
        leave_whole_table_layout(self.table_dir, self.grace)
        state = None if full else FeatureState.load(self.table_dir)
        daily = stored_months(self.daily_dir)
        current = month_versions(self.daily_dir)
        if not daily:
            raise ValueError("sales_features needs daily_sales; it has no months yet")
        last_daily = max(daily)
        rebuild_all = state is None or state.inputs != inputs
        if rebuild_all:
            affected = set(months_between(min(daily), last_daily))
        else:
            changed, gone = months_to_publish(state.daily_versions, current)
            affected = months_reading([*changed, *gone], last_daily)
            if state.daily_versions and max(state.daily_versions) != last_daily:
                affected.add(last_daily)
        rebuilt, removed, rows = [], [], 0
        for stretch in _stretches(sorted(affected)):
            written = self._build_stretch(stretch, daily, last_daily, products, promotions, holidays)
            rows += sum(written.values())
            rebuilt += sorted(set(stretch) | set(written))
            reaches_end = stretch[-1] == last_daily
            for month in stored_months(self.table_dir):
                if month >= stretch[0] and (reaches_end or month <= stretch[-1]) and month not in written:
                    remove_folder(partition_dir(self.table_dir, month), self.grace)
                    removed.append(month)
        removed += self._remove_before(min(daily))
        FeatureState(current, inputs).save(self.table_dir)
        return FeatureRefresh(sorted(set(rebuilt)), sorted(set(removed)), rows, rebuild_all)

    def _remove_before(self, first: str) -> list[str]:
        """Feature months before the first daily month (the future rows' months are kept by the last stretch)."""
        removed = []
        for month in stored_months(self.table_dir):
            if month < first:
                remove_folder(partition_dir(self.table_dir, month), self.grace)
                removed.append(month)
        return removed

    def _build_stretch(
        self, stretch: list[str], daily: dict[str, Path], last_daily: str, products: DataFrame,
        promotions: DataFrame | None, holidays: HolidayCalendar,
    ) -> dict[str, int]:
        """Features of the stretch's days (and the future rows when it reaches the last daily month) from its
        daily rows and the LOOKBACK_DAYS before; rows per month written."""
        first_day = month_start(stretch[0])
        window_start = month_of(first_day - dt.timedelta(days=LOOKBACK_DAYS))
        folders = [str(folder) for month, folder in sorted(daily.items()) if window_start <= month <= stretch[-1]]
        window = self.spark.read.parquet(*folders)
        features = build_features(window, products, promotions, holidays=holidays).where(F.col("date") >= F.lit(first_day))
        if stretch[-1] != last_daily:
            features = features.where(F.col("date") <= F.lit(month_end(stretch[-1])))
        return replace_partitions(
            features.withColumn(MONTH, F.date_format("date", "yyyy-MM")), self.table_dir, MONTH, self.grace
        )
