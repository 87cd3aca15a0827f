"""Stock plan per store and product from the forecast quantiles: cover, stockout date, reorder point, order.

Demand over the lead time is the sum of daily p50s; its uncertainty comes from the
p10-p90 spread (a normal approximation, sd = (p90 - p10) / 2.563 per day, days
independent). Safety stock = z(service level) x that sd; reorder point = lead-time
demand + safety stock; order-up-to adds the review period's demand.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from nexgen_assets.lib.grain import SERIES_KEYS
from nexgen_assets.lib.storage.collect import collect_pandas

P10_P90_WIDTH_IN_SD = 2 * NormalDist().inv_cdf(0.9)
STATUSES = ("stockout risk", "reorder", "overstock", "ok")


def stock_positions(daily_sales: DataFrame, inventory: DataFrame | None) -> pd.DataFrame:
    """Stock on hand of every series on the last day of daily_sales, with the latest lead time its snapshots give."""
    last = daily_sales.agg(F.max("date")).first()[0]
    stock = daily_sales.where(F.col("date") == F.lit(last)).select(
        *SERIES_KEYS, F.col("date").alias("as_of"), F.coalesce("stock_on_hand", F.lit(0.0)).alias("stock_on_hand")
    )
    if inventory is None:
        return collect_pandas(stock.withColumn("lead_time_days", F.lit(None).cast("double")))
    latest = Window.partitionBy(*SERIES_KEYS).orderBy(F.col("snapshot_date").desc())
    lead = inventory.withColumn("_n", F.row_number().over(latest)).where("_n = 1").select(*SERIES_KEYS, "lead_time_days")
    return collect_pandas(stock.join(lead, SERIES_KEYS, "left"))


def plan_inventory(
    stock: pd.DataFrame,
    forecast: pd.DataFrame,
    service_level: float = 0.95,
    review_days: int = 7,
    overstock_days: float = 90.0,
    default_lead_time: int = 7,
) -> pd.DataFrame:
    """One row per series in `stock` (store_id, product_id, as_of, stock_on_hand, lead_time_days).

    `forecast` holds one run: store_id, product_id, date, p10, p50, p90.
    """
    if not 0.5 <= service_level < 1:
        raise ValueError(f"service_level must be in [0.5, 1), got {service_level}")
    z = NormalDist().inv_cdf(service_level)
    fc = forecast.sort_values([*SERIES_KEYS, "date"]).copy()
    fc["step"] = fc.groupby(SERIES_KEYS).cumcount() + 1
    fc["var"] = ((fc["p90"] - fc["p10"]) / P10_P90_WIDTH_IN_SD) ** 2
    out = stock.copy()
    lead = pd.to_numeric(out["lead_time_days"], errors="coerce")
    out["lead_time_days"] = lead.fillna(default_lead_time).clip(lower=1).astype(int)
    merged = fc.merge(out[[*SERIES_KEYS, "lead_time_days", "stock_on_hand"]], on=SERIES_KEYS, how="inner")
    in_lead = merged["step"] <= merged["lead_time_days"]
    in_cycle = merged["step"] <= merged["lead_time_days"] + review_days
    merged["cum_p50"] = merged.groupby(SERIES_KEYS)["p50"].cumsum()
    merged["runs_out"] = merged["cum_p50"] > merged["stock_on_hand"]
    per = merged.groupby(SERIES_KEYS).agg(horizon_days=("step", "max"), mean_daily=("p50", "mean"))
    per["lead_demand"] = merged[in_lead].groupby(SERIES_KEYS)["p50"].sum()
    per["lead_sd"] = np.sqrt(merged[in_lead].groupby(SERIES_KEYS)["var"].sum())
    per["cycle_demand"] = merged[in_cycle].groupby(SERIES_KEYS)["p50"].sum()
    per["stockout_date"] = merged[merged["runs_out"]].groupby(SERIES_KEYS)["date"].min()
    out = out.merge(per.reset_index(), on=SERIES_KEYS, how="left")
    out[["lead_demand", "lead_sd", "cycle_demand", "mean_daily"]] = out[
        ["lead_demand", "lead_sd", "cycle_demand", "mean_daily"]
    ].fillna(0.0)
    out["safety_stock"] = z * out["lead_sd"]
    out["reorder_point"] = out["lead_demand"] + out["safety_stock"]
    out["order_up_to"] = out["cycle_demand"] + out["safety_stock"]
    needs = out["stock_on_hand"] <= out["reorder_point"]
    out["suggested_order"] = np.where(needs, np.ceil((out["order_up_to"] - out["stock_on_hand"]).clip(lower=0)), 0.0)
    daily = out["mean_daily"].where(out["mean_daily"] > 0)
    out["days_of_cover"] = (out["stock_on_hand"] / daily).fillna(np.inf)
    lead_end = pd.to_datetime(out["as_of"]) + pd.to_timedelta(out["lead_time_days"], unit="D")
    at_risk = out["stockout_date"].notna() & (pd.to_datetime(out["stockout_date"]) <= lead_end)
    out["status"] = np.select(
        [at_risk, needs, out["days_of_cover"] > overstock_days], ["stockout risk", "reorder", "overstock"], "ok"
    )
    out["days_of_cover"] = out["days_of_cover"].replace(np.inf, np.nan).round(1)
    out["service_level"] = service_level
    columns = [*SERIES_KEYS, "as_of", "stock_on_hand", "lead_time_days", "mean_daily", "days_of_cover", "stockout_date",
               "lead_demand", "safety_stock", "reorder_point", "order_up_to", "suggested_order", "status",
               "service_level"]
    return out[columns].round({"mean_daily": 3, "lead_demand": 2, "safety_stock": 2, "reorder_point": 2,
                               "order_up_to": 2})
