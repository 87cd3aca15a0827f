"""A Power BI project (PBIP) whose TMDL semantic model is generated from the warehouse's tables.

Input: the tables the platform publishes, as (table, columns with SQL types): introspected from a
live warehouse (`warehouse_tables`) or read from the SQL Server DDL (`ddl_tables`). Output: the
files of a PBIP folder (`project_files`), plain text and deterministic, so the same schema always
gives the same bytes; `write_project` swaps them in whole.

The model: the star (dim_date marked as the date table, dim_product, dim_store) with the sales,
forecast (latest run only), accuracy and inventory facts related many-to-one, single direction;
the model tables without relationships; DAX measures in display folders, each kept only when
every column it reads exists. One set of connection parameters (Server, Database, SourceKind,
WarehouseSchema) serves SQL Server (`Sql.Database`) and PostgreSQL (`PostgreSQL.Database`): one
project for both warehouses, switched in Power BI Desktop without regenerating.

`python -m nexgen_assets.lib.marts.semantic_model [folder]` regenerates the versioned `powerbi/`
folder from the DDL.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from nexgen_assets.lib.storage.atomic import atomic_path

PROJECT = "NEXGEN"
DDL = Path(__file__).resolve().parents[2] / "sql" / "mssql" / "001_star_schema.sql"
SQL_SERVER, POSTGRESQL = "SQL Server", "PostgreSQL"
SOURCE_KINDS = (SQL_SERVER, POSTGRESQL)
DEFAULT_SERVER, DEFAULT_DATABASE = "localhost", "nexgen"
DEFAULT_SCHEMAS = {SQL_SERVER: "dbo", POSTGRESQL: "public"}
COMPATIBILITY_LEVEL = 1567
STOCKOUT_RISK = "stockout risk"

MODEL_TABLES = (
    "dim_date", "dim_product", "dim_store", "fact_sales_daily", "fact_forecast", "fact_forecast_levels",
    "fact_forecast_accuracy", "fact_inventory_plan", "model_metrics", "model_registry",
)
"""Warehouse tables the model holds, in this order; the ingestion log and rejects stay out (operations, not analysis)."""

DIMENSION_KEYS = {"dim_date": "date", "dim_product": "product_id", "dim_store": "store_id"}
DATE_TABLE = "dim_date"
LATEST_RUN_TABLES = ("fact_forecast", "fact_forecast_levels")
UNRELATED = {("fact_forecast_levels", "dim_store")}
"""fact_forecast_levels mixes levels (store_id "All" on total and category rows): it is sliced by date only."""

DESCRIPTIONS = {
    "dim_date": "One row per day from the first sale to a year past the last: the marked date table.",
    "dim_product": "One row per product: name, brand, category, subcategory and size (from products.csv when landed, "
                   "else the latest seen in sales), price, first and last sale.",
    "dim_store": "One row per store: name, region, format and opening date (from stores.csv when landed), products "
                 "carried, first and last sale.",
    "fact_sales_daily": "Sales per store, product and day (quantity is net of returns).",
    "fact_forecast": "The latest forecast run only: mean and p10/p50/p90 per store, product and day.",
    "fact_forecast_levels": "The latest forecast run at total, store, category and store x category level, with "
                            "intervals calibrated at each level; filter on level before adding up.",
    "fact_forecast_accuracy": "Every archived forecast point whose day has an actual, with its errors (all runs).",
    "fact_inventory_plan": "Stock, days of cover, reorder point and suggested order per store and product.",
    "model_metrics": "Backtest metrics per candidate model, overall and per horizon bucket.",
    "model_registry": "Champion models promoted to serve forecasts, newest last.",
}

SUM_COLUMNS = {
    "quantity", "units_sold", "units_returned", "revenue", "mean", "p10", "p50", "p90", "actual", "error", "abs_error",
    "squared_error", "suggested_order", "lead_demand", "safety_stock", "reorder_point", "order_up_to",
}
"""Columns a visual may add up; every other column is shown as is (summarizeBy: none). Stock is left out: it adds up
across series but not across days."""

PERCENT_COLUMNS = {"wape", "coverage_p10_p90", "service_level"}
METRIC_COLUMNS = {"mae", "rmse", "mase", "bias", "pinball", "baseline_mase", "fit_seconds_per_fold"}

COLUMN_FOLDERS = {
    **dict.fromkeys(("year", "quarter", "month", "month_name", "day_of_month", "day_of_week", "day_name", "week_start"),
                    "Calendar"),
    **dict.fromkeys(("iso_year", "iso_week"), "ISO week"),
    **dict.fromkeys(("fiscal_year", "fiscal_quarter", "fiscal_month", "fiscal_week"), "Fiscal"),
    **dict.fromkeys(("is_weekend", "is_holiday", "holiday", "holiday_type"), "Holidays"),
    **dict.fromkeys(("first_sale_date", "last_sale_date", "product_count", "has_sales"), "Sales to date"),
    **dict.fromkeys(("store_name", "region", "format", "opening_date", "is_online", "brand", "subcategory", "size",
                     "product_name", "category", "current_price"), "Attributes"),
    **dict.fromkeys(("quantity", "units_sold", "units_returned", "revenue", "avg_price", "promo"), "Sales"),
    **dict.fromkeys(("forecast_run_id", "model_name", "model_version", "forecast_origin", "created_at", "horizon",
                     "horizon_bucket", "level"), "Forecast run"),
    **dict.fromkeys(("mean", "p10", "p50", "p90"), "Forecast"),
    **dict.fromkeys(("actual", "error", "abs_error", "squared_error", "in_interval"), "Accuracy"),
    **dict.fromkeys(("as_of", "stock_on_hand", "stockout", "lead_time_days", "mean_daily", "days_of_cover",
                     "stockout_date", "lead_demand", "safety_stock", "reorder_point", "order_up_to", "suggested_order",
                     "status", "service_level"), "Inventory"),
    **dict.fromkeys(("mae", "rmse", "mase", "wape", "bias", "coverage_p10_p90", "pinball", "n", "baseline_mase",
                     "fit_seconds_per_fold", "rank"), "Metrics"),
    **dict.fromkeys(("weights", "components", "artifact_path", "interval_quantiles"), "Details"),
}
SORT_BY = {("dim_date", "month_name"): "month", ("dim_date", "day_name"): "day_of_week"}


@dataclass(frozen=True)
class SourceColumn:
    """A warehouse column and its SQL type as the database names it (NVARCHAR(128), DOUBLE PRECISION, ...)."""

    name: str
    sql_type: str


@dataclass(frozen=True)
class SourceTable:
    name: str
    columns: tuple[SourceColumn, ...]


@dataclass(frozen=True)
class Connection:
    """Defaults of the model's query parameters; Power BI users change them under Transform data > Edit parameters."""

    server: str = DEFAULT_SERVER
    database: str = DEFAULT_DATABASE
    kind: str = SQL_SERVER
    schema: str = DEFAULT_SCHEMAS[SQL_SERVER]

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"source kind must be {' or '.join(SOURCE_KINDS)}, got {self.kind!r}")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    m_type: str
    summarize_by: str
    format_string: str | None = None
    folder: str | None = None
    is_key: bool = False
    is_hidden: bool = False
    sort_by: str | None = None
    date_only: bool = False


@dataclass(frozen=True)
class Measure:
    name: str
    expression: str
    format_string: str | None
    folder: str
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    measures: tuple[Measure, ...]
    partition: str

    @property
    def is_date_table(self) -> bool:
        return self.name == DATE_TABLE


@dataclass(frozen=True)
class Relationship:
    from_table: str
    from_column: str
    to_table: str
    to_column: str

    @property
    def name(self) -> str:
        return f"{self.from_table}_{self.from_column}_to_{self.to_table}"


@dataclass(frozen=True)
class SemanticModel:
    tables: tuple[Table, ...]
    relationships: tuple[Relationship, ...]
    connection: Connection
    skipped: tuple[str, ...] = ()
    """table.column of columns whose SQL type has no Power BI type (left out)."""

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    @property
    def measures(self) -> tuple[Measure, ...]:
        return tuple(m for t in self.tables for m in t.measures)


def _measure(table, name, expressions, format_string, folder, description):
    return table, name, expressions if isinstance(expressions, tuple) else (expressions,), format_string, folder, description


_LAST_YEAR = "SAMEPERIODLASTYEAR('dim_date'[date])"
_INTERVAL_ROWS = (
    "FILTER('fact_forecast_accuracy', 'fact_forecast_accuracy'[actual] >= 'fact_forecast_accuracy'[p10] "
    "&& 'fact_forecast_accuracy'[actual] <= 'fact_forecast_accuracy'[p90])"
)
MEASURES = (
    _measure("fact_sales_daily", "Sales Qty", "SUM('fact_sales_daily'[quantity])", "#,0", "Sales",
             "Units sold net of returns."),
    _measure("fact_sales_daily", "Units Sold", "SUM('fact_sales_daily'[units_sold])", "#,0", "Sales",
             "Units sold, returns not deducted."),
    _measure("fact_sales_daily", "Units Returned",
             ("SUM('fact_sales_daily'[units_returned])",
              "-CALCULATE(SUM('fact_sales_daily'[quantity]), 'fact_sales_daily'[quantity] < 0)"),
             "#,0", "Sales", "Units returned (the negative order lines), as a positive number."),
    _measure("fact_sales_daily", "Revenue", "SUM('fact_sales_daily'[revenue])", "#,0.00", "Sales",
             "Revenue net of returns."),
    _measure("fact_sales_daily", "Average Price", "DIVIDE([Revenue], [Sales Qty])", "#,0.00", "Sales",
             "Revenue per unit, both net of returns."),
    _measure("fact_sales_daily", "Stockout Days", "SUMX('fact_sales_daily', IF('fact_sales_daily'[stockout], 1, 0))",
             "#,0", "Inventory", "Store-product days that ended out of stock (the flag is BIT, or 0/1 in older tables)."),
    _measure("fact_sales_daily", "Sales Qty Previous Period",
             "VAR PeriodDays = DATEDIFF(MIN('dim_date'[date]), MAX('dim_date'[date]), DAY) + 1\n"
             "RETURN CALCULATE([Sales Qty], DATEADD('dim_date'[date], -PeriodDays, DAY))",
             "#,0", "Sales\\Time Intelligence", "Sales Qty of the equally long period just before the selected dates."),
    _measure("fact_sales_daily", "Sales Growth vs Previous Period %",
             "DIVIDE([Sales Qty] - [Sales Qty Previous Period], [Sales Qty Previous Period])", "0.0%",
             "Sales\\Time Intelligence", "Change of Sales Qty against the previous period of the same length."),
    _measure("fact_sales_daily", "Sales Qty Last Year", f"CALCULATE([Sales Qty], {_LAST_YEAR})", "#,0",
             "Sales\\Time Intelligence", "Sales Qty of the same dates one year earlier."),
    _measure("fact_sales_daily", "Sales vs Last Year", "[Sales Qty] - [Sales Qty Last Year]", "#,0",
             "Sales\\Time Intelligence", "Sales Qty minus the same dates one year earlier."),
    _measure("fact_sales_daily", "Sales vs Last Year %", "DIVIDE([Sales vs Last Year], [Sales Qty Last Year])", "0.0%",
             "Sales\\Time Intelligence", "Sales Qty change against the same dates one year earlier."),
    _measure("fact_sales_daily", "Revenue Last Year", f"CALCULATE([Revenue], {_LAST_YEAR})", "#,0.00",
             "Sales\\Time Intelligence", "Revenue of the same dates one year earlier."),
    _measure("fact_sales_daily", "Revenue YoY %", "DIVIDE([Revenue] - [Revenue Last Year], [Revenue Last Year])", "0.0%",
             "Sales\\Time Intelligence", "Revenue change against the same dates one year earlier."),
    _measure("fact_forecast", "Forecast Mean", "SUM('fact_forecast'[mean])", "#,0.0", "Forecast",
             "Expected units of the latest forecast run."),
    *(_measure("fact_forecast", f"Forecast {q.upper()}", f"SUM('fact_forecast'[{q}])", "#,0.0", "Forecast",
               f"Sum of the series' {q} in the latest forecast run; fact_forecast_levels holds {q} calibrated above "
               "the series.") for q in ("p10", "p50", "p90")),
    _measure("fact_forecast", "Forecast Run", "SELECTEDVALUE('fact_forecast'[forecast_run_id])", None, "Forecast",
             "The forecast run the model shows."),
    _measure("fact_forecast_accuracy", "Scored Points", "COUNTROWS('fact_forecast_accuracy')", "#,0", "Accuracy",
             "Forecast points whose day has an actual."),
    _measure("fact_forecast_accuracy", "Actual Qty", "SUM('fact_forecast_accuracy'[actual])", "#,0", "Accuracy",
             "Actual units of the scored points."),
    _measure("fact_forecast_accuracy", "WAPE",
             "DIVIDE(SUM('fact_forecast_accuracy'[abs_error]), SUM('fact_forecast_accuracy'[actual]))", "0.0%",
             "Accuracy", "Weighted absolute percentage error of p50: sum of |p50 - actual| over sum of actuals."),
    _measure("fact_forecast_accuracy", "MAE", "AVERAGE('fact_forecast_accuracy'[abs_error])", "#,0.00", "Accuracy",
             "Mean absolute error of p50, in units."),
    _measure("fact_forecast_accuracy", "RMSE", "SQRT(AVERAGE('fact_forecast_accuracy'[squared_error]))", "#,0.00",
             "Accuracy", "Root mean squared error of the mean forecast, in units."),
    _measure("fact_forecast_accuracy", "Bias", "AVERAGE('fact_forecast_accuracy'[error])", "#,0.00", "Accuracy",
             "Mean of (forecast mean - actual): above zero the forecast runs high."),
    _measure("fact_forecast_accuracy", "Bias %",
             "DIVIDE(SUM('fact_forecast_accuracy'[error]), SUM('fact_forecast_accuracy'[actual]))", "0.0%", "Accuracy",
             "Sum of (forecast mean - actual) over sum of actuals."),
    _measure("fact_forecast_accuracy", "Interval Coverage",
             (f"DIVIDE(COUNTROWS({_INTERVAL_ROWS}), COUNTROWS('fact_forecast_accuracy'))",
              "DIVIDE(CALCULATE(COUNTROWS('fact_forecast_accuracy'), 'fact_forecast_accuracy'[in_interval] = TRUE()), "
              "COUNTROWS('fact_forecast_accuracy'))"),
             "0.0%", "Accuracy", "Share of scored points whose actual fell between p10 and p90 (0.8 is calibrated)."),
    _measure("fact_inventory_plan", "Stock on Hand", "SUM('fact_inventory_plan'[stock_on_hand])", "#,0", "Inventory",
             "Units in stock at the plan's as-of day."),
    _measure("fact_inventory_plan", "Days of Cover",
             ("DIVIDE(SUM('fact_inventory_plan'[stock_on_hand]), SUM('fact_inventory_plan'[mean_daily]))",
              "AVERAGE('fact_inventory_plan'[days_of_cover])"),
             "#,0.0", "Inventory", "Days the stock lasts at the forecast daily demand (p50) of the selected series."),
    _measure("fact_inventory_plan", "Stockout Risk Count",
             f"CALCULATE(COUNTROWS('fact_inventory_plan'), 'fact_inventory_plan'[status] = \"{STOCKOUT_RISK}\")", "#,0",
             "Inventory", "Series expected to run out of stock within their lead time."),
    _measure("fact_inventory_plan", "Units to Order", "SUM('fact_inventory_plan'[suggested_order])", "#,0", "Inventory",
             "Suggested order quantity."),
)
"""(table, measure, DAX alternatives in order of preference, format, display folder, description)."""

COLUMN_REFERENCE = re.compile(r"(?:'((?:[^']|'')+)'|\b([A-Za-z_][A-Za-z0-9_]*))\[([^\]]+)\]")
MEASURE_REFERENCE = re.compile(r"(?<!['\w\]])\[([^\]]+)\]")


def dax_references(expression: str) -> tuple[set[tuple[str, str]], set[str]]:
    """Columns ('table'[column] and table[column]) and bare [measure] references in a DAX expression."""
    columns = {((quoted or bare).replace("''", "'"), column) for quoted, bare, column in COLUMN_REFERENCE.findall(expression)}
    measures = set(MEASURE_REFERENCE.findall(COLUMN_REFERENCE.sub("", expression)))
    return columns, measures


def power_bi_type(sql_type: str) -> tuple[str, str] | None:
    """(TMDL dataType, M type) for a SQL type name; None when Power BI has no fitting type (binary, xml, ...)."""
    text = sql_type.upper().strip()
    base = re.sub(r"\s*\(.*", "", text)
    args = [a.strip() for a in re.findall(r"\(([^)]*)\)", text)[0].split(",")] if "(" in text else []
    if base in ("BIT", "BOOL", "BOOLEAN"):
        return "boolean", "type logical"
    if base in ("DATETIME", "DATETIME2", "SMALLDATETIME", "DATETIMEOFFSET") or base.startswith("TIMESTAMP"):
        return "dateTime", "type datetime"
    if base == "DATE":
        return "dateTime", "type date"
    if base in ("TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "INT2", "INT4", "INT8", "SERIAL", "BIGSERIAL"):
        return "int64", "Int64.Type"
    if base in ("MONEY", "SMALLMONEY"):
        return "decimal", "Currency.Type"
    if base in ("DECIMAL", "NUMERIC"):
        scale = int(args[1]) if len(args) == 2 and args[1].isdigit() else None
        if scale == 0:
            return "int64", "Int64.Type"
        return ("decimal", "Currency.Type") if scale is not None and scale <= 4 else ("double", "type number")
    if base in ("FLOAT", "REAL", "DOUBLE", "DOUBLE PRECISION", "FLOAT4", "FLOAT8"):
        return "double", "type number"
    if any(word in base for word in ("CHAR", "TEXT", "CLOB", "STRING", "UNIQUEIDENTIFIER", "UUID")):
        return "string", "type text"
    return None


def ddl_tables(script: str | None = None) -> list[SourceTable]:
    """The tables of the SQL Server DDL script (sql/mssql/001_star_schema.sql by default) with their column types."""
    script = DDL.read_text() if script is None else script
    tables = []
    for name, body in re.findall(r"CREATE TABLE dbo\.(\w+) \((.*?)\n\);", script, flags=re.DOTALL):
        columns = []
        for line in body.strip().splitlines():
            found = re.match(r"\s*\[?(\w+)\]?\s+(\w+(?:\s*\([^)]*\))?)", line)
            if found and found.group(1) != "CONSTRAINT":
                columns.append(SourceColumn(found.group(1), found.group(2)))
        tables.append(SourceTable(name, tuple(columns)))
    return tables


def _type_name(column_type: sa.types.TypeEngine, dialect: sa.Dialect) -> str:
    try:
        return column_type.compile(dialect=dialect)
    except sa.exc.CompileError:
        return str(type(column_type).__name__)


def warehouse_tables(engine: sa.Engine, schema: str | None = None) -> list[SourceTable]:
    """The model's tables as the live warehouse has them (views and other tables left out)."""
    inspector = sa.inspect(engine)
    present = set(inspector.get_table_names(schema=schema))
    return [
        SourceTable(name, tuple(SourceColumn(c["name"], _type_name(c["type"], engine.dialect))
                                for c in inspector.get_columns(name, schema=schema)))
        for name in MODEL_TABLES if name in present
    ]


def connection_for(warehouse_url: str, server: str | None = None, database: str | None = None,
                   schema: str | None = None) -> Connection:
    """Parameter defaults for a warehouse: the configured server and database, else the warehouse URL's, else
    localhost / nexgen. PostgreSQL for a postgresql URL, SQL Server otherwise (the embedded SQLite has no Power BI
    connector: the parameters then point at SQL Server placeholders)."""
    url = sa.engine.make_url(warehouse_url)
    backend = url.get_backend_name()
    kind = POSTGRESQL if backend == "postgresql" else SQL_SERVER
    own_server = None
    if backend in ("postgresql", "mssql") and url.host:
        default_port = 5432 if kind == POSTGRESQL else 1433
        separator = ":" if kind == POSTGRESQL else ","
        own_server = url.host if url.port in (None, default_port) else f"{url.host}{separator}{url.port}"
    own_database = url.database if backend in ("postgresql", "mssql") else None
    return Connection(
        server=server or own_server or DEFAULT_SERVER,
        database=database or own_database or DEFAULT_DATABASE,
        kind=kind,
        schema=schema or DEFAULT_SCHEMAS[kind],
    )


def _format(column: str, data_type: str, date_only: bool) -> str | None:
    if data_type == "dateTime":
        return "yyyy-mm-dd" if date_only else "General Date"
    if data_type == "int64":
        return "0"
    if data_type == "decimal":
        return "#,0.00"
    if data_type == "double":
        if column in PERCENT_COLUMNS:
            return "0.0%"
        return "0.000" if column in METRIC_COLUMNS else "#,0.0"
    return None


def _is_foreign_key(table: str, column: str, present: Mapping[str, SourceTable]) -> bool:
    return table.startswith("fact_") and any(
        key == column and dim in present and (table, dim) not in UNRELATED for dim, key in DIMENSION_KEYS.items()
    )


def _columns(table: SourceTable, present: Mapping[str, SourceTable], skipped: list[str]) -> tuple[Column, ...]:
    names = {c.name for c in table.columns}
    columns = []
    for source in table.columns:
        types = power_bi_type(source.sql_type)
        if types is None:
            skipped.append(f"{table.name}.{source.name} ({source.sql_type})")
            continue
        data_type, m_type = types
        date_only = m_type == "type date"
        key = DIMENSION_KEYS.get(table.name) == source.name
        foreign = _is_foreign_key(table.name, source.name, present)
        numeric = data_type in ("int64", "double", "decimal")
        sort_by = SORT_BY.get((table.name, source.name))
        columns.append(Column(
            name=source.name,
            data_type=data_type,
            m_type=m_type,
            summarize_by="sum" if numeric and source.name in SUM_COLUMNS else "none",
            format_string=_format(source.name, data_type, date_only),
            folder="Keys" if foreign else None if key else COLUMN_FOLDERS.get(source.name),
            is_key=key,
            is_hidden=foreign,
            sort_by=sort_by if sort_by in names else None,
            date_only=date_only,
        ))
    return tuple(columns)


def _relationships(tables: Mapping[str, Table]) -> tuple[Relationship, ...]:
    found = []
    for fact in tables.values():
        if not fact.name.startswith("fact_"):
            continue
        types = {c.name: c.data_type for c in fact.columns}
        for dim, key in DIMENSION_KEYS.items():
            if dim in tables and (fact.name, dim) not in UNRELATED and key in types:
                if types[key] == next(c.data_type for c in tables[dim].columns if c.name == key):
                    found.append(Relationship(fact.name, key, dim, key))
    return tuple(found)


def _measures(tables: Mapping[str, Table]) -> dict[str, list[Measure]]:
    columns = {(t.name, c.name) for t in tables.values() for c in t.columns}
    kept: dict[str, list[Measure]] = {name: [] for name in tables}
    names: set[str] = set()
    for table, name, alternatives, format_string, folder, description in MEASURES:
        if table not in tables:
            continue
        for expression in alternatives:
            used_columns, used_measures = dax_references(expression)
            if used_columns <= columns and used_measures <= names:
                kept[table].append(Measure(name, expression, format_string, folder, description))
                names.add(name)
                break
    return kept


def _m_text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _partition(table: str, columns: Sequence[Column]) -> str:
    selected = ", ".join(_m_text(c.name) for c in columns)
    typed = ", ".join(f"{{{_m_text(c.name)}, {c.m_type}}}" for c in columns)
    steps = [f"Source = Warehouse{{[Schema = WarehouseSchema, Item = {_m_text(table)}]}}[Data]"]
    last = "Source"
    if table in LATEST_RUN_TABLES and any(c.name == "forecast_run_id" for c in columns):
        steps.append(f"LatestRun = Table.SelectRows({last}, each [forecast_run_id] = LatestForecastRun)")
        last = "LatestRun"
    steps.append(f"Selected = Table.SelectColumns({last}, {{{selected}}}, MissingField.UseNull)")
    steps.append(f"Typed = Table.TransformColumnTypes(Selected, {{{typed}}})")
    body = ",\n".join(f"\t{step}" for step in steps)
    return f"let\n{body}\nin\n\tTyped"


def semantic_model(tables: Iterable[SourceTable], connection: Connection = Connection()) -> SemanticModel:
    """The model of the given warehouse tables (those of MODEL_TABLES, in that order); ValueError when none is there."""
    present = {t.name: t for t in tables if t.name in MODEL_TABLES}
    if not present:
        raise ValueError(f"none of the model's tables is in the warehouse yet ({', '.join(MODEL_TABLES)})")
    skipped: list[str] = []
    built = {}
    for name in MODEL_TABLES:
        if name in present:
            columns = _columns(present[name], present, skipped)
            if columns:
                built[name] = Table(name, columns, (), _partition(name, columns))
    measures = _measures(built)
    final = tuple(Table(t.name, t.columns, tuple(measures[t.name]), t.partition) for t in built.values())
    return SemanticModel(final, _relationships(built), connection, tuple(skipped))


# --- TMDL and PBIP files --------------------------------------------------------------------------------------------

_LINEAGE = uuid.uuid5(uuid.NAMESPACE_URL, "https://nexgen/powerbi")


def _tag(*parts: str) -> str:
    """A lineage tag that stays the same for the same object, so regenerating never looks like a new object."""
    return str(uuid.uuid5(_LINEAGE, "/".join(parts)))


def tmdl_name(name: str) -> str:
    """An object name as TMDL writes it: quoted (quotes doubled) unless it is a plain identifier."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else "'" + name.replace("'", "''") + "'"


def _indented(text: str, tabs: int) -> list[str]:
    return [("\t" * tabs + line) if line else "" for line in text.splitlines()]


def _description(text: str, tabs: int) -> list[str]:
    return ["\t" * tabs + "/// " + text]


def _column_tmdl(table: str, column: Column) -> list[str]:
    lines = [f"\tcolumn {tmdl_name(column.name)}", f"\t\tdataType: {column.data_type}"]
    lines += ["\t\tisKey"] if column.is_key else []
    lines += ["\t\tisHidden"] if column.is_hidden else []
    lines += [f"\t\tformatString: {column.format_string}"] if column.format_string else []
    lines += [f"\t\tdisplayFolder: {column.folder}"] if column.folder else []
    lines += [f"\t\tsortByColumn: {tmdl_name(column.sort_by)}"] if column.sort_by else []
    lines += [
        f"\t\tlineageTag: {_tag('column', table, column.name)}",
        f"\t\tsummarizeBy: {column.summarize_by}",
        f"\t\tsourceColumn: {column.name}",
        "",
        "\t\tannotation SummarizationSetBy = Automatic",
    ]
    if column.data_type == "dateTime":
        lines += ["", f"\t\tannotation UnderlyingDateTimeDataType = {'Date' if column.date_only else 'DateTime'}"]
    return lines + [""]


def _measure_tmdl(table: str, measure: Measure) -> list[str]:
    lines = _description(measure.description, 1)
    if "\n" in measure.expression:
        lines += [f"\tmeasure {tmdl_name(measure.name)} =", *_indented(measure.expression, 3)]
    else:
        lines += [f"\tmeasure {tmdl_name(measure.name)} = {measure.expression}"]
    lines += [f"\t\tformatString: {measure.format_string}"] if measure.format_string else []
    lines += [f"\t\tdisplayFolder: {measure.folder}", f"\t\tlineageTag: {_tag('measure', table, measure.name)}"]
    return lines + [""]


def table_tmdl(table: Table) -> str:
    lines = _description(DESCRIPTIONS[table.name], 0)
    lines += [f"table {tmdl_name(table.name)}", f"\tlineageTag: {_tag('table', table.name)}"]
    lines += ["\tdataCategory: Time"] if table.is_date_table else []
    lines.append("")
    for measure in table.measures:
        lines += _measure_tmdl(table.name, measure)
    for column in table.columns:
        lines += _column_tmdl(table.name, column)
    lines += [f"\tpartition {tmdl_name(table.name)} = m", "\t\tmode: import", "\t\tsource ="]
    lines += _indented(table.partition, 3)
    lines += ["", "\tannotation PBI_ResultType = Table", ""]
    return "\n".join(lines)


def _parameter(name: str, value: str, description: str, choices: Sequence[str] = ()) -> list[str]:
    listed = f"List={{{', '.join(_m_text(c) for c in choices)}}}, DefaultValue={_m_text(value)}, " if choices else ""
    meta = f"[IsParameterQuery=true, {listed}Type=\"Text\", IsParameterQueryRequired=true]"
    return [
        *_description(description, 0),
        f"expression {name} = {_m_text(value)} meta {meta}",
        f"\tlineageTag: {_tag('expression', name)}",
        "",
        "\tannotation PBI_ResultType = Text",
        "",
    ]


_WAREHOUSE_M = f"""let
	Source =
		if SourceKind = {_m_text(POSTGRESQL)} then PostgreSQL.Database(Server, Database)
		else Sql.Database(Server, Database)
in
	Source"""

_LATEST_RUN_M = """let
	Forecast = Warehouse{[Schema = WarehouseSchema, Item = "fact_forecast"]}[Data],
	LatestCreated = List.Max(Forecast[created_at]),
	Latest = Table.SelectRows(Forecast, each [created_at] = LatestCreated),
	Run = List.Max(Latest[forecast_run_id])
in
	Run"""

_LATEST_RUN_BY_ID_M = """let
	Forecast = Warehouse{[Schema = WarehouseSchema, Item = "fact_forecast"]}[Data],
	Run = List.Max(Forecast[forecast_run_id])
in
	Run"""


def _query(name: str, m: str, result: str, description: str) -> list[str]:
    return [
        *_description(description, 0),
        f"expression {name} =",
        *_indented(m, 2),
        f"\tlineageTag: {_tag('expression', name)}",
        "",
        f"\tannotation PBI_ResultType = {result}",
        "",
    ]


def _queries(model: SemanticModel) -> list[tuple[str, list[str]]]:
    """(name, TMDL lines) of the shared expressions: the parameters, the source, and the latest forecast run."""
    c = model.connection
    queries = [
        ("Server", _parameter("Server", c.server, "Warehouse server: host, host,port (SQL Server) or host:port "
                                                  "(PostgreSQL).")),
        ("Database", _parameter("Database", c.database, "Warehouse database.")),
        ("SourceKind", _parameter("SourceKind", c.kind, "Warehouse engine: SQL Server or PostgreSQL.", SOURCE_KINDS)),
        ("WarehouseSchema", _parameter("WarehouseSchema", c.schema,
                                       "Schema of the warehouse tables (dbo on SQL Server, public on PostgreSQL).")),
        ("Warehouse", _query("Warehouse", _WAREHOUSE_M, "Table", "The warehouse's tables, from SourceKind.")),
    ]
    forecast = {col.name for t in model.tables if t.name == "fact_forecast" for col in t.columns}
    if "forecast_run_id" in forecast:
        m = _LATEST_RUN_M if "created_at" in forecast else _LATEST_RUN_BY_ID_M
        queries.append(("LatestForecastRun", _query("LatestForecastRun", m, "Text",
                                                    "The forecast run published last: the one the forecast tables show.")))
    return queries


def expressions_tmdl(model: SemanticModel) -> str:
    return "\n".join(line for _, lines in _queries(model) for line in lines)


def model_tmdl(model: SemanticModel) -> str:
    order = [name for name, _ in _queries(model)] + [t.name for t in model.tables]
    lines = [
        "model Model",
        "\tculture: en-US",
        "\tdefaultPowerBIDataSourceVersion: powerBI_V3",
        "\tsourceQueryCulture: en-US",
        "\tdataAccessOptions",
        "\t\tlegacyRedirects",
        "\t\treturnErrorValuesAsNull",
        "",
        f"annotation PBI_QueryOrder = {json.dumps(order, separators=(',', ':'))}",
        "",
        "annotation __PBI_TimeIntelligenceEnabled = 0",
        "",
        *[f"ref table {tmdl_name(t.name)}" for t in model.tables],
        "",
    ]
    return "\n".join(lines)


def relationships_tmdl(model: SemanticModel) -> str:
    lines = []
    for r in model.relationships:
        lines += [
            f"relationship {tmdl_name(r.name)}",
            "\tfromCardinality: many",
            "\ttoCardinality: one",
            "\tcrossFilteringBehavior: oneDirection",
            f"\tfromColumn: {tmdl_name(r.from_table)}.{tmdl_name(r.from_column)}",
            f"\ttoColumn: {tmdl_name(r.to_table)}.{tmdl_name(r.to_column)}",
            "",
        ]
    return "\n".join(lines)


_SCHEMAS = "https://developer.microsoft.com/json-schemas/fabric"
PAGE = "overview"


def _json(value: dict) -> str:
    return json.dumps(value, indent=2) + "\n"


def project_files(model: SemanticModel, name: str = PROJECT) -> dict[str, str]:
    """Relative path -> text of every file of the PBIP folder: the .pbip, the semantic model and a one-page report."""
    model_folder, report_folder = f"{name}.SemanticModel", f"{name}.Report"
    definition = f"{model_folder}/definition"
    files = {
        f"{name}.pbip": _json({
            "$schema": f"{_SCHEMAS}/pbip/pbipProperties/1.0.0/schema.json",
            "version": "1.0",
            "artifacts": [{"report": {"path": report_folder}}],
            "settings": {"enableAutoRecovery": True},
        }),
        ".gitignore": "**/.pbi/localSettings.json\n**/.pbi/cache.abf\n",
        "README.md": README,
        f"{model_folder}/definition.pbism": _json({
            "$schema": f"{_SCHEMAS}/item/semanticModel/definitionProperties/1.0.0/schema.json",
            "version": "4.0",
            "settings": {},
        }),
        f"{definition}/database.tmdl": f"database\n\tcompatibilityLevel: {COMPATIBILITY_LEVEL}\n",
        f"{definition}/model.tmdl": model_tmdl(model),
        f"{definition}/expressions.tmdl": expressions_tmdl(model),
        f"{definition}/relationships.tmdl": relationships_tmdl(model),
        **{f"{definition}/tables/{t.name}.tmdl": table_tmdl(t) for t in model.tables},
        f"{report_folder}/definition.pbir": _json({
            "$schema": f"{_SCHEMAS}/item/report/definitionProperties/2.0.0/schema.json",
            "version": "4.0",
            "datasetReference": {"byPath": {"path": f"../{model_folder}"}},
        }),
        f"{report_folder}/definition/version.json": _json({
            "$schema": f"{_SCHEMAS}/item/report/definition/versionMetadata/1.0.0/schema.json",
            "version": "2.0.0",
        }),
        f"{report_folder}/definition/report.json": _json({
            "$schema": f"{_SCHEMAS}/item/report/definition/report/1.0.0/schema.json",
            "themeCollection": {},
            "layoutOptimization": "None",
        }),
        f"{report_folder}/definition/pages/pages.json": _json({
            "$schema": f"{_SCHEMAS}/item/report/definition/pagesMetadata/1.0.0/schema.json",
            "pageOrder": [PAGE],
            "activePageName": PAGE,
        }),
        f"{report_folder}/definition/pages/{PAGE}/page.json": _json({
            "$schema": f"{_SCHEMAS}/item/report/definition/page/1.0.0/schema.json",
            "name": PAGE,
            "displayName": "Overview",
            "displayOption": "FitToPage",
            "height": 720,
            "width": 1280,
        }),
    }
    return dict(sorted(files.items()))


README = """# NEXGEN Power BI project

Generated from the warehouse's tables: do not edit, regenerate (the `powerbi_semantic_model` asset writes
`$NEXGEN_EXPORTS/powerbi/`; `python -m nexgen_assets.lib.marts.semantic_model powerbi` rewrites this folder from
`sql/mssql/001_star_schema.sql`). Save your own reports under another folder.

Open `NEXGEN.pbip` in Power BI Desktop, set the parameters under Transform data > Edit parameters (Server,
Database, SourceKind = SQL Server or PostgreSQL, WarehouseSchema), then Refresh.
"""


def write_project(folder: Path, files: Mapping[str, str]) -> Path:
    """Write the files to a hidden folder beside `folder`, then swap it in whole (the previous folder goes)."""
    with atomic_path(folder) as partial:
        for relative, text in files.items():
            path = partial / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
    return Path(folder)


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the versioned project (default ./powerbi) from the DDL with placeholder connection parameters."""
    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path(args[0] if args else "powerbi")
    model = semantic_model(ddl_tables())
    write_project(folder, project_files(model))
    print(f"{folder}: {len(model.tables)} tables, {len(model.measures)} measures, {len(model.relationships)} relationships")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
