"""Every NEXGEN_* setting in one place: typed, documented, and read from the environment once.

Code asks `current()` (read on first use, then kept for the process) or builds a
`Settings.from_env()` of its own where a fresh read is the point (tests, `nexgen --home`).
Secrets (database URLs) are kept out of `repr` and reach resources only as `dg.EnvVar`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nexgen_assets.lib.features.calendar import FISCAL_CALENDARS, HolidayCalendar, unknown_country, unknown_subdivision
from nexgen_assets.lib.ingestion.contract import EARLIEST_DATE
from nexgen_assets.lib.models.grouped import GLOBAL, training_groups_problem

WAREHOUSE_URL_VARIABLE = "NEXGEN_WAREHOUSE_URL"
DAGSTER_STORAGE_URL_VARIABLE = "NEXGEN_DAGSTER_STORAGE_URL"
SOURCE_DB_URL_VARIABLE = "NEXGEN_SOURCE_DB_URL"


def _setting(variable: str, default, doc: str, secret: bool = False):
    return field(default=default, repr=not secret, metadata={"variable": variable, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """The platform's settings; each field names its environment variable and says what it sets."""

    home: Path = _setting("NEXGEN_HOME", Path("data"), "Root of local state: landing zone, lake, warehouse, models.")
    spark_master: str = _setting(
        "NEXGEN_SPARK_MASTER", "local[*]", "Spark master: local[*], spark://, yarn, k8s://, or sc:// for Spark Connect."
    )
    spark_connect_port: int = _setting("NEXGEN_SPARK_CONNECT_PORT", 15002, "Port of the local Spark Connect server.")
    spark_connect_host: str = _setting(
        "NEXGEN_SPARK_CONNECT_HOST", "127.0.0.1",
        "Address the local Spark Connect server binds; 127.0.0.1 keeps it to this machine. Any other address "
        "(0.0.0.0 = every interface) exposes code execution as this user to anyone who reaches it and holds its token.",
    )
    spark_shuffle_partitions: int = _setting("NEXGEN_SPARK_SHUFFLE_PARTITIONS", 8, "spark.sql.shuffle.partitions.")
    spark_driver_memory: str = _setting("NEXGEN_SPARK_DRIVER_MEMORY", "4g", "spark.driver.memory.")
    spark_log_level: str = _setting("NEXGEN_SPARK_LOG_LEVEL", "ERROR", "Log level of Spark's own logging.")
    lake_root: str | None = _setting("NEXGEN_LAKE", None, "Root of the Parquet lake (default $NEXGEN_HOME/lake).")
    warehouse_url: str | None = _setting(
        WAREHOUSE_URL_VARIABLE, None, "SQLAlchemy URL of the warehouse (default SQLite under $NEXGEN_HOME/warehouse).", True
    )
    dagster_storage_url: str | None = _setting(
        DAGSTER_STORAGE_URL_VARIABLE, None,
        "PostgreSQL URL of the Dagster instance's runs, events and schedules (default SQLite in DAGSTER_HOME); "
        "the dagster.yaml nexgen writes reads it from this variable at run time.", True,
    )
    model_store_root: str | None = _setting("NEXGEN_MODEL_STORE", None, "Model artifacts (default $NEXGEN_HOME/models).")
    exports_folder: str | None = _setting(
        "NEXGEN_EXPORTS", None, "Folder of Parquet marts, .pbids and dashboard.html (default $NEXGEN_HOME/exports)."
    )
    source_db_url: str | None = _setting(SOURCE_DB_URL_VARIABLE, None, "URL of the order-lines source; unset = off.", True)
    source_db_table: str = _setting("NEXGEN_SOURCE_DB_TABLE", "order_lines", "Source table with one row per order line.")
    source_db_watermark: str = _setting("NEXGEN_SOURCE_DB_WATERMARK", "updated_at", "Source column that only grows.")
    source_db_overlap_seconds: int = _setting(
        "NEXGEN_SOURCE_DB_OVERLAP_SECONDS", 300,
        "Seconds of a time watermark each source batch re-reads before its start, for rows that commit late.",
    )
    source_db_deleted_column: str | None = _setting(
        "NEXGEN_SOURCE_DB_DELETED_COLUMN", None,
        "Source column marking a deleted order line (a yes/no flag or a deleted_at time); unset = lines are never deleted.",
    )
    source_db_interval_seconds: int = _setting("NEXGEN_SOURCE_DB_INTERVAL_SECONDS", 60, "Seconds between source-database polls.")
    earliest_date: dt.date = _setting(
        "NEXGEN_EARLIEST_DATE", EARLIEST_DATE,
        "Sales, stock and promotions dated before this are rejected (ancient_date): a typo year, not history.",
    )
    landing_interval_seconds: int = _setting("NEXGEN_LANDING_INTERVAL_SECONDS", 5, "Seconds between landing-folder scans.")
    powerbi_server: str | None = _setting(
        "NEXGEN_POWERBI_SERVER", None, "SQL Server (host or host,port) the .pbids file opens; default from the warehouse URL."
    )
    powerbi_database: str | None = _setting("NEXGEN_POWERBI_DATABASE", None, "Database the .pbids file opens.")
    powerbi_mode: str = _setting("NEXGEN_POWERBI_MODE", "Import", "Power BI connection mode: Import or DirectQuery.")
    retrain_cron: str = _setting("NEXGEN_RETRAIN_CRON", "0 3 * * 0", "When the models are retrained (cron).")
    forecast_cron: str = _setting("NEXGEN_FORECAST_CRON", "0 5 * * *", "When the forecast is refreshed (cron).")
    forecast_archive_days: int = _setting(
        "NEXGEN_FORECAST_ARCHIVE_DAYS", 730,
        "Forecast runs kept in fact_forecast (with their level and accuracy rows): forecast_accuracy removes runs whose "
        "origin is more than this many days before the newest origin, never the serving run. 0 = keep all.",
    )
    timezone: str = _setting("NEXGEN_TIMEZONE", "UTC", "Time zone of the schedules.")
    holiday_country: str = _setting(
        "NEXGEN_HOLIDAY_COUNTRY", "US",
        "Country (ISO code: US, GB, DE, ...) whose public holidays the features and dim_date see, from the holidays package.",
    )
    holiday_subdivision: str | None = _setting(
        "NEXGEN_HOLIDAY_SUBDIVISION", None, "Subdivision of that country (a US state, a German Land, ...); unset = national."
    )
    retail_events: bool = _setting(
        "NEXGEN_RETAIL_EVENTS", True,
        "Add retail events (Black Friday, Mother's Day, ...) by each country's rule on top of public holidays; false = off.",
    )
    fiscal_calendar: str = _setting(
        "NEXGEN_FISCAL_CALENDAR", "calendar_months",
        "dim_date's fiscal fields: calendar_months (year from February 1) or 4-5-4 (NRF retail weeks).",
    )
    code_repository_url: str | None = _setting(
        "NEXGEN_CODE_REPOSITORY_URL", None,
        "GitHub or GitLab URL of this code's repository (https://github.com/org/repo); set = every asset in the UI "
        "links to its source there, unset = to the local file.",
    )
    code_repository_branch: str = _setting(
        "NEXGEN_CODE_REPOSITORY_BRANCH", "main", "Branch the source links of NEXGEN_CODE_REPOSITORY_URL point at."
    )
    training_max_rows: int = _setting(
        "NEXGEN_TRAINING_MAX_ROWS", 2_000_000,
        "Most observed feature rows (series x day) training and the backtest collect from Spark to the driver; "
        "above it a fixed hash sample of (series, day) is kept, the daily history stays complete. 0 = no cap.",
    )
    backtest_max_series: int = _setting(
        "NEXGEN_BACKTEST_MAX_SERIES", 0,
        "Most series the backtest refits and scores; above it a fixed hash sample of the series observed in its "
        "window. 0 = every series. A cap bounds the backtest on a large catalogue, at the cost of aggregate "
        "intervals calibrated on sums of the sampled series.",
    )
    training_groups: str = _setting(
        "NEXGEN_TRAINING_GROUPS", GLOBAL,
        "Which stores each model learns from: global = one model over every store; store = one model per store; "
        "store_groups:N = one per group of stores hashed (CRC-32 of the store id) into N groups. Per group, the models "
        "train and forecast in parallel on Spark's executors; the per-series statistical ones forecast the same.",
    )
    min_free_disk_gib: float = _setting(
        "NEXGEN_MIN_FREE_DISK_GIB", 2.0, "`nexgen run` refuses to start with less free disk than this under NEXGEN_HOME."
    )
    log_level: str = _setting(
        "NEXGEN_LOG_LEVEL", "info",
        "What `nexgen run` prints: info = progress lines; debug = also Dagster, Spark and TensorFlow output.",
    )

    def __post_init__(self) -> None:
        """Refuse, naming its variable, a holiday region the holidays package lacks or an unknown fiscal calendar."""
        problems = {
            "holiday_country": unknown_country(self.holiday_country),
            "holiday_subdivision": unknown_subdivision(self.holiday_country, self.holiday_subdivision),
            "fiscal_calendar": None if self.fiscal_calendar in FISCAL_CALENDARS else f"expected {' or '.join(FISCAL_CALENDARS)}",
            "forecast_archive_days": "expected 0 (keep all) or more days" if self.forecast_archive_days < 0 else None,
            "training_max_rows": "expected 0 (no cap) or more rows" if self.training_max_rows < 0 else None,
            "backtest_max_series": "expected 0 (no cap) or more series" if self.backtest_max_series < 0 else None,
            "training_groups": training_groups_problem(self.training_groups),
        }
        for name, problem in problems.items():
            if problem:
                variable = self.__dataclass_fields__[name].metadata["variable"]
                raise ValueError(f"{variable}={getattr(self, name)!r}: {problem}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment; ValueError names a variable whose value has the wrong type."""
        environ = os.environ if environ is None else environ
        values = {}
        for spec in dataclasses.fields(cls):
            raw = environ.get(spec.metadata["variable"])
            if raw is None or raw.strip() == "":
                continue
            values[spec.name] = _parse(spec, raw.strip())
        settings = cls(**values)
        return dataclasses.replace(settings, home=Path(settings.home).resolve())

    @property
    def lake(self) -> str:
        return self.lake_root or str(self.home / "lake")

    @property
    def model_store(self) -> str:
        return self.model_store_root or str(self.home / "models")

    @property
    def exports(self) -> str:
        return self.exports_folder or str(self.home / "exports")

    @property
    def incoming(self) -> Path:
        return self.home / "incoming"

    @property
    def mappings(self) -> Path:
        return self.home / "mappings"

    @property
    def staging(self) -> Path:
        """Private copies of landed files while they are read (never inside the landing folder)."""
        return self.home / "staging"

    @property
    def embedded_warehouse_url(self) -> str:
        return f"sqlite:///{self.home / 'warehouse' / 'nexgen.db'}"

    @property
    def holiday_calendar(self) -> HolidayCalendar:
        """The holiday calendar these settings choose."""
        return HolidayCalendar(self.holiday_country, self.holiday_subdivision, self.retail_events)

    def with_home(self, home: Path) -> Settings:
        return dataclasses.replace(self, home=Path(home).resolve())


_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _parse(spec: dataclasses.Field, raw: str):
    if spec.type in ("int", int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{spec.metadata['variable']}={raw!r}: expected a whole number") from None
    if spec.type in ("float", float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{spec.metadata['variable']}={raw!r}: expected a number") from None
    if spec.type in ("bool", bool):
        if raw.lower() not in _BOOLEANS:
            raise ValueError(f"{spec.metadata['variable']}={raw!r}: expected true or false")
        return _BOOLEANS[raw.lower()]
    if spec.type in ("Path", Path):
        return Path(raw)
    if spec.type in ("dt.date", dt.date):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{spec.metadata['variable']}={raw!r}: expected an ISO date such as 1990-01-01") from None
    return raw


def variables() -> dict[str, str]:
    """Environment variable -> what it sets, for documentation and the CLI."""
    return {spec.metadata["variable"]: spec.metadata["doc"] for spec in dataclasses.fields(Settings)}


@functools.cache
def current() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()
