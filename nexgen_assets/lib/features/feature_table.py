"""Model features per series and day, leak-free for a direct forecast up to `horizon` days.

Every demand feature looks back at least `horizon` days (lag >= horizon, rolling windows
that end `horizon` days before the target), so a row for day d only uses sales up to
d - horizon: whatever the forecast origin inside the horizon, nothing after it is read.
Calendar, holiday, price and promo features are known ahead of time. The year-ago
features (the same week a year before, against the level a year before the origin)
tell the models how much the season lifts demand around that date. Rows for the
`horizon` days after the last observed day are appended with a null target: they are
what the forecast scores.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from nexgen_assets.lib.features.calendar import holiday_table
from nexgen_assets.lib.grain import HORIZON_DAYS, SERIES_KEYS

LAGS = (0, 7, 14, 21, 28, 336)
ROLLING_WINDOWS = (7, 28, 56, 182)


def feature_columns(horizon: int = HORIZON_DAYS) -> list[str]:
    """Numeric model inputs, in a stable order."""
    lags = [f"lag_{horizon + extra}" for extra in LAGS]
    rolling = [f"rmean_{w}_l{horizon}" for w in ROLLING_WINDOWS]
    return [
        "day_of_week", "day_of_month", "month", "week_of_year", "day_of_year", "is_weekend",
        "is_holiday", "days_to_holiday", "days_after_holiday",
        "promo", "price", "price_ratio",
        *lags, *rolling,
        f"rstd_28_l{horizon}", f"dow_mean_4w_l{horizon}", f"zero_share_28_l{horizon}",
        f"stockout_share_28_l{horizon}", "series_age_days",
        "yoy_week_mean", "yoy_level", "yoy_ratio",
    ]


def _holidays(spark: SparkSession, start: dt.date, end: dt.date) -> DataFrame:
    table = holiday_table(start - dt.timedelta(days=40), end + dt.timedelta(days=40))
    if table.empty:
        return spark.createDataFrame([], "holiday_date date")
    return spark.createDataFrame([(d,) for d in table["date"]], "holiday_date date")


def _rolling(column: str, window: int, horizon: int, fn) -> Column:
    frame = Window.partitionBy(*SERIES_KEYS).orderBy("date").rowsBetween(-(horizon + window - 1), -horizon)
    return fn(column).over(frame)


def build_features(daily_sales: DataFrame, products: DataFrame, horizon: int = HORIZON_DAYS) -> DataFrame:
    """Feature rows for all observed days plus `horizon` future days per live series."""
    spark = daily_sales.sparkSession
    bounds = daily_sales.agg(F.min("date").alias("lo"), F.max("date").alias("hi")).first()
    last_day = bounds["hi"]
    future = (
        daily_sales.groupBy(*SERIES_KEYS)
        .agg(F.max("date").alias("last"))
        .where(F.col("last") == F.lit(last_day))
        .select(
            *SERIES_KEYS,
            F.explode(F.sequence(F.date_add(F.lit(last_day), 1), F.date_add(F.lit(last_day), horizon))).alias("date"),
        )
    )
    observed = daily_sales.select(*SERIES_KEYS, "date", "quantity", "promo", "avg_price", "stockout")
    frame = observed.unionByName(future, allowMissingColumns=True).withColumn(
        "is_future", F.col("quantity").isNull()
    )

    series = Window.partitionBy(*SERIES_KEYS).orderBy("date")
    history = series.rowsBetween(Window.unboundedPreceding, 0)
    holidays = _holidays(spark, bounds["lo"], last_day + dt.timedelta(days=horizon))
    next_holiday = holidays.select(F.col("holiday_date").alias("h"))

    frame = frame.withColumn("price", F.last("avg_price", ignorenulls=True).over(history))
    yearly_price = Window.partitionBy(*SERIES_KEYS).orderBy("date").rowsBetween(-364, 0)
    demand = F.col("quantity")
    lags = {f"lag_{horizon + extra}": F.lag(demand, horizon + extra).over(series) for extra in LAGS}
    rolling = {f"rmean_{w}_l{horizon}": _rolling("quantity", w, horizon, F.avg) for w in ROLLING_WINDOWS}
    frame = frame.select(
        *SERIES_KEYS,
        "date",
        "quantity",
        "is_future",
        F.dayofweek("date").alias("day_of_week"),
        F.dayofmonth("date").alias("day_of_month"),
        F.month("date").alias("month"),
        F.weekofyear("date").alias("week_of_year"),
        F.dayofyear("date").alias("day_of_year"),
        F.dayofweek("date").isin(1, 7).cast("int").alias("is_weekend"),
        F.coalesce("promo", F.lit(0)).cast("int").alias("promo"),
        F.col("price"),
        (F.col("price") / F.avg("price").over(yearly_price)).alias("price_ratio"),
        *[expr.alias(name) for name, expr in lags.items()],
        *[expr.alias(name) for name, expr in rolling.items()],
        _rolling("quantity", 28, horizon, F.stddev).alias(f"rstd_28_l{horizon}"),
        (sum(F.lag(demand, horizon + 7 * k).over(series) for k in range(4)) / 4).alias(f"dow_mean_4w_l{horizon}"),
        F.avg((demand == 0).cast("double")).over(
            series.rowsBetween(-(horizon + 27), -horizon)
        ).alias(f"zero_share_28_l{horizon}"),
        F.avg(F.coalesce("stockout", F.lit(0)).cast("double")).over(
            series.rowsBetween(-(horizon + 27), -horizon)
        ).alias(f"stockout_share_28_l{horizon}"),
        (F.row_number().over(series) - 1).alias("series_age_days"),
        F.avg(demand).over(series.rowsBetween(-367, -361)).alias("yoy_week_mean"),
        F.avg(demand).over(series.rowsBetween(-(364 + horizon + 27), -(364 + horizon))).alias("yoy_level"),
        F.count(demand).over(series.rowsBetween(-367, -361)).alias("_yoy_days"),
    ).withColumn(
        "yoy_week_mean", F.when(F.col("_yoy_days") == 7, F.col("yoy_week_mean"))
    ).withColumn(
        "yoy_level", F.when(F.col("yoy_week_mean").isNotNull(), F.col("yoy_level"))
    ).withColumn(
        "yoy_ratio", (F.col("yoy_week_mean") + 0.1) / (F.col("yoy_level") + 0.1)
    ).drop("_yoy_days")
    holiday_marks = frame.select("date").distinct().crossJoin(next_holiday).groupBy("date").agg(
        F.max((F.col("h") == F.col("date")).cast("int")).alias("is_holiday"),
        F.min(F.when(F.col("h") >= F.col("date"), F.datediff("h", "date"))).alias("days_to_holiday"),
        F.min(F.when(F.col("h") <= F.col("date"), F.datediff("date", "h"))).alias("days_after_holiday"),
    )
    frame = frame.join(F.broadcast(holiday_marks), "date", "left").withColumn(
        "days_to_holiday", F.least(F.coalesce("days_to_holiday", F.lit(60)), F.lit(60))
    ).withColumn("days_after_holiday", F.least(F.coalesce("days_after_holiday", F.lit(60)), F.lit(60)))
    categories = products.select("product_id", F.coalesce("category", F.lit("unknown")).alias("category"))
    return frame.join(F.broadcast(categories), "product_id", "left").select(
        *SERIES_KEYS, "category", "date", "quantity", "is_future", *feature_columns(horizon)
    )
