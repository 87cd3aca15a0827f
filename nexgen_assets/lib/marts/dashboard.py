"""The offline HTML dashboard: the five Power BI pages in one self-contained file.

Data comes from the dashboard views, is embedded as JSON, and a small inline script
draws SVG charts, so the file opens anywhere (no server, no network, no CDN). Each
chart records how many marks it drew in `data-marks`, which is what tests check.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from importlib import resources
from pathlib import Path

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
HISTORY_DAYS_BESIDE_FORECAST = 56
LOWEST_COVER_ROWS = 15


def _read(engine: Engine, sql: str, **params) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(sql), conn, params=params)


def _records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: dates as ISO strings, NaN as null, numbers rounded for a small file."""
    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, dt.date | pd.Timestamp):
                clean[key] = value.isoformat()[:10]
            elif isinstance(value, float):
                clean[key] = None if math.isnan(value) else round(value, 3)
            elif value is None or value is pd.NA:
                clean[key] = None
            else:
                clean[key] = value.item() if hasattr(value, "item") else value
        out.append(clean)
    return out


def _has(engine: Engine, table: str) -> bool:
    return sa.inspect(engine).has_table(table)


def _total_forecast(engine: Engine, run_id: str) -> pd.DataFrame:
    """The total forecast of one run per day with its own calibrated p10/p90 (not sums of series quantiles),
    and the actual where it has arrived."""
    actual = _read(
        engine,
        "SELECT date, SUM(actual_quantity) AS actual FROM vw_forecast_vs_actual WHERE forecast_run_id = :run GROUP BY date",
        run=run_id,
    )
    levels = sa.table("fact_forecast_levels", *(sa.column(c) for c in ("forecast_run_id", "level", "date", "p10", "p50", "p90")))
    query = sa.select(levels.c.date, levels.c.p10, levels.c.p50, levels.c.p90).where(
        levels.c.forecast_run_id == run_id, levels.c.level == "total"
    )
    with engine.connect() as conn:
        total = pd.read_sql(query, conn) if _has(engine, "fact_forecast_levels") else pd.DataFrame(columns=["date"])
    for frame in (actual, total):
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
    out = total.merge(actual, on="date", how="left")
    return out[["date", "p10", "p50", "p90", "actual"]].sort_values("date").reset_index(drop=True)


def dashboard_data(engine: Engine) -> dict:
    """Everything the five pages show, read from the dashboard views (and the stock plan)."""
    trend = _read(engine, "SELECT date, quantity, revenue FROM vw_sales_trend ORDER BY date")
    trend["date"] = pd.to_datetime(trend["date"]).dt.date
    top = _read(
        engine,
        "SELECT product_id, product_name, category, quantity, revenue, revenue_rank FROM vw_top_products "
        "WHERE revenue_rank <= 10 ORDER BY revenue_rank",
    )
    lowest_cover = _read(
        engine,
        "SELECT store_id, product_id, stock_on_hand, avg_daily_quantity, days_of_cover FROM vw_stock_monitoring "
        "WHERE days_of_cover IS NOT NULL ORDER BY days_of_cover, store_id, product_id",
    ).head(LOWEST_COVER_ROWS)
    status = pd.DataFrame(columns=["status", "series"])
    if _has(engine, "fact_inventory_plan"):
        status = _read(engine, "SELECT status, COUNT(*) AS series FROM fact_inventory_plan GROUP BY status ORDER BY status")
    kpis = _read(engine, "SELECT * FROM vw_kpi_cards")
    latest = _read(engine, "SELECT forecast_run_id, MAX(created_at) AS created_at FROM fact_forecast GROUP BY forecast_run_id")
    forecast = pd.DataFrame(columns=["date", "p10", "p50", "p90", "actual"])
    accuracy = pd.DataFrame()
    if not latest.empty:
        run_id = latest.sort_values("created_at").iloc[-1]["forecast_run_id"]
        forecast = _total_forecast(engine, run_id)
        if _has(engine, "fact_forecast_accuracy"):
            accuracy = _read(
                engine,
                "SELECT horizon_bucket, points, mae, rmse, bias, wape, coverage_p10_p90 FROM vw_forecast_accuracy "
                "WHERE forecast_run_id = :run ORDER BY horizon_bucket",
                run=run_id,
            )
    history = trend[["date", "quantity"]]
    if not forecast.empty:
        start = forecast["date"].min() - dt.timedelta(days=HISTORY_DAYS_BESIDE_FORECAST)
        history = history[(history["date"] >= start) & (history["date"] < forecast["date"].min())]
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "trend": _records(trend),
        "top_products": _records(top),
        "stock_status": _records(status),
        "lowest_cover": _records(lowest_cover),
        "kpis": _records(kpis)[0] if not kpis.empty else {},
        "forecast": _records(forecast),
        "history": _records(history),
        "accuracy": _records(accuracy),
    }


def _script_safe_json(data: dict) -> str:
    """JSON that no product name can break out of: <, > and & as \\u escapes, which JSON.parse reads back.

    Escaping only "</" is not enough: "<!--<script>" inside a script element changes how
    the browser finds its end.
    """
    text = json.dumps(data, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_dashboard(data: dict) -> str:
    """The whole dashboard as one HTML string with the data and the drawing script inline."""
    payload = _script_safe_json(data)
    nav = "".join(f'<a href="#{key}">{html.escape(title)}</a>' for key, title in PAGES)
    template = (resources.files("nexgen_assets.lib.marts") / "dashboard.html").read_text(encoding="utf-8")
    return template.replace("{{nav}}", nav).replace("{{data}}", payload).replace(
        "{{generated}}", html.escape(data["generated_at"])
    )


def write_dashboard(path: Path, data: dict) -> Path:
    """Write dashboard.html atomically (temporary file, then rename)."""
    with atomic_path(path) as partial:
        partial.write_text(render_dashboard(data), encoding="utf-8")
    return path
