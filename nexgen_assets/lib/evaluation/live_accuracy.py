"""Live forecast accuracy: archived forecasts scored against the actuals that have arrived since.

The backtest promises an accuracy before a model serves; this module measures what
it delivers. Every archived forecast point whose day now has an actual becomes one
row (run, series, day, horizon, forecast, actual, errors); metrics roll up from there.

Scoring is incremental, so its cost follows what is new rather than the archive. A pass looks
at one RescoreScope (the runs never scored, and every point dated from the start of the
restatement window on); within it the database compares each point with its scored row, and
only points never scored or whose forecast or actual changed are read, scored and written,
while scored rows whose actual went (a retracted day) are deleted. fact_sales_daily is rebuilt
in full, so a late file may change an old day's actual; the window assumes that reaches back at
most `restatement_days` before the latest actual day (a full rescore catches anything older).
Metrics and the live verdict are aggregated in SQL over the whole table, never over one pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nexgen_assets.lib.evaluation.metrics import SUMS, horizon_bucket, summarize
from nexgen_assets.lib.forecasts.forecast_frame import FORECAST_COLUMNS
from nexgen_assets.lib.storage import warehouse as wh

SCORED_FORECAST_COLUMNS = [c for c in FORECAST_COLUMNS if c != "created_at"]
ACCURACY_TABLE = "fact_forecast_accuracy"
ACCURACY_KEY = ("forecast_run_id", "store_id", "product_id", "date")
FORECAST_VALUES = ("mean", "p10", "p50", "p90")
RUN_TABLES = (ACCURACY_TABLE, "fact_forecast_levels", "fact_forecast")
"""The tables holding rows per forecast run; an expired run leaves all of them at once."""
RESTATEMENT_DAYS = 35
MAX_LISTED_RUNS = 500
"""More unscored runs than this rescore everything: one IN list stays within every driver's parameter limit."""


def _table(engine: Engine, name: str, schema: str | None) -> sa.Table:
    return sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine)


def _columns(*names: str) -> list[sa.ColumnClause]:
    return [sa.column(name) for name in names]


def _scored_as(accuracy: sa.TableClause, forecast: sa.TableClause, actual: sa.ColumnElement) -> list[sa.ColumnElement]:
    """An accuracy row scored this forecast point with this actual.

    The point's key is matched once, so PostgreSQL's planner (even before a table is analyzed) looks the
    row up by the primary key rather than by the date index.
    """
    return [
        *[forecast.c[k] == accuracy.c[k] for k in ACCURACY_KEY],
        actual == accuracy.c.actual,
        *[forecast.c[v] == accuracy.c[v] for v in FORECAST_VALUES],
    ]


@dataclass(frozen=True)
class RescoreScope:
    """The forecast points one pass looks at: every point dated `since` or later, plus every point of `runs`.

    `since` None is the whole archive, all rescored. Otherwise only the scope's points whose score is
    missing or stale are read and written, and only its stale rows (forecast or actual changed, or
    the actual gone) deleted: the database compares them, so unchanged points never leave it.
    """

    since: dt.date | None
    runs: tuple[str, ...] = ()

    def where(self, table: sa.TableClause) -> sa.ColumnElement[bool] | None:
        """The scope as a WHERE clause on a table with forecast_run_id and date; None = every row."""
        if self.since is None:
            return None
        dated = table.c.date >= self.since
        return sa.or_(dated, table.c.forecast_run_id.in_(self.runs)) if self.runs else dated

    def stale(self, accuracy: sa.Table) -> sa.ColumnElement[bool] | None:
        """The scope's fact_forecast_accuracy rows that no longer hold, to delete; None = every row."""
        if self.since is None:
            return None
        forecast = sa.table("fact_forecast", *_columns(*ACCURACY_KEY, *FORECAST_VALUES), schema=accuracy.schema)
        sales = sa.table("fact_sales_daily", *_columns(*ACCURACY_KEY[1:], "quantity"), schema=accuracy.schema)
        day = [sales.c[k] == accuracy.c[k] for k in ACCURACY_KEY[1:]]
        holds = sa.exists().where(*_scored_as(accuracy, forecast, sales.c.quantity), *day)
        return sa.and_(self.where(accuracy), ~holds.correlate_except(forecast, sales))


def rescore_scope(
    latest_actual: dt.date | None,
    last_scored: dt.date | None,
    runs: Iterable[str],
    scored_runs: Iterable[str],
    restatement_days: int,
    full: bool = False,
) -> RescoreScope:
    """What a pass looks at: the runs never scored, and every day from `restatement_days` before the latest actual
    day on, or from the day after the last scored day when that is earlier (days that arrived while scoring paused).

    Everything, all rescored, when asked, when nothing is scored yet, when no actual is left, or past
    MAX_LISTED_RUNS unscored runs.
    """
    unscored = tuple(sorted(set(runs) - set(scored_runs)))
    if full or last_scored is None or latest_actual is None or len(unscored) > MAX_LISTED_RUNS:
        return RescoreScope(None)
    since = min(latest_actual - dt.timedelta(days=restatement_days), last_scored + dt.timedelta(days=1))
    return RescoreScope(since, unscored)


def scope_to_rescore(
    engine: Engine, runs: Iterable[str], restatement_days: int, full: bool = False, schema: str | None = None
) -> RescoreScope:
    """rescore_scope from the warehouse: the latest actual day, and the runs and last day fact_forecast_accuracy holds."""
    sales = _table(engine, "fact_sales_daily", schema)
    with engine.connect() as conn:
        latest_actual = conn.execute(sa.select(sa.func.max(sales.c.date))).scalar_one()
        if not sa.inspect(conn).has_table(ACCURACY_TABLE, schema=schema):
            return rescore_scope(latest_actual, None, runs, (), restatement_days, full)
        accuracy = sa.Table(ACCURACY_TABLE, sa.MetaData(), schema=schema, autoload_with=conn)
        last_scored = conn.execute(sa.select(sa.func.max(accuracy.c.date))).scalar_one()
        scored_runs = conn.execute(sa.select(accuracy.c.forecast_run_id).distinct()).scalars().all()
    return rescore_scope(latest_actual, last_scored, runs, scored_runs, restatement_days, full)


def forecasts_with_actuals(engine: Engine, schema: str | None = None, scope: RescoreScope | None = None) -> pd.DataFrame:
    """Archived forecast points joined to their day's actual quantity, days without actuals left out: every point,
    or of a `scope` only those not scored as they stand now (the query's WHERE clause, so no others leave the
    database)."""
    forecast = _table(engine, "fact_forecast", schema)
    sales = _table(engine, "fact_sales_daily", schema)
    query = sa.select(*[forecast.c[c] for c in SCORED_FORECAST_COLUMNS], sales.c.quantity.label("actual")).join_from(
        forecast,
        sales,
        sa.and_(
            sales.c.store_id == forecast.c.store_id,
            sales.c.product_id == forecast.c.product_id,
            sales.c.date == forecast.c.date,
        ),
    )
    if scope is not None and scope.since is not None:
        accuracy = sa.table(ACCURACY_TABLE, *_columns(*ACCURACY_KEY, "actual", *FORECAST_VALUES), schema=schema)
        scored = sa.exists().where(*_scored_as(accuracy, forecast, sales.c.quantity)).correlate_except(accuracy)
        query = query.where(scope.where(forecast), ~scored)
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def score_points(joined: pd.DataFrame) -> pd.DataFrame:
    """fact_forecast_accuracy rows: forecast against actual with the errors Power BI aggregates.

    `abs_error` scores the median p50 (MAE, WAPE); `error` and `squared_error` score the
    expected value `mean` (bias, RMSE), as the backtest does.
    """
    out = joined[SCORED_FORECAST_COLUMNS + ["actual"]].copy()
    for col in ("forecast_origin", "date"):
        out[col] = pd.to_datetime(out[col]).astype("date32[pyarrow]")
    for col in ("mean", "p10", "p50", "p90", "actual"):
        out[col] = out[col].astype("float64")
    out["horizon"] = out["horizon"].astype("int64")
    out["horizon_bucket"] = horizon_bucket(out["horizon"])
    out["error"] = out["mean"] - out["actual"]
    out["abs_error"] = (out["p50"] - out["actual"]).abs()
    out["squared_error"] = out["error"] ** 2
    out["in_interval"] = ((out["actual"] >= out["p10"]) & (out["actual"] <= out["p90"])).astype(bool)
    return out.sort_values(["forecast_run_id", "store_id", "product_id", "date"]).reset_index(drop=True)


def rescore_accuracy(
    engine: Engine,
    restatement_days: int,
    runs: Iterable[str] | None = None,
    full: bool = False,
    schema: str | None = None,
) -> tuple[RescoreScope, int, int]:
    """One scoring pass: delete the scope's stale rows and write its new and changed points, in one transaction.

    `runs` are the archived runs (default: read from fact_forecast). Actuals swapped in between the
    read and the write leave at worst a stale row, which the next pass (it follows fact_sales_daily)
    rewrites. Returns the scope, the rows deleted and the rows written.
    """
    if runs is None:
        runs = forecast_runs(engine, schema)["forecast_run_id"]
    scope = scope_to_rescore(engine, runs, restatement_days, full, schema)
    scored = score_points(forecasts_with_actuals(engine, schema, scope))
    deleted, written = wh.replace_where(engine, ACCURACY_TABLE, scored, scope.stale, ACCURACY_KEY, schema, [("date",)])
    return scope, deleted, written


def run_error_sums(engine: Engine, schema: str | None = None) -> pd.DataFrame:
    """metrics.error_sums per run and model over all of fact_forecast_accuracy, summed in SQL (one row per run returns).

    Live points have no seasonal-naive scale, so scaled_abs_error is NaN.
    """
    accuracy = _table(engine, ACCURACY_TABLE, schema)
    c = accuracy.c
    keys = [c.forecast_run_id, c.model_name, c.model_version]

    def pinball(value: sa.ColumnElement, q: float) -> sa.ColumnElement:
        diff = c.actual - value
        return sa.case((diff >= 0, q * diff), else_=(q - 1) * diff)

    def total(value: sa.ColumnElement, name: str) -> sa.Label:
        return sa.cast(sa.func.sum(value), sa.Float).label(name)

    query = sa.select(
        *keys,
        sa.func.count().label("n"),
        total(c.abs_error, "abs_error"),
        total(c.squared_error, "sq_error"),
        total(c.error, "error"),
        total(sa.func.abs(c.actual), "abs_actual"),
        total(sa.case((sa.and_(c.actual >= c.p10, c.actual <= c.p90), 1.0), else_=0.0), "covered"),
        total((pinball(c.p10, 0.1) + pinball(c.p50, 0.5) + pinball(c.p90, 0.9)) / 3, "pinball"),
    ).group_by(*keys)
    with engine.connect() as conn:
        sums = pd.read_sql(query, conn)
    sums["scaled_abs_error"] = np.nan
    return sums.astype({col: "int64" if col == "n" else "float64" for col in SUMS})


def accuracy_summary(sums: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """MAE, RMSE, bias, WAPE, p10-p90 coverage and pinball per group of run_error_sums (the backtest's metrics),
    with points scored. Live points have no seasonal-naive scale, so MASE is left out."""
    return summarize(sums, by).drop(columns=["mase"]).rename(columns={"n": "points"})


def forecast_runs(engine: Engine, schema: str | None = None) -> pd.DataFrame:
    """One row per archived forecast run: its id, model, origin and when it was made (grouped in SQL)."""
    forecast = _table(engine, "fact_forecast", schema)
    c = forecast.c
    query = sa.select(
        c.forecast_run_id,
        c.model_name,
        c.model_version,
        sa.func.min(c.forecast_origin).label("forecast_origin"),
        sa.func.max(c.created_at).label("created_at"),
    ).group_by(c.forecast_run_id, c.model_name, c.model_version)
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def expired_runs(runs: pd.DataFrame, keep_days: int, model_name: str, model_version: str) -> list[str]:
    """Runs (forecast_runs rows) whose origin is more than `keep_days` before the newest origin; 0 = none expire.

    Never the serving run (the newest created_at: what the dashboard shows) nor the serving champion's newest run.
    """
    if keep_days <= 0 or runs.empty:
        return []
    origin = pd.to_datetime(runs["forecast_origin"])
    old = runs.loc[origin < origin.max() - pd.Timedelta(days=keep_days), "forecast_run_id"]
    newest = runs.sort_values(["created_at", "forecast_run_id"], na_position="first")
    champion = newest[(newest["model_name"] == model_name) & (newest["model_version"] == model_version)]
    protected = set(newest["forecast_run_id"].tail(1)) | set(champion["forecast_run_id"].tail(1))
    return sorted(set(old) - protected)


@dataclass(frozen=True)
class AccuracyVerdict:
    passed: bool
    live_wape: float | None
    promised_wape: float
    limit: float
    points: int
    description: str


def judge_live_accuracy(
    sums: pd.DataFrame, model_name: str, model_version: str, promised_wape: float, margin: float, min_points: int
) -> AccuracyVerdict:
    """Is the serving model's live WAPE, over all its scored points (run_error_sums), within (1 + margin) of the
    WAPE its backtest promised?

    Too few scored points is not a failure: the verdict passes and says so.
    """
    limit = promised_wape * (1 + margin)
    mine = sums[(sums["model_name"] == model_name) & (sums["model_version"] == model_version)]
    points = int(mine["n"].sum())
    if points < min_points:
        return AccuracyVerdict(
            True, None, promised_wape, limit, points,
            f"{points} scored points for {model_name} {model_version}; judging needs {min_points}",
        )
    wape = accuracy_summary(mine, ["model_name"])["wape"].iat[0]
    live = float("inf") if pd.isna(wape) else float(wape)
    passed = live <= limit
    word = "within" if passed else "worse than"
    return AccuracyVerdict(
        passed, live, promised_wape, limit, points,
        f"live WAPE {live:.3f} over {points} points is {word} the backtest's {promised_wape:.3f} "
        f"plus {margin:.0%} ({limit:.3f})",
    )
