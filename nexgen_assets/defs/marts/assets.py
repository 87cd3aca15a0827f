"""Star-schema tables in the warehouse that Power BI reads, the dashboard views, and the files built from them."""

import itertools
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import sqlalchemy as sa
from dagster_pyspark import PySparkResource
from pydantic import Field
from pyspark.sql import functions as F

from nexgen_assets.defs.policies import TRANSIENT_RETRY, WAREHOUSE_POOL
from nexgen_assets.lib.cleaning.daily import DAILY_FLAGS
from nexgen_assets.lib.features.calendar import FiscalCalendar
from nexgen_assets.lib.marts.dashboard import PAGES, dashboard_data, write_dashboard
from nexgen_assets.lib.marts.dimensions import (
    date_dimension,
    date_span,
    product_dimension,
    product_table,
    store_dimension,
    store_table,
)
from nexgen_assets.lib.marts.exports import MART_TABLES, pbids_address, write_parquet_exports, write_pbids
from nexgen_assets.lib.marts.views import apply_views
from nexgen_assets.lib.quality.schemas import DimDateSchema, DimProductSchema, DimStoreSchema
from nexgen_assets.lib.storage.collect import collect_pandas
from nexgen_assets.lib.storage.lake import empty_frame, parquet_batches, partition_dir
from nexgen_assets.lib.storage.monthly import month_end, month_start, month_versions, months_to_publish
from nexgen_assets.lib.storage.warehouse import CHUNK_ROWS, as_flags, to_python_dates
from nexgen_assets.resources import ExportsResource, LakeResource, WarehouseResource
from nexgen_assets.settings import current

FORECAST_DAYS_AHEAD = 366

_dimension = dict(
    group_name="marts",
    kinds={"spark", "sql"},
    io_manager_key="warehouse_io_manager",
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
    automation_condition=dg.AutomationCondition.eager(),
)


# Product and store dimensions can wait: in a run that also forecasts, they go last.
_after_the_forecast = {"dagster/priority": "-1"}


def _listed(lake: LakeResource, table: str) -> pd.DataFrame | None:
    """The accepted rows of a store or product list, None before its asset first ran."""
    return lake.read_frame(table) if lake.exists(table) else None


def _dimension_metadata(frame: pd.DataFrame, listed: pd.DataFrame | None) -> dict:
    return {
        "dagster/row_count": len(frame),
        "listed": 0 if listed is None else len(listed),
        "without_sales": int((~frame["has_sales"]).sum()),
    }


@dg.asset(
    deps=["clean_sales", "raw_products"], metadata={"primary_key": ["product_id"]}, op_tags=_after_the_forecast,
    **_dimension,
)
def dim_product(spark: PySparkResource, lake: LakeResource):
    """Every product sold or in the product list: its name (the list's wins over the latest seen in sales),
    category, brand, subcategory, size, first and last sale and latest price."""
    sold = to_python_dates(
        collect_pandas(product_dimension(lake.read(spark.spark_session, "clean_sales"))), ["first_sale_date", "last_sale_date"]
    )
    listed = _listed(lake, "products")
    frame = product_table(sold, listed)
    DimProductSchema.validate(frame, lazy=True)
    return dg.Output(frame, metadata=_dimension_metadata(frame, listed))


@dg.asset(
    deps=["clean_sales", "raw_stores"], metadata={"primary_key": ["store_id"]}, op_tags=_after_the_forecast,
    **_dimension,
)
def dim_store(spark: PySparkResource, lake: LakeResource):
    """Every store with sales or in the store list: name, region, format and opening date from the list,
    the products it carries and its first and last sale."""
    sold = to_python_dates(
        collect_pandas(store_dimension(lake.read(spark.spark_session, "clean_sales"))), ["first_sale_date", "last_sale_date"]
    )
    listed = _listed(lake, "stores")
    frame = store_table(sold, listed)
    DimStoreSchema.validate(frame, lazy=True)
    return dg.Output(frame, metadata=_dimension_metadata(frame, listed))


class DateDimensionConfig(dg.Config):
    fiscal_year_start_month: int = Field(
        default=2, ge=1, le=12, description="First month of the fiscal year (calendar_months; 4-5-4 takes only 2)."
    )
    fiscal_calendar: FiscalCalendar = Field(
        default=current().fiscal_calendar,
        description="calendar_months, or 4-5-4 (NRF retail weeks); the default comes from NEXGEN_FISCAL_CALENDAR.",
    )


@dg.asset(deps=["daily_sales"], metadata={"primary_key": ["date"]}, **_dimension)
def dim_date(config: DateDimensionConfig, spark: PySparkResource, lake: LakeResource):
    """Every day of the whole years from the first sale to a year past the last (Power BI's marked date table),
    with ISO week, fiscal fields and holidays."""
    bounds = lake.read(spark.spark_session, "daily_sales").agg(F.min("date"), F.max("date")).first()
    frame = date_dimension(
        *date_span(bounds[0], bounds[1], FORECAST_DAYS_AHEAD), config.fiscal_year_start_month,
        config.fiscal_calendar, current().holiday_calendar,
    )
    DimDateSchema.validate(frame, lazy=True)
    return dg.Output(frame, metadata={"dagster/row_count": len(frame)})


@dg.asset(
    deps=["daily_sales"],
    group_name="marts",
    kinds={"parquet", "sql"},
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
    automation_condition=dg.AutomationCondition.eager(),
)
def fact_sales_daily(context: dg.AssetExecutionContext, lake: LakeResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """daily_sales streamed from the lake to the warehouse in batches: the months whose partition changed since the
    last publish, replaced in one transaction (the whole table swapped in on the first publish)."""
    started = time.perf_counter()
    table_dir = lake.table_path("daily_sales")
    current = month_versions(table_dir)
    published = _published_months(context) if warehouse.has_table("fact_sales_daily") else None
    changed, gone = months_to_publish(published, current)
    key, indexes = ("store_id", "product_id", "date"), [("date",)]
    if published is None:
        batches = parquet_batches(table_dir, CHUNK_ROWS)
        deleted, rows = None, warehouse.replace_table("fact_sales_daily", _as_flags(batches), primary_key=key, indexes=indexes)
    else:
        batches = itertools.chain(
            [empty_frame(table_dir)],
            *(parquet_batches(partition_dir(table_dir, month), CHUNK_ROWS) for month in changed),
        )
        deleted, rows = warehouse.replace_where(
            "fact_sales_daily", _as_flags(batches), lambda t: _in_months(t, [*changed, *gone]), primary_key=key, indexes=indexes
        )
    seconds = time.perf_counter() - started
    return dg.MaterializeResult(
        metadata={
            "table": "fact_sales_daily",
            "rows_written": rows,
            "rows_deleted": deleted,
            "months_published": len(changed) if published is not None else len(current),
            "months_removed": len(gone) if published is not None else 0,
            "month_versions": dg.MetadataValue.json(current),
            "dagster/row_count": warehouse.row_count("fact_sales_daily"),
            "dialect": warehouse.dialect,
            "seconds": round(seconds, 2),
            "rows_per_second": int(rows / seconds) if seconds else None,
        }
    )


def _as_flags(batches):
    return (as_flags(batch, DAILY_FLAGS) for batch in batches)


def _published_months(context: dg.AssetExecutionContext) -> dict[str, str] | None:
    """The daily_sales month versions the warehouse copy was last published from; None before the first publish."""
    record = context.instance.get_latest_materialization_event(context.asset_key)
    versions = record.asset_materialization.metadata.get("month_versions") if record else None
    return versions.value if versions is not None else None


def _in_months(table: sa.Table, months: list[str]):
    """Rows whose day falls in one of the months (sa.false() when there are none: nothing is deleted)."""
    if not months:
        return sa.false()
    return sa.or_(*[table.c.date.between(month_start(month), month_end(month)) for month in months])


@dg.asset(
    deps=["fact_sales_daily", "dim_date", "dim_product", "sales_forecast", "sales_forecast_levels", "forecast_accuracy"],
    group_name="marts",
    kinds={"sql"},
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
    automation_condition=dg.AutomationCondition.eager(),
)
def dashboard_views(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The views behind the dashboard pages (sql/<dialect>/010_dashboard_views.sql), recreated in place."""
    views = apply_views(warehouse.engine)
    return dg.MaterializeResult(metadata={"views": ", ".join(views), "dialect": warehouse.dialect})


@dg.asset(
    deps=["dashboard_views", "inventory_plan", "champion_model", "model_leaderboard", "dim_store"],
    group_name="marts",
    kinds={"parquet", "powerbi"},
    automation_condition=dg.AutomationCondition.eager(),
)
def powerbi_exports(warehouse: WarehouseResource, exports: ExportsResource) -> dg.MaterializeResult:
    """Each warehouse mart as Parquet under exports/, and nexgen.pbids opening the SQL Server database."""
    folder = Path(exports.folder)
    present = [t for t in MART_TABLES if warehouse.has_table(t)]
    rows = write_parquet_exports(folder, present, warehouse.table_batches)
    address = pbids_address(exports.sql_server, exports.database, warehouse.resolved_url)
    metadata = {
        "folder": dg.MetadataValue.path(str(folder)),
        "rows": dg.MetadataValue.json(rows),
        "missing_tables": ", ".join(t for t in MART_TABLES if t not in present) or "none",
    }
    if address:
        metadata["pbids"] = dg.MetadataValue.path(str(write_pbids(folder / "nexgen.pbids", *address, exports.mode)))
    else:
        metadata["pbids"] = "not written: the warehouse is not SQL Server and NEXGEN_POWERBI_SERVER is unset"
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    deps=["dashboard_views", "inventory_plan", "forecast_accuracy"],
    group_name="marts",
    kinds={"html"},
    automation_condition=dg.AutomationCondition.eager(),
)
def sales_dashboard(warehouse: WarehouseResource, exports: ExportsResource) -> dg.MaterializeResult:
    """exports/dashboard.html: the five dashboard pages in one file that opens offline, from the views."""
    data = dashboard_data(warehouse.engine)
    path = write_dashboard(Path(exports.folder) / "dashboard.html", data)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "pages": ", ".join(title for _, title in PAGES),
            "days_of_sales": len(data["trend"]),
            "forecast_days": len(data["forecast"]),
            "bytes": path.stat().st_size,
        }
    )
