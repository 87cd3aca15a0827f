"""Daily table -> leak-free model features, including the rows to forecast."""

import time

import dagster as dg
from dagster_pyspark import PySparkResource

from nexgen_assets.lib.features.feature_table import all_feature_columns, build_features, planned_promotions
from nexgen_assets.lib.grain import HORIZON_DAYS
from nexgen_assets.lib.marts.dimensions import product_dimension
from nexgen_assets.resources import LakeResource
from nexgen_assets.settings import current


@dg.asset(
    deps=["daily_sales", "clean_sales", "raw_promotions"],
    group_name="features",
    kinds={"spark", "parquet"},
    automation_condition=dg.AutomationCondition.eager(),
)
def sales_features(spark: PySparkResource, lake: LakeResource) -> dg.MaterializeResult:
    """Calendar, holiday, price, promo, lag and rolling features per series and day, plus future rows
    (planned promotions from the promotion calendar included)."""
    started = time.perf_counter()
    session = spark.spark_session
    daily = lake.read(session, "daily_sales")
    products = product_dimension(lake.read(session, "clean_sales"))
    calendar = lake.read_frame("promotions") if lake.exists("promotions") else None
    features = build_features(
        daily, products, planned_promotions(session, calendar), holidays=current().holiday_calendar
    )
    rows = lake.write(features, "sales_features")
    future = lake.read(session, "sales_features").where("is_future").count()
    return dg.MaterializeResult(
        metadata={
            "rows": rows,
            "dagster/row_count": rows,
            "future_rows": future,
            "horizon": HORIZON_DAYS,
            "features": ", ".join(all_feature_columns()),
            "planned_promotions": 0 if calendar is None else len(calendar),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
