"""The offline HTML dashboard: the five Power BI pages in one self-contained file.

Data comes from the star schema and the dashboard views, is embedded as JSON, and an
inline script draws hand-written SVG charts, so the file opens anywhere (no server, no
network, no CDN). Filters (store, category), the quantity/revenue toggle, tooltips and
the product drill-down all run in the page over the embedded data. Each chart records
how many marks it drew in `data-marks`, which is what tests check.

What is embedded stays bounded however large the retailer (see `Bounds`): sales are
embedded as a cube of day x store bucket x category bucket, where the buckets are the
top stores and categories by revenue plus one "Other" bucket each, never as every series.
Top-product and lowest-cover lists are precomputed per filter combination, and only the
top products carry a daily series for the drill-down.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nexgen_assets.lib.storage.atomic import atomic_path

PAGES = (
    ("sales_trend", "Sales trend"),
    ("top_products", "Top-selling products"),
    ("stock_monitoring", "Stock monitoring"),
    ("kpis", "Revenue and quantity KPIs"),
    ("forecast_vs_actual", "Forecast vs actual"),
)
UNKNOWN_CATEGORY = "unknown"
"""A product without category, named as the forecast levels name it (fact_forecast_levels.category)."""
STATUS_RISK_ORDER = ("stockout risk", "reorder", "ok", "overstock")
"""fact_inventory_plan.status values (lib/forecasts/inventory_plan.py), most urgent first."""


@dataclass(frozen=True)
class Bounds:
    """The most the page embeds, so the file stays a few MB at worst for any retailer.

    Worst case: a sales cube of (stores + 1) x (categories + 1) series of
    trend_days + yoy_lag_days days (quantity and revenue), top_products rows for each of
    (stores + 2) x (categories + 2) filter combinations, lowest_cover_rows per store x
    category bucket, drill_products daily series, and forecast_days of each forecast level.
    """

    trend_days: int = 365
    yoy_lag_days: int = 364
    stores: int = 20
    categories: int = 10
    top_products: int = 10
    lowest_cover_rows: int = 15
    drill_products: int = 100
    drill_history_days: int = 91
    forecast_days: int = 92
    history_beside_forecast: int = 56

    @property
    def cube_days(self) -> int:
        """Days of sales embedded: the days shown, and the year before them for same-weekday-last-year."""
        return self.trend_days + self.yoy_lag_days


def _read(engine: Engine, sql: str, **params) -> pd.DataFrame:
    """A query with named parameters: lists expand to IN lists, dates bind as DATE on every dialect."""
    binds = [
        sa.bindparam(name, expanding=True) if isinstance(value, list | tuple)
        else sa.bindparam(name, type_=sa.Date()) if isinstance(value, dt.date)
        else sa.bindparam(name)
        for name, value in params.items()
    ]
    with engine.connect() as conn:
        return pd.read_sql(sa.text(sql).bindparams(*binds), conn, params=params)


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.date


def _num(value, digits: int = 3):
    """A compact JSON number: None for NaN, whole numbers without a fraction."""
    if value is None or value is pd.NA:
        return None
    value = float(value)
    if math.isnan(value):
        return None
    value = round(value, digits)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: dates as ISO strings, NaN as null, numbers rounded for a small file."""
    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for key, value in row.items():
            if value is None or value is pd.NA or value is pd.NaT:
                clean[key] = None
            elif isinstance(value, dt.date | pd.Timestamp):
                clean[key] = value.isoformat()[:10]
            else:
                value = value.item() if hasattr(value, "item") else value
                if isinstance(value, float):
                    value = None if math.isnan(value) else round(value, 3)
                clean[key] = value
        out.append(clean)
    return out


def _text(value) -> str | None:
    return None if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else str(value)


def _has(engine: Engine, table: str) -> bool:
    return sa.inspect(engine).has_table(table)


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)} if _has(engine, table) else set()


@dataclass(frozen=True)
class _Buckets:
    """The top keys of a dimension by revenue; every other key falls in one last bucket (index len(ids))."""

    ids: list[str]
    others: int

    def index(self, keys: pd.Series) -> pd.Series:
        positions = {key: i for i, key in enumerate(self.ids)}
        return keys.map(positions).fillna(len(self.ids)).astype(int)

    def options(self, labels: dict, other: str) -> list[dict]:
        out = [{"id": key, "label": labels.get(key) or key} for key in self.ids]
        if self.others:
            out.append({"id": None, "label": f"{other} ({self.others})"})
        return out


def _top_keys(frame: pd.DataFrame, key: str, limit: int) -> _Buckets:
    ranked = frame.sort_values(["revenue", key], ascending=[False, True])[key].tolist()
    return _Buckets(ranked[:limit], max(len(ranked) - limit, 0))


def _category_sql(alias: str = "p") -> str:
    return f"COALESCE({alias}.category, '{UNKNOWN_CATEGORY}')"


def _bucket_sql(expression: str, param: str) -> str:
    """The key itself when among the top keys, else NULL (the "Other" bucket)."""
    return f"CASE WHEN {expression} IN :{param} THEN {expression} END"


def _sales_cube(engine: Engine, start: dt.date, days: int, stores: _Buckets, categories: _Buckets) -> dict:
    """Daily quantity and revenue per store bucket x category bucket, one dense array each from `start`."""
    frame = _read(
        engine,
        f"""SELECT b.date, b.store_key, b.category_key, SUM(b.quantity) AS quantity, SUM(b.revenue) AS revenue
        FROM (SELECT f.date, {_bucket_sql("f.store_id", "stores")} AS store_key,
                     {_bucket_sql(_category_sql(), "categories")} AS category_key, f.quantity, f.revenue
              FROM fact_sales_daily f LEFT JOIN dim_product p ON p.product_id = f.product_id
              WHERE f.date >= :start) b
        GROUP BY b.date, b.store_key, b.category_key""",
        stores=stores.ids, categories=categories.ids, start=start,
    )
    frame["day"] = (pd.to_datetime(frame["date"]) - pd.Timestamp(start)).dt.days
    frame["s"], frame["c"] = stores.index(frame["store_key"]), categories.index(frame["category_key"])
    series = []
    for (s, c), group in frame.groupby(["s", "c"], sort=True):
        quantity, revenue = np.zeros(days), np.zeros(days)
        quantity[group["day"]] = group["quantity"].astype(float).fillna(0.0)
        revenue[group["day"]] = group["revenue"].astype(float).fillna(0.0)
        quantity, revenue = quantity.round(3), revenue.round(2)
        if quantity.any() or revenue.any():
            series.append([int(s), int(c), quantity, revenue])
    return {"start": start.isoformat(), "days": days, "series": series}


def daily_trend(quantity: np.ndarray, revenue: np.ndarray, start: dt.date, bounds: Bounds) -> pd.DataFrame:
    """The days shown with their 7-day moving average (the day and the 6 before) and the same weekday
    a year earlier (yoy_lag_days back), each null until the embedded history allows it."""
    frame = pd.DataFrame({
        "date": [start + dt.timedelta(days=i) for i in range(len(quantity))],
        "quantity": quantity, "revenue": revenue,
    })
    for measure in ("quantity", "revenue"):
        frame[f"{measure}_ma7"] = frame[measure].rolling(7).mean()
        frame[f"{measure}_yoy"] = frame[measure].shift(bounds.yoy_lag_days)
    return frame.tail(bounds.trend_days).reset_index(drop=True)


def _ranked(frame: pd.DataFrame, keys: list[str], value: str, ascending: bool, limit: int) -> pd.DataFrame:
    """The first `limit` rows of each group of `keys` by `value` (ties by product id)."""
    ordered = frame.sort_values([*keys, value, "product_id"], ascending=[True] * len(keys) + [ascending, True])
    return ordered.groupby(keys, sort=False).head(limit) if keys else ordered.head(limit)


def _top_products(sales: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Top products by revenue for every filter combination (store bucket or all x category bucket or all).

    `sales` holds quantity and revenue per store bucket `s` and product (with its category bucket `c`).
    Ranks are exact for each combination since each is summed before ranking.
    """
    pieces = []
    for keys in ([], ["s"], ["c"], ["s", "c"]):
        summed = sales.groupby([*keys, "product_id"], as_index=False)[["quantity", "revenue"]].sum()
        top = _ranked(summed, keys, "revenue", False, limit).copy()
        top["rank"] = (top.groupby(keys)["revenue"] if keys else top["revenue"]).rank(ascending=False, method="min").astype(int)
        pieces.append(top.assign(store=top["s"] if "s" in keys else None, category=top["c"] if "c" in keys else None))
    out = pd.concat(pieces, ignore_index=True)
    return out[["store", "category", "rank", "product_id", "quantity", "revenue"]]


def _latest_run(engine: Engine) -> str | None:
    run = _read(engine, "SELECT MAX(forecast_run_id) AS run FROM vw_forecast_latest")["run"]
    return None if run.empty or pd.isna(run.iat[0]) else str(run.iat[0])


def _forecast_levels(engine: Engine, run_id: str, stores: _Buckets, categories: _Buckets, days: int) -> dict:
    """p10/p50/p90 per day of the latest run at each level the filters can select: total, each top store,
    each top category and their pairs (the levels' own calibrated intervals, not sums of series quantiles)."""
    if not _has(engine, "fact_forecast_levels"):
        return {"start": None, "series": []}
    levels = sa.table("fact_forecast_levels", *(sa.column(c) for c in
                      ("forecast_run_id", "level", "store_id", "category", "date", "p10", "p50", "p90")))
    wanted = sa.or_(
        levels.c.level == "total",
        sa.and_(levels.c.level == "store", levels.c.store_id.in_(stores.ids or [""])),
        sa.and_(levels.c.level == "category", levels.c.category.in_(categories.ids or [""])),
        sa.and_(levels.c.level == "store_category", levels.c.store_id.in_(stores.ids or [""]),
                levels.c.category.in_(categories.ids or [""])),
    )
    query = sa.select(levels.c.level, levels.c.store_id, levels.c.category, levels.c.date, levels.c.p10, levels.c.p50,
                      levels.c.p90).where(levels.c.forecast_run_id == run_id, wanted)
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn)
    if frame.empty:
        return {"start": None, "series": []}
    frame["date"] = _dates(frame["date"])
    start = frame["date"].min()
    frame["day"] = frame["date"].map(lambda d: (d - start).days)
    frame = frame[frame["day"] < days]
    store_at = {key: i for i, key in enumerate(stores.ids)}
    category_at = {key: i for i, key in enumerate(categories.ids)}
    series = []
    for (level, store, category), group in frame.groupby(["level", "store_id", "category"], sort=True):
        by_store, by_category = level in ("store", "store_category"), level in ("category", "store_category")
        entry = {"level": level, "store": store_at[store] if by_store else None,
                 "category": category_at[category] if by_category else None}
        length = int(group["day"].max()) + 1
        for q in ("p10", "p50", "p90"):
            values = [None] * length
            for d, v in zip(group["day"], group[q], strict=True):
                values[int(d)] = _num(v)
            entry[q] = values
        series.append(entry)
    order = {"total": 0, "store": 1, "category": 2, "store_category": 3}
    series.sort(key=lambda e: (order.get(e["level"], 4), e["store"] or 0, e["category"] or 0))
    return {"start": start.isoformat(), "series": series}


def _forecast_actuals(engine: Engine, run_id: str, start: dt.date, last: dt.date, days: int,
                      stores: _Buckets, categories: _Buckets) -> dict:
    """Actual quantity of the forecast series per store x category bucket, per forecast day that has happened."""
    end = min(last, start + dt.timedelta(days=days - 1))
    if end < start:
        return {"series": []}
    frame = _read(
        engine,
        f"""SELECT b.date, b.store_key, b.category_key, SUM(b.actual_quantity) AS actual
        FROM (SELECT v.date, {_bucket_sql("v.store_id", "stores")} AS store_key,
                     {_bucket_sql(_category_sql(), "categories")} AS category_key, v.actual_quantity
              FROM vw_forecast_vs_actual v LEFT JOIN dim_product p ON p.product_id = v.product_id
              WHERE v.forecast_run_id = :run AND v.date >= :start AND v.date <= :end) b
        GROUP BY b.date, b.store_key, b.category_key""",
        stores=stores.ids, categories=categories.ids, run=run_id, start=start, end=end,
    )
    length = (end - start).days + 1
    frame["day"] = (pd.to_datetime(frame["date"]) - pd.Timestamp(start)).dt.days
    frame["s"], frame["c"] = stores.index(frame["store_key"]), categories.index(frame["category_key"])
    series = []
    for (s, c), group in frame.groupby(["s", "c"], sort=True):
        values = np.zeros(length)
        values[group["day"]] = group["actual"].astype(float).fillna(0.0)
        series.append([int(s), int(c), [_num(v) for v in values]])
    return {"series": series}


def _stock(engine: Engine, stores: _Buckets, categories: _Buckets, limit: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Status counts per store x category bucket, and the lowest-cover series of each bucket pair.

    Days of cover, stock on hand and the 28-day average come from vw_stock_monitoring; status and
    suggested order from fact_inventory_plan when it holds them; names from dim_product and dim_store.
    """
    plan = _columns(engine, "fact_inventory_plan")
    store_names = "store_name" in _columns(engine, "dim_store")
    pick = {c: f"i.{c}" if c in plan else "NULL" for c in ("status", "suggested_order")}
    joins = "LEFT JOIN fact_inventory_plan i ON i.store_id = s.store_id AND i.product_id = s.product_id " if plan else ""
    if store_names:
        joins += "LEFT JOIN dim_store d ON d.store_id = s.store_id "
    rows = _read(
        engine,
        f"""SELECT r.store_id, r.store_name, r.product_id, r.product_name, r.category, r.stock_on_hand,
                   r.avg_daily_quantity, r.days_of_cover, r.status, r.suggested_order
        FROM (SELECT s.store_id, {"d.store_name" if store_names else "NULL"} AS store_name, s.product_id,
                     p.product_name, {_category_sql()} AS category, s.stock_on_hand, s.avg_daily_quantity,
                     s.days_of_cover, {pick["status"]} AS status, {pick["suggested_order"]} AS suggested_order,
                     ROW_NUMBER() OVER (PARTITION BY s.store_id, {_category_sql()}
                                        ORDER BY s.days_of_cover, s.product_id) AS row_in_group
              FROM vw_stock_monitoring s LEFT JOIN dim_product p ON p.product_id = s.product_id {joins}
              WHERE s.days_of_cover IS NOT NULL) r
        WHERE r.row_in_group <= :n""",
        n=limit,
    )
    rows["store"], rows["category"] = stores.index(rows["store_id"]), categories.index(rows["category"])
    for column in ("stock_on_hand", "avg_daily_quantity", "days_of_cover", "suggested_order"):
        rows[column] = pd.to_numeric(rows[column], errors="coerce").astype(float)
    rows = rows.sort_values(["store", "category", "days_of_cover", "store_id", "product_id"])
    rows = rows.groupby(["store", "category"], sort=False).head(limit)
    rows = rows.sort_values(["days_of_cover", "store_id", "product_id"]).reset_index(drop=True)

    status = pd.DataFrame(columns=["store", "category", "status", "series", "suggested_order"])
    if "status" in plan:
        order = "SUM(i.suggested_order)" if "suggested_order" in plan else "NULL"
        status = _read(
            engine,
            f"""SELECT i.store_id, {_category_sql()} AS category, i.status, COUNT(*) AS series,
                       {order} AS suggested_order
            FROM fact_inventory_plan i LEFT JOIN dim_product p ON p.product_id = i.product_id
            GROUP BY i.store_id, {_category_sql()}, i.status""",
        )
        status["store"], status["category"] = stores.index(status["store_id"]), categories.index(status["category"])
        status["suggested_order"] = pd.to_numeric(status["suggested_order"], errors="coerce").astype(float)
        status = status.groupby(["store", "category", "status"], as_index=False, dropna=False).agg(
            series=("series", "sum"), suggested_order=("suggested_order", lambda v: v.sum(min_count=1)))
        risk = {name: i for i, name in enumerate(STATUS_RISK_ORDER)}
        status["risk"] = status["status"].map(risk).fillna(len(risk))
        status = status.sort_values(["risk", "status", "store", "category"]).drop(columns="risk")
    columns = ["store_id", "store_name", "product_id", "store", "category", "status", "days_of_cover", "stock_on_hand",
               "avg_daily_quantity", "suggested_order"]
    return status.reset_index(drop=True), rows[columns]


def _drill(engine: Engine, product_ids: list[str], first: dt.date, last: dt.date, run_id: str | None,
           bounds: Bounds) -> dict:
    """Daily quantity (all stores) of the drill-down products over the last drill_history_days, and their
    forecast from the latest run (sums over stores: the band is wider than the product's own interval)."""
    start = max(first, last - dt.timedelta(days=bounds.drill_history_days - 1))
    days = (last - start).days + 1
    out: dict = {"start": start.isoformat(), "days": days, "forecast_start": None, "products": []}
    if not product_ids:
        return out
    sales = _read(
        engine,
        "SELECT product_id, date, SUM(quantity) AS quantity FROM fact_sales_daily "
        "WHERE product_id IN :ids AND date >= :start GROUP BY product_id, date",
        ids=product_ids, start=start,
    )
    sales["day"] = (pd.to_datetime(sales["date"]) - pd.Timestamp(start)).dt.days
    forecast = pd.DataFrame(columns=["product_id", "date", "p10", "p50", "p90"])
    if run_id is not None:
        forecast = _read(
            engine,
            "SELECT product_id, date, SUM(p10) AS p10, SUM(p50) AS p50, SUM(p90) AS p90 FROM vw_forecast_latest "
            "WHERE product_id IN :ids GROUP BY product_id, date",
            ids=product_ids,
        )
    forecast["day"] = pd.Series(dtype="int64")
    if not forecast.empty:
        forecast["date"] = _dates(forecast["date"])
        first = forecast["date"].min()
        out["forecast_start"] = first.isoformat()
        forecast["day"] = forecast["date"].map(lambda d: (d - first).days)
        forecast = forecast[forecast["day"] < bounds.forecast_days]
    for product_id in product_ids:
        quantity = np.zeros(days)
        mine = sales[sales["product_id"] == product_id]
        quantity[mine["day"]] = mine["quantity"].astype(float).fillna(0.0)
        entry = {"product": product_id, "quantity": [_num(v) for v in quantity]}
        ahead = forecast[forecast["product_id"] == product_id]
        length = int(ahead["day"].max()) + 1 if len(ahead) else 0
        for q in ("p10", "p50", "p90"):
            values = [None] * length
            for d, v in zip(ahead["day"], ahead[q], strict=True):
                values[int(d)] = _num(v)
            entry[q] = values
        out["products"].append(entry)
    return out


def _empty(generated_at: str, bounds: Bounds) -> dict:
    return {
        "generated_at": generated_at, "data_as_of": None, "bounds": asdict(bounds), "stores": [], "categories": [],
        "products": [], "cube": {"start": None, "days": 0, "series": []}, "totals": [], "trend": [],
        "top_products": [], "stock_status": [], "lowest_cover": [], "kpis": {},
        "forecast_levels": {"start": None, "series": []}, "forecast_actuals": {"series": []},
        "forecast": [], "history": [], "accuracy": [], "drill": {"products": []},
    }


def dashboard_data(engine: Engine, bounds: Bounds = Bounds()) -> dict:
    """Everything the five pages show, bounded by `bounds`, from the star schema and the dashboard views."""
    data = _empty(dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), bounds)
    span = _read(engine, "SELECT MIN(date) AS first_day, MAX(date) AS last_day FROM fact_sales_daily")
    if span.empty or pd.isna(span["last_day"].iat[0]):
        return data
    first, last = (pd.Timestamp(span[c].iat[0]).date() for c in ("first_day", "last_day"))
    start = max(first, last - dt.timedelta(days=bounds.cube_days - 1))
    days = (last - start).days + 1
    data["data_as_of"] = last.isoformat()

    by_store = _read(engine, "SELECT store_id, SUM(revenue) AS revenue FROM fact_sales_daily WHERE date >= :start "
                             "GROUP BY store_id", start=start)
    by_category = _read(
        engine,
        f"SELECT {_category_sql()} AS category, SUM(f.revenue) AS revenue FROM fact_sales_daily f "
        f"LEFT JOIN dim_product p ON p.product_id = f.product_id WHERE f.date >= :start GROUP BY {_category_sql()}",
        start=start,
    )
    stores, categories = _top_keys(by_store, "store_id", bounds.stores), _top_keys(by_category, "category",
                                                                                    bounds.categories)
    names = {}
    if "store_name" in _columns(engine, "dim_store"):
        named = _read(engine, "SELECT store_id, store_name FROM dim_store WHERE store_id IN :ids", ids=stores.ids)
        names = {key: _text(name) for key, name in zip(named["store_id"], named["store_name"], strict=True)}
    data["stores"] = stores.options(names, "Other stores")
    data["categories"] = categories.options({}, "Other categories")

    cube = _sales_cube(engine, start, days, stores, categories)
    quantity = np.sum([s[2] for s in cube["series"]], axis=0) if cube["series"] else np.zeros(days)
    revenue = np.sum([s[3] for s in cube["series"]], axis=0) if cube["series"] else np.zeros(days)
    data["trend"] = _records(daily_trend(quantity, revenue, start, bounds))
    cube["series"] = [[s, c, [_num(v) for v in q], [_num(v, 2) for v in r]] for s, c, q, r in cube["series"]]
    data["cube"] = cube

    sales = _read(
        engine,
        f"""SELECT b.store_key, b.product_id, b.product_name, b.category_key,
                   SUM(b.quantity) AS quantity, SUM(b.revenue) AS revenue
        FROM (SELECT {_bucket_sql("f.store_id", "stores")} AS store_key, f.product_id, p.product_name,
                     {_bucket_sql(_category_sql(), "categories")} AS category_key, f.quantity, f.revenue
              FROM fact_sales_daily f LEFT JOIN dim_product p ON p.product_id = f.product_id) b
        GROUP BY b.store_key, b.product_id, b.product_name, b.category_key""",
        stores=stores.ids, categories=categories.ids,
    )
    sales["s"], sales["c"] = stores.index(sales["store_key"]), categories.index(sales["category_key"])
    sales[["quantity", "revenue"]] = sales[["quantity", "revenue"]].astype(float).fillna(0.0)
    totals = sales.groupby(["s", "c"], as_index=False)[["quantity", "revenue"]].sum()
    data["totals"] = [[int(s), int(c), _num(q), _num(r, 2)] for s, c, q, r in totals.itertuples(index=False)]
    top = _top_products(sales, bounds.top_products)
    data["top_products"] = _records(top)

    status, lowest = _stock(engine, stores, categories, bounds.lowest_cover_rows)
    data["stock_status"] = _records(status)
    data["lowest_cover"] = _records(lowest)

    kpis = _read(engine, "SELECT * FROM vw_kpi_cards")
    data["kpis"] = _records(kpis)[0] if not kpis.empty else {}

    run_id = _latest_run(engine)
    if run_id is not None:
        levels = _forecast_levels(engine, run_id, stores, categories, bounds.forecast_days)
        data["forecast_levels"] = levels
        if levels["start"]:
            forecast_start = dt.date.fromisoformat(levels["start"])
            actuals = _forecast_actuals(engine, run_id, forecast_start, last, bounds.forecast_days, stores, categories)
            data["forecast_actuals"] = actuals
            data["forecast"], data["history"] = _total_forecast(levels, actuals, forecast_start, cube, quantity, bounds)
        if _has(engine, "fact_forecast_accuracy"):
            data["accuracy"] = _records(_read(
                engine,
                "SELECT horizon_bucket, points, mae, rmse, bias, wape, coverage_p10_p90 FROM vw_forecast_accuracy "
                "WHERE forecast_run_id = :run ORDER BY horizon_bucket",
                run=run_id,
            ))

    revenue_by_product = sales.groupby("product_id")["revenue"].sum()
    listed = top["product_id"].drop_duplicates()
    drill_ids = revenue_by_product.reindex(listed).sort_values(ascending=False, kind="stable").index.tolist()
    data["drill"] = _drill(engine, drill_ids[: bounds.drill_products], first, last, run_id, bounds)

    # Every product a list names (lowest-cover series sold in the last 28 days, so `sales` has them all).
    catalogue = sales.drop_duplicates("product_id").set_index("product_id")
    wanted = sorted(set(listed) | set(lowest["product_id"]))
    data["products"] = [
        {"id": pid, "name": _text(catalogue["product_name"].get(pid)),
         "category": int(catalogue["c"].get(pid, len(categories.ids)))}
        for pid in wanted
    ]
    return data


def _total_forecast(levels: dict, actuals: dict, start: dt.date, cube: dict, quantity: np.ndarray,
                    bounds: Bounds) -> tuple[list[dict], list[dict]]:
    """The unfiltered forecast page: the total level with the actual of the forecast series, and the total
    quantity sold in the history_beside_forecast days before it."""
    total = next((s for s in levels["series"] if s["level"] == "total"), None)
    forecast = []
    if total:
        actual = [sum(v) for v in zip(*(s[2] for s in actuals["series"]), strict=True)] if actuals["series"] else []
        for i, p50 in enumerate(total["p50"]):
            forecast.append({"date": (start + dt.timedelta(days=i)).isoformat(), "p10": total["p10"][i], "p50": p50,
                             "p90": total["p90"][i], "actual": _num(actual[i]) if i < len(actual) else None})
    cube_start = dt.date.fromisoformat(cube["start"])
    history = []
    for k in range(bounds.history_beside_forecast, 0, -1):
        day = start - dt.timedelta(days=k)
        i = (day - cube_start).days
        if 0 <= i < len(quantity):
            history.append({"date": day.isoformat(), "quantity": _num(quantity[i])})
    return forecast, history


def _script_safe_json(data: dict) -> str:
    """JSON that no product name can break out of: <, > and & as \\u escapes, which JSON.parse reads back.

    Escaping only "</" is not enough: "<!--<script>" inside a script element changes how
    the browser finds its end.
    """
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_dashboard(data: dict) -> str:
    """The whole dashboard as one HTML string with the data and the drawing script inline."""
    payload = _script_safe_json(data)
    nav = "".join(f'<a href="#{key}">{html.escape(title)}</a>' for key, title in PAGES)
    template = (resources.files("nexgen_assets.lib.marts") / "dashboard.html").read_text(encoding="utf-8")
    as_of = data.get("data_as_of") or "no sales yet"
    # {{data}} last: the payload is data and must not be searched for placeholders.
    page = template.replace("{{nav}}", nav).replace("{{as_of}}", html.escape(as_of))
    page = page.replace("{{generated}}", html.escape(data["generated_at"]))
    return page.replace("{{data}}", payload)


def write_dashboard(path: Path, data: dict) -> Path:
    """Write dashboard.html atomically (temporary file, then rename)."""
    with atomic_path(path) as partial:
        partial.write_text(render_dashboard(data), encoding="utf-8")
    return path
