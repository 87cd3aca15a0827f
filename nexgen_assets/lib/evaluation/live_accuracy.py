"""Live forecast accuracy: archived forecasts scored against the actuals that have arrived since.

The backtest promises an accuracy before a model serves; this module measures what
it delivers. Every archived forecast point whose day now has an actual becomes one
row (run, series, day, horizon, forecast, actual, errors); metrics roll up from there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nexgen_assets.lib.evaluation.metrics import error_sums, horizon_bucket, summarize
from nexgen_assets.lib.forecasts.forecast_frame import FORECAST_COLUMNS

SCORED_FORECAST_COLUMNS = [c for c in FORECAST_COLUMNS if c != "created_at"]


def forecasts_with_actuals(engine: Engine, schema: str | None = None) -> pd.DataFrame:
    """Every archived forecast point joined to its day's actual quantity (days without actuals left out)."""
    forecast = sa.Table("fact_forecast", sa.MetaData(), schema=schema, autoload_with=engine)
    sales = sa.Table("fact_sales_daily", sa.MetaData(), schema=schema, autoload_with=engine)
    query = sa.select(*[forecast.c[c] for c in SCORED_FORECAST_COLUMNS], sales.c.quantity.label("actual")).join_from(
        forecast,
        sales,
        sa.and_(
            sales.c.store_id == forecast.c.store_id,
            sales.c.product_id == forecast.c.product_id,
            sales.c.date == forecast.c.date,
        ),
    )
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


def accuracy_summary(scored: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """MAE, RMSE, bias, WAPE, p10-p90 coverage and pinball per group (the backtest's metrics), with points scored.

    Live points have no seasonal-naive scale, so MASE is left out.
    """
    sums = error_sums(scored.assign(scale=np.nan), by)
    return summarize(sums, by).drop(columns=["mase"]).rename(columns={"n": "points"})


@dataclass(frozen=True)
class AccuracyVerdict:
    passed: bool
    live_wape: float | None
    promised_wape: float
    limit: float
    points: int
    description: str


def judge_live_accuracy(
    scored: pd.DataFrame, model_name: str, model_version: str, promised_wape: float, margin: float, min_points: int
) -> AccuracyVerdict:
    """Is the serving model's live WAPE within (1 + margin) of the WAPE its backtest promised?

    Too few scored points is not a failure: the verdict passes and says so.
    """
    limit = promised_wape * (1 + margin)
    mine = scored[(scored["model_name"] == model_name) & (scored["model_version"] == model_version)]
    points = len(mine)
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
