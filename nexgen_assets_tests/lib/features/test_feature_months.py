import datetime as dt

import numpy as np
import pandas as pd

from nexgen_assets.lib.cleaning.daily_months import MonthlyDaily
from nexgen_assets.lib.features.calendar import HolidayCalendar
from nexgen_assets.lib.features.feature_months import MonthlyFeatures, inputs_fingerprint, months_reading
from nexgen_assets.lib.features.feature_table import LOOKBACK_DAYS, build_features, planned_promotions
from nexgen_assets.lib.storage.monthly import stored_months
from nexgen_assets_tests.lib.cleaning.test_daily_months import LINES, A, B, C, Lake, _lines

KEY = ["store_id", "product_id", "date"]
HOLIDAYS = HolidayCalendar()
START = dt.date(2023, 1, 1)


def _products(spark, toys="toys"):
    return spark.createDataFrame([("P1", "grocery"), ("P2", toys)], "product_id string, category string")


def _promotions(spark):
    calendar = pd.DataFrame({"store_id": ["S1"], "product_id": ["P1"], "start_date": [dt.date(2024, 8, 25)],
                             "end_date": [dt.date(2024, 9, 5)], "discount": [0.2]})
    return planned_promotions(spark, calendar)


class Features:
    def __init__(self, spark, root):
        self.spark, self.root = spark, root
        self.daily = MonthlyDaily(spark, root)
        self.features = MonthlyFeatures(spark, root)

    def refresh(self, products, promotions=None):
        self.daily.refresh()
        fingerprint = inputs_fingerprint(products.toPandas(), None if promotions is None else promotions.toPandas(), HOLIDAYS)
        return self.features.refresh(products, promotions, HOLIDAYS, fingerprint)

    def assert_equals_whole_history(self, products, promotions=None):
        daily = self.spark.read.parquet(*[str(f) for f in stored_months(self.root / "daily_sales").values()])
        whole = build_features(daily, products, promotions, holidays=HOLIDAYS).toPandas()
        folders = stored_months(self.root / "sales_features").values()
        monthly = self.spark.read.parquet(*[str(f) for f in folders]).toPandas()
        whole, monthly = (f.sort_values(KEY).reset_index(drop=True) for f in (whole, monthly))
        assert len(monthly) == len(whole) and whole["is_future"].sum() == monthly["is_future"].sum() > 0
        pd.testing.assert_frame_equal(monthly[whole.columns], whole, check_dtype=False, rtol=1e-9)


def test_new_days_rebuild_the_last_months_and_a_late_file_only_what_can_read_it(spark, tmp_path):
    lake, built = Lake(spark, tmp_path), Features(spark, tmp_path)
    lake.land("clean_sales", "history.csv", _lines("history.csv", START, 600, [A, B], 1), LINES)
    products = _products(spark)

    first = built.refresh(products)
    assert first.full and first.rebuilt[0] == "2023-01"
    built.assert_equals_whole_history(products)

    lake.land("clean_sales", "new-days.csv", _lines("new-days.csv", START + dt.timedelta(days=600), 5, [A, C], 2), LINES)
    new_days = built.refresh(products)
    assert not new_days.full and new_days.rebuilt[0] == "2024-08", "only the month of the new days and its future rows"
    built.assert_equals_whole_history(products)

    lake.land("clean_sales", "late.csv", _lines("late.csv", dt.date(2023, 2, 10), 3, [C], 3, price=9.0), LINES)
    late = built.refresh(products)
    assert late.rebuilt[0] == "2023-02" and "2023-01" not in late.rebuilt
    assert "2024-08" in late.rebuilt, "the new series' first sale and price reach the last month"
    built.assert_equals_whole_history(products)

    lake.land("clean_sales", "late-2.csv", _lines("late-2.csv", dt.date(2023, 3, 10), 8, [A], 4), LINES)
    bounded = built.refresh(products)
    reach = dt.date(2023, 3, 31) + dt.timedelta(days=LOOKBACK_DAYS)
    assert bounded.rebuilt[0] == "2023-03" and bounded.rebuilt[-1] == f"{reach:%Y-%m}" < "2024-08"
    built.assert_equals_whole_history(products)

    promotions = _promotions(spark)
    renamed = _products(spark, toys="games")
    assert built.refresh(renamed, promotions).full, "a changed category or promotion calendar rebuilds every month"
    built.assert_equals_whole_history(renamed, promotions)


def test_a_changed_month_reaches_lookback_days_ahead():
    months = months_reading(["2023-03"], "2030-01")
    assert min(months) == "2023-03" and len(months) == 1 + int(np.ceil(LOOKBACK_DAYS / 30.4))
    assert months_reading(["2024-07"], "2024-08") == {"2024-07", "2024-08"}
