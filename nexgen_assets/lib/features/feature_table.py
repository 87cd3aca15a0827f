"""Model features per series and day, leak-free for direct forecasts of every horizon span.

Demand features come in one set per demand lag L (the last day of each model span,
see MODEL_SPANS): lags >= L and rolling windows that end L days before the target, so
a row for day d only uses sales up to d - L. The model serving horizons up to L reads
only that set, so whatever the forecast origin inside its span, nothing after it is
read; short spans see the most recent weeks. Calendar, holiday, price and promo features are known ahead of time: a planned
promotion from the promotion calendar marks its days as promo (future days included)
and takes its discount off the last regular (non-promo) price on future days. The year-ago
features (the same week a year before, against the level a year before the origin)
tell the models how much the season lifts demand around that date. Rows for the
`horizon` days after the last observed day are appended with a null target: they are
what the forecast scores.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from nexgen_assets.lib.features.calendar import HolidayCalendar
from nexgen_assets.lib.grain import HORIZON_DAYS, MODEL_SPANS, SERIES_KEYS

DEMAND_LAGS = tuple(last for _, last in MODEL_SPANS)
"""One demand feature set per model span, lagged by the span's last day."""
LAGS = (0, 7, 14, 21, 28, 336)
ROLLING_WINDOWS = (7, 28, 56, 182)
CALENDAR_COLUMNS = [
    "day_of_week", "day_of_month", "month", "week_of_year", "day_of_year", "is_weekend",
    "is_holiday", "days_to_holiday", "days_after_holiday",
    "promo", "price", "price_ratio",
]
SEASON_COLUMNS = ["series_age_days", "yoy_week_mean", "yoy_level", "yoy_ratio", "holiday_ratio_last_year"]
HOLIDAY_RECURRENCE_DAYS = 400
"""A holiday's last occurrence counts as "last year" when at most this many days before (Easter moves up to 385)."""
MATURE_AGE_DAYS = 400
"""series_age_days stops counting here: past a year and a season a series is simply established."""
REGULAR_PRICE_DAYS = 400
"""How far back the last regular (non-promo) price is looked for; older than that, the last price serves."""
LOOKBACK_DAYS = max(
    max(LAGS) + max(MODEL_SPANS)[1],
    364 + HORIZON_DAYS + 27,
    HOLIDAY_RECURRENCE_DAYS + 28,
    MATURE_AGE_DAYS,
    REGULAR_PRICE_DAYS,
)
"""The farthest back any feature of a day reads: features of a stretch of days computed from the daily rows of
that stretch and LOOKBACK_DAYS before it equal those of the whole history."""


def demand_columns(lag: int) -> list[str]:
    """Demand features of one lag set: nothing newer than `lag` days before the target."""
    return [
        *[f"lag_{lag + extra}" for extra in LAGS],
        *[f"rmean_{w}_l{lag}" for w in ROLLING_WINDOWS],
        f"rstd_28_l{lag}", f"dow_mean_4w_l{lag}", f"zero_share_28_l{lag}", f"stockout_share_28_l{lag}",
    ]


def feature_columns(lag: int = HORIZON_DAYS) -> list[str]:
    """Numeric inputs of the model whose demand features lag `lag` days, in a stable order."""
    return [*CALENDAR_COLUMNS, *demand_columns(lag), *SEASON_COLUMNS]


def all_feature_columns() -> list[str]:
    """Every numeric column of the feature table: the shared ones and each lag set, without repeats."""
    columns = [*CALENDAR_COLUMNS]
    for lag in DEMAND_LAGS:
        columns += [c for c in demand_columns(lag) if c not in columns]
    return [*columns, *SEASON_COLUMNS]


def _holidays(spark: SparkSession, calendar: HolidayCalendar, start: dt.date, end: dt.date) -> DataFrame:
    table = calendar.table(start - dt.timedelta(days=40), end + dt.timedelta(days=40))
    if table.empty:
        return spark.createDataFrame([], "holiday_date date, holiday string")
    return spark.createDataFrame(list(zip(table["date"], table["holiday"], strict=True)), "holiday_date date, holiday string")


def _holiday_ratio_last_year(frame: DataFrame, holidays: DataFrame, series: Window) -> DataFrame:
    """On a holiday, how the series sold on the same holiday last year against its 28 days before it.

    Christmas can cut sales to a sixth while Black Friday doubles them; a generic holiday
    flag cannot tell them apart, each series' own last occurrence can. Read a year back,
    so it is known for every forecast day.
    """
    named = holidays.select(F.col("holiday_date").alias("date"), "holiday")
    frame = frame.join(F.broadcast(named), "date", "left").withColumn(
        "_before", F.avg("quantity").over(series.rowsBetween(-28, -1))
    )
    occurrences = Window.partitionBy(*SERIES_KEYS, "holiday").orderBy("date")
    ratio = (F.lag("quantity", 1).over(occurrences) + 0.1) / (F.lag("_before", 1).over(occurrences) + 0.1)
    last_year = F.datediff("date", F.lag("date", 1).over(occurrences)) <= HOLIDAY_RECURRENCE_DAYS
    return frame.withColumn(
        "holiday_ratio_last_year", F.when(F.col("holiday").isNotNull() & last_year, ratio)
    ).drop("holiday", "_before")


def _rolling(column: str, window: int, horizon: int, fn) -> Column:
    frame = Window.partitionBy(*SERIES_KEYS).orderBy("date").rowsBetween(-(horizon + window - 1), -horizon)
    return fn(column).over(frame)


def _demand_features(lag: int, series: Window) -> dict[str, Column]:
    """The demand feature set read by models whose horizons end at `lag` days."""
    demand = F.col("quantity")
    recent = series.rowsBetween(-(lag + 27), -lag)
    return {
        **{f"lag_{lag + extra}": F.lag(demand, lag + extra).over(series) for extra in LAGS},
        **{f"rmean_{w}_l{lag}": _rolling("quantity", w, lag, F.avg) for w in ROLLING_WINDOWS},
        f"rstd_28_l{lag}": _rolling("quantity", 28, lag, F.stddev),
        f"dow_mean_4w_l{lag}": sum(F.lag(demand, _same_weekday(lag) + 7 * k).over(series) for k in range(4)) / 4,
        f"zero_share_28_l{lag}": F.avg((demand == 0).cast("double")).over(recent),
        f"stockout_share_28_l{lag}": F.avg(F.coalesce("stockout", F.lit(0)).cast("double")).over(recent),
    }


def _same_weekday(lag: int) -> int:
    """The smallest multiple of 7 that is at least `lag`: the latest same weekday a lag set may read."""
    return -(-lag // 7) * 7


PROMOTION_SCHEMA = "store_id string, product_id string, start_date date, end_date date, discount double"


def planned_promotions(spark: SparkSession, calendar: pd.DataFrame | None) -> DataFrame | None:
    """The promotion calendar (store_id, product_id, start_date, end_date, discount) as a Spark frame; None when empty."""
    if calendar is None or calendar.empty:
        return None
    rows = calendar[["store_id", "product_id", "start_date", "end_date", "discount"]].copy()
    for col in ("start_date", "end_date"):
        rows[col] = pd.to_datetime(rows[col]).dt.date
    return spark.createDataFrame([tuple(r) for r in rows.itertuples(index=False)], PROMOTION_SCHEMA)


def _promotion_days(promotions: DataFrame) -> DataFrame:
    """One row per series and promoted day with the deepest planned discount."""
    days = promotions.select(*SERIES_KEYS, F.explode(F.sequence("start_date", "end_date")).alias("date"), "discount")
    return days.groupBy(*SERIES_KEYS, "date").agg(F.max("discount").alias("planned_discount"))


def build_features(
    daily_sales: DataFrame,
    products: DataFrame,
    promotions: DataFrame | None = None,
    horizon: int = HORIZON_DAYS,
    holidays: HolidayCalendar = HolidayCalendar(),
) -> DataFrame:
    """Feature rows for all observed days plus `horizon` future days per live series; `promotions` is the
    optional calendar of planned promotions (see planned_promotions), `holidays` the public holidays and
    retail events the holiday features mark (both kinds alike)."""
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
    if promotions is not None:
        frame = frame.join(_promotion_days(promotions), [*SERIES_KEYS, "date"], "left")
    else:
        frame = frame.withColumn("planned_discount", F.lit(None).cast("double"))

    series = Window.partitionBy(*SERIES_KEYS).orderBy("date")
    history = series.rowsBetween(Window.unboundedPreceding, 0)
    holiday_days = _holidays(spark, holidays, bounds["lo"], last_day + dt.timedelta(days=horizon))
    next_holiday = holiday_days.select(F.col("holiday_date").alias("h"))

    last_price = F.last("avg_price", ignorenulls=True).over(history)
    regular_window = series.rowsBetween(-REGULAR_PRICE_DAYS, 0)
    regular_price = F.last(F.when(F.coalesce("promo", F.lit(0)) == 0, F.col("avg_price")), ignorenulls=True).over(
        regular_window
    )
    future_price = F.coalesce(regular_price, last_price) * (1 - F.coalesce("planned_discount", F.lit(0.0)))
    frame = frame.withColumn("price", F.when(F.col("is_future"), future_price).otherwise(last_price))
    frame = _holiday_ratio_last_year(frame, holiday_days, series)
    yearly_price = Window.partitionBy(*SERIES_KEYS).orderBy("date").rowsBetween(-364, 0)
    demand = F.col("quantity")
    demand_sets: dict[str, Column] = {}
    for lag in DEMAND_LAGS:
        demand_sets.update({k: v for k, v in _demand_features(lag, series).items() if k not in demand_sets})
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
        F.greatest(F.coalesce("promo", F.lit(0)).cast("int"), F.col("planned_discount").isNotNull().cast("int")).alias("promo"),
        F.col("price"),
        (F.col("price") / F.avg("price").over(yearly_price)).alias("price_ratio"),
        *[expr.alias(name) for name, expr in demand_sets.items()],
        F.count("date").over(series.rowsBetween(-MATURE_AGE_DAYS, -1)).alias("series_age_days"),
        F.avg(demand).over(series.rowsBetween(-367, -361)).alias("yoy_week_mean"),
        F.avg(demand).over(series.rowsBetween(-(364 + HORIZON_DAYS + 27), -(364 + HORIZON_DAYS))).alias("yoy_level"),
        F.count(demand).over(series.rowsBetween(-367, -361)).alias("_yoy_days"),
        "holiday_ratio_last_year",
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
        *SERIES_KEYS, "category", "date", "quantity", "is_future", *all_feature_columns()
    )
