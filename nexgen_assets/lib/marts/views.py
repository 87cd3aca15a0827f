"""The dashboard views, one SQL script per dialect in the package's sql/ folder, applied to the warehouse."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

SQL_ROOT = Path(str(resources.files("nexgen_assets") / "sql"))
FOLDERS = {"mssql": "mssql", "postgresql": "postgres", "sqlite": "sqlite"}
VIEWS = (
    "vw_sales_trend", "vw_top_products", "vw_stock_monitoring", "vw_kpi_cards", "vw_forecast_vs_actual", "vw_forecast_accuracy",
    "vw_forecast_latest",
)


def view_script(dialect: str) -> Path:
    """The views script for a dialect; ValueError names an unsupported one."""
    if dialect not in FOLDERS:
        raise ValueError(f"no dashboard views for dialect {dialect!r}; supported: {', '.join(FOLDERS)}")
    path = SQL_ROOT / FOLDERS[dialect] / "010_dashboard_views.sql"
    if not path.exists():
        raise FileNotFoundError(f"dashboard views script missing: {path}")
    return path


def statements(script: str, dialect: str) -> list[str]:
    """Split a script into statements: on GO lines for T-SQL, on semicolons elsewhere."""
    body = "\n".join(line for line in script.splitlines() if not line.strip().startswith("--"))
    parts = re.split(r"^\s*GO\s*$", body, flags=re.MULTILINE) if dialect == "mssql" else body.split(";")
    return [p.strip().rstrip(";").strip() for p in parts if p.strip()]


def apply_views(engine: Engine) -> list[str]:
    """(Re)create every dashboard view in one transaction; returns the view names."""
    script = view_script(engine.dialect.name).read_text()
    with engine.begin() as conn:
        for statement in statements(script, engine.dialect.name):
            conn.execute(sa.text(statement))
    return list(VIEWS)
