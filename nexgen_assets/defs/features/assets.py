"""Daily table -> leak-free model features, including the rows to forecast."""

import time

import dagster as dg
from dagster_pyspark import PySparkResource
from pydantic import Field

from nexgen_assets.lib.features.feature_months import MonthlyFeatures, inputs_fingerprint
from nexgen_assets.lib.features.feature_table import LOOKBACK_DAYS, all_feature_columns, planned_promotions
from nexgen_assets.lib.grain import HORIZON_DAYS
from nexgen_assets.lib.marts.dimensions import product_dimension
from nexgen_assets.lib.storage.collect import collect_pandas
from nexgen_assets.resources import LakeResource
from nexgen_assets.settings import current


class SalesFeaturesConfig(dg.Config):
    full_rebuild: bool = Field(
        default=False, description="Rebuild every month, not only those that read daily months changed since the last refresh."
    )


@dg.asset(
    deps=["daily_sales", "clean_sales", "raw_promotions"],
    group_name="features",
    kinds={"spark", "parquet"},
    automation_condition=dg.AutomationCondition.eager(),
)
def sales_features(config: SalesFeaturesConfig, spark: PySparkResource, lake: LakeResource) -> dg.MaterializeResult:
    """Calendar, holiday, price, promo, lag and rolling features per series and day, plus future rows
    (planned promotions from the promotion calendar included), stored by month: changed daily months
    rebuild only the feature months that read them."""
    started = time.perf_counter()
    session = spark.spark_session
    products = product_dimension(lake.read(session, "clean_sales")).select("product_id", "category").cache()
    calendar = lake.read_frame("promotions") if lake.exists("promotions") else None
    holidays = current().holiday_calendar
    table = MonthlyFeatures(session, lake.root, lake.grace_seconds)
    refreshed = table.refresh(
        products, planned_promotions(session, calendar), holidays,
        inputs_fingerprint(collect_pandas(products), calendar, holidays), full=config.full_rebuild,
    )
    products.unpersist()
    rows = lake.row_count("sales_features")
    return dg.MaterializeResult(
        metadata={
            "rows": rows,
            "dagster/row_count": rows,
            **refreshed.metadata(),
            "horizon": HORIZON_DAYS,
            "lookback_days": LOOKBACK_DAYS,
            "features": ", ".join(all_feature_columns()),
            "planned_promotions": 0 if calendar is None else len(calendar),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
