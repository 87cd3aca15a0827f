"""daily_sales kept by month, so a landed file rebuilds only the months it touches.

The table is stored one lake partition per month (`part=YYYY-MM`). A refresh compares the
versions of the clean_sales and raw_inventory partitions (one per landed file or source
batch) with those it last built from, kept in `_refresh.json` beside the months, and rebuilds:

- every month a new, changed or removed file has rows in (before or after the change);
- the months between the old and the new last day, when the last day moved (every live
  series runs to it);
- the month after a rebuilt month when what that month carries forward changed: the series
  alive at its end, their last price and their last stock snapshot. So a late file that
  changes a price or a first sale rebuilds later months only as far as the change reaches.

Each stretch of consecutive months is computed in one Spark job, seeded with the values the
month before carries, and equals the same days of a full rebuild (`aggregate_daily`).
"""

from __future__ import annotations

import datetime as dt
import os
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from nexgen_assets.lib.cleaning.daily import fill_days, order_days
from nexgen_assets.lib.grain import SERIES_KEYS
from nexgen_assets.lib.storage.lake import RETIRED_GRACE_SECONDS, partition_dir, remove_folder, replace_partitions
from nexgen_assets.lib.storage.monthly import (
    folder_version,
    leave_whole_table_layout,
    month_end,
    month_of,
    month_start,
    months_between,
    next_month,
    partition_folders,
    read_state,
    stored_months,
    write_state,
)

SOURCE_DATES = {"clean_sales": "order_date", "raw_inventory": "snapshot_date"}
"""The tables daily_sales is built from, and the day column that places each row in a month."""

MONTH = "_month"


@dataclass(frozen=True)
class Source:
    """One partition of a source table as last read: its version, the months it has rows in, its last day."""

    version: str
    months: list[str]
    last_date: str | None


@dataclass
class RefreshState:
    sources: dict[str, Source] = field(default_factory=dict)
    last_day: str | None = None
    repeated_lines: dict[str, int] = field(default_factory=dict)
    """Order lines per month that arrived in more than one file (counted when the month is rebuilt)."""
    stockout_days: dict[str, int] = field(default_factory=dict)
    """Series-days per month with no stock on hand."""

    @classmethod
    def load(cls, table_dir: Path) -> RefreshState | None:
        raw = read_state(table_dir)
        if raw is None:
            return None
        return cls(**{**raw, "sources": {key: Source(**value) for key, value in raw["sources"].items()}})

    def save(self, table_dir: Path) -> None:
        write_state(table_dir, asdict(self))


@dataclass(frozen=True)
class MonthlyRefresh:
    """What one refresh did: the months rebuilt and removed, the rows written, and whether it started from nothing."""

    rebuilt: list[str]
    removed: list[str]
    rows_written: int
    full: bool
    changed_sources: int
    removed_sources: int

    def metadata(self) -> dict:
        return {
            "months_rebuilt": len(self.rebuilt),
            "first_month_rebuilt": self.rebuilt[0] if self.rebuilt else "",
            "last_month_rebuilt": self.rebuilt[-1] if self.rebuilt else "",
            "months_removed": len(self.removed),
            "rows_written": self.rows_written,
            "full_rebuild": self.full,
            "files_changed": self.changed_sources,
            "files_removed": self.removed_sources,
        }


def _describe(spark: SparkSession, table: str, folders: dict[str, Path]) -> dict[str, Source]:
    """Months and last day of each of a table's partitions, in one Spark job over their files."""
    if not folders:
        return {}
    day = SOURCE_DATES[table]
    by_folder = {os.path.realpath(folder): name for name, folder in folders.items()}
    found: dict[str, tuple[set[str], dt.date | None]] = {name: (set(), None) for name in folders}
    rows = (
        spark.read.parquet(*[str(folder) for folder in folders.values()])
        .where(F.col(day).isNotNull())
        .groupBy(F.col("_metadata.file_path").alias("path"), F.date_format(day, "yyyy-MM").alias("month"))
        .agg(F.max(day).alias("last"))
        .collect()
    )
    for row in rows:
        path = urllib.parse.unquote(urllib.parse.urlparse(row["path"]).path)
        name = by_folder[os.path.realpath(os.path.dirname(path))]
        months, last = found[name]
        months.add(row["month"])
        found[name] = (months, row["last"] if last is None else max(last, row["last"]))
    return {
        f"{table}/{name}": Source(folder_version(folders[name]), sorted(months), last.isoformat() if last else None)
        for name, (months, last) in found.items()
    }


def _months_to_extend(old: dt.date | None, new: dt.date) -> list[str]:
    """Months whose last day changes when every live series now runs to `new` instead of `old`.

    A month that ended complete at the earlier of the two days stays as it is.
    """
    if old is None:
        return [month_of(new)]
    earlier, later = min(old, new), max(old, new)
    return months_between(month_of(earlier + dt.timedelta(days=1)), month_of(later))


def _count_by_month(frame: DataFrame, day: str) -> dict[str, int]:
    return {row[0]: row[1] for row in frame.groupBy(F.date_format(day, "yyyy-MM")).count().collect()}


def _read_months(spark: SparkSession, folders: list[Path], day: str, first: dt.date, last: dt.date) -> DataFrame | None:
    if not folders:
        return None
    return spark.read.parquet(*[str(folder) for folder in folders]).where(F.col(day).between(F.lit(first), F.lit(last)))


class MonthlyDaily:
    """The monthly daily_sales table under `lake_root`, refreshed from clean_sales and raw_inventory."""

    def __init__(self, spark: SparkSession, lake_root: str | Path, grace: float = RETIRED_GRACE_SECONDS):
        self.spark = spark
        self.root = Path(lake_root)
        self.table_dir = self.root / "daily_sales"
        self.grace = grace
        self._sources: dict[str, Source] = {}
        """Source partitions of the refresh under way: the months and last day of each (`table/part=...`)."""
        self._folders: dict[str, Path] = {}
        """The folder to read for each of those partitions now."""

    def refresh(self, full: bool = False) -> MonthlyRefresh:
        """Rebuild the months that changed since the last refresh (all of them when `full` or never built)."""
        leave_whole_table_layout(self.table_dir, self.grace)
        state = None if full else RefreshState.load(self.table_dir)
        folders = {table: partition_folders(self.root / table) for table in SOURCE_DATES}
        current = {f"{table}/{name}": folder for table, parts in folders.items() for name, folder in parts.items()}
        known = state.sources if state else {}
        changed = {key for key, folder in current.items() if key not in known or known[key].version != folder_version(folder)}
        removed = set(known) - set(current)
        sources = {key: known[key] for key in current if key not in changed}
        for table, parts in folders.items():
            stale = {name: folder for name, folder in parts.items() if f"{table}/{name}" in changed}
            sources.update(_describe(self.spark, table, stale))

        self._sources, self._folders = sources, current
        last_day = self._last_day()
        stored = stored_months(self.table_dir)
        if last_day is None:
            removed_months = [month for month in stored if remove_folder(partition_dir(self.table_dir, month), self.grace)]
            RefreshState(sources).save(self.table_dir)
            return MonthlyRefresh([], removed_months, 0, state is None, len(changed), len(removed))

        last_month = month_of(last_day)
        touched: set[str] = set()
        for key in changed | removed:
            for source in (sources.get(key), known.get(key)):
                touched.update(source.months if source else ())
        if state is None:
            first = min((m for s in sources.values() for m in s.months if m <= last_month), default=last_month)
            touched.update(months_between(first, last_month))
            for month in [m for m in stored if m < first]:
                remove_folder(partition_dir(self.table_dir, month), self.grace)
                del stored[month]
        elif state.last_day != last_day.isoformat():
            touched.update(_months_to_extend(state.last_day and dt.date.fromisoformat(state.last_day), last_day))

        repeated = dict(state.repeated_lines) if state else {}
        stockouts = dict(state.stockout_days) if state else {}
        removed_months = [
            month for month in stored if month > last_month and remove_folder(partition_dir(self.table_dir, month), self.grace)
        ]
        rebuilt, rows = self._rebuild(sorted(m for m in touched if m <= last_month), last_day, stored, repeated, stockouts)
        for month in removed_months:
            repeated.pop(month, None)
            stockouts.pop(month, None)
        RefreshState(sources, last_day.isoformat(), repeated, stockouts).save(self.table_dir)
        return MonthlyRefresh(rebuilt, removed_months, rows, state is None, len(changed), len(removed))

    def _source_folders(self, table: str, months: list[str]) -> list[Path]:
        wanted = set(months)
        return [
            self._folders[key]
            for key, source in sorted(self._sources.items())
            if key.startswith(f"{table}/") and wanted.intersection(source.months)
        ]

    def _lines(self, months: list[str]) -> DataFrame | None:
        first, last = month_start(months[0]), month_end(months[-1])
        return _read_months(self.spark, self._source_folders("clean_sales", months), "order_date", first, last)

    def _inventory(self, months: list[str]) -> DataFrame | None:
        first, last = month_start(months[0]), month_end(months[-1])
        if not self._folders_of("raw_inventory"):
            return None
        found = _read_months(self.spark, self._source_folders("raw_inventory", months), "snapshot_date", first, last)
        return found if found is not None else self._empty_inventory()

    def _folders_of(self, table: str) -> list[Path]:
        return [folder for key, folder in self._folders.items() if key.startswith(f"{table}/")]

    def _empty_inventory(self) -> DataFrame:
        folder = self._folders_of("raw_inventory")[0]
        return self.spark.read.parquet(str(folder)).limit(0)

    def _last_day(self) -> dt.date | None:
        """The last day of any distinct order line or stock snapshot, as the full build computes it.

        The newest month with a line decides, unless every line of it was deleted at the
        source; then the month before it is looked at, and so on.
        """
        line_months = sorted({m for k, s in self._sources.items() if k.startswith("clean_sales/") for m in s.months})
        inventory_last = max(
            (s.last_date for k, s in self._sources.items() if k.startswith("raw_inventory/") and s.last_date),
            default=None,
        )
        for month in reversed(line_months):
            lines = order_days(self._lines([month]))
            last = lines.agg(F.max("date")).first()[0]
            if last is not None:
                return max(last, dt.date.fromisoformat(inventory_last)) if inventory_last else last
        return None

    def _carried(self, month: str) -> DataFrame | None:
        """What the month before `month` carries into it: each live series' last price and stock snapshot."""
        before = month_of(month_start(month) - dt.timedelta(days=1))
        folder = stored_months(self.table_dir).get(before)
        return None if folder is None else self._last_day_rows(folder)

    def _last_day_rows(self, folder: Path) -> DataFrame:
        days = self.spark.read.parquet(str(folder))
        last = days.agg(F.max("date")).first()[0]
        return days.where(F.col("date") == F.lit(last)).select(*SERIES_KEYS, "avg_price", "stock_on_hand")

    def _carries_differently(self, old_folder: Path | None, month: str) -> bool:
        """True when the rebuilt month ends with other series, prices or stock than before."""
        new_folder = stored_months(self.table_dir).get(month)
        if old_folder is None or new_folder is None:
            return old_folder is not None or new_folder is not None
        old, new = self._last_day_rows(old_folder).alias("old"), self._last_day_rows(new_folder).alias("new")
        joined = old.withColumn("_old", F.lit(1)).join(new.withColumn("_new", F.lit(1)), list(SERIES_KEYS), "full_outer")
        differs = (
            F.col("_old").isNull() | F.col("_new").isNull()
            | ~F.col("old.avg_price").eqNullSafe(F.col("new.avg_price"))
            | ~F.col("old.stock_on_hand").eqNullSafe(F.col("new.stock_on_hand"))
        )
        return bool(joined.where(differs).limit(1).count())

    def _rebuild(self, months: list[str], last_day: dt.date, stored: dict[str, Path], repeated: dict, stockouts: dict):
        """Rebuild `months` in stretches of consecutive months, going on while a month carries something new."""
        pending, rebuilt, rows = list(months), [], 0
        last_month = month_of(last_day)
        while pending:
            stretch = [pending.pop(0)]
            while pending and pending[0] == next_month(stretch[-1]):
                stretch.append(pending.pop(0))
            old_end = stored.get(stretch[-1])
            rows += self._build_stretch(stretch, last_day, repeated, stockouts)
            rebuilt += stretch
            following = next_month(stretch[-1])
            if following <= last_month and following not in pending and self._carries_differently(old_end, stretch[-1]):
                pending.insert(0, following)
        return rebuilt, rows

    def _build_stretch(self, months: list[str], last_day: dt.date, repeated: dict, stockouts: dict) -> int:
        """Compute consecutive months in one job, seeded by the month before, and swap each month in."""
        first_day = month_start(months[0])
        last = min(last_day, month_end(months[-1]))
        raw = self._lines(months)
        carried = self._carried(months[0])
        lines = order_days(raw) if raw is not None else None
        starts = [] if lines is None else [lines.groupBy(*SERIES_KEYS).agg(F.min("date").alias("first_date"))]
        if carried is not None:
            starts.append(carried.select(*SERIES_KEYS, F.lit(first_day).alias("first_date")))
        written: dict[str, int] = {}
        if starts:
            spans = starts[0] if len(starts) == 1 else starts[0].unionByName(starts[1])
            spans = spans.groupBy(*SERIES_KEYS).agg(F.min("first_date").alias("first_date"))
            grid = spans.select(
                *SERIES_KEYS, F.explode(F.sequence("first_date", F.lit(last), F.expr("interval 1 day"))).alias("date")
            )
            daily = fill_days(grid, lines if lines is not None else self._no_lines(), self._inventory(months), carried)
            written = replace_partitions(
                daily.withColumn(MONTH, F.date_format("date", "yyyy-MM")), self.table_dir, MONTH, self.grace
            )
        for month in months:
            repeated[month], stockouts[month] = 0, 0
            if month not in written:
                remove_folder(partition_dir(self.table_dir, month), self.grace)
        if raw is not None:
            read = _count_by_month(raw, "order_date")
            for month, count in _count_by_month(lines, "date").items():
                repeated[month] = read.get(month, 0) - count
        if written:
            folders = [folder for month, folder in stored_months(self.table_dir).items() if month in written]
            frame = self.spark.read.parquet(*[str(folder) for folder in folders])
            for row in frame.groupBy(F.date_format("date", "yyyy-MM").alias("month")).agg(F.sum("stockout")).collect():
                stockouts[row[0]] = int(row[1] or 0)
        return sum(written.values())

    def _no_lines(self) -> DataFrame:
        schema = "store_id string, product_id string, date date, quantity double, revenue double, unit_price double, promo int"
        return self.spark.createDataFrame([], schema)

    def summary(self) -> dict[str, int | str]:
        """Series alive on the last day, first and last day, stockout days and order lines repeated across files."""
        state = RefreshState.load(self.table_dir) or RefreshState()
        months = stored_months(self.table_dir)
        if not months or state.last_day is None:
            return {"series": 0, "first_date": "", "last_date": "", "stockout_days": 0, "lines_repeated_across_files": 0}
        first = self.spark.read.parquet(str(months[min(months)])).agg(F.min("date")).first()[0]
        last = self.spark.read.parquet(str(months[max(months)]))
        return {
            "series": last.where(F.col("date") == F.lit(dt.date.fromisoformat(state.last_day))).count(),
            "first_date": str(first),
            "last_date": state.last_day,
            "stockout_days": sum(state.stockout_days.values()),
            "lines_repeated_across_files": sum(state.repeated_lines.values()),
        }
