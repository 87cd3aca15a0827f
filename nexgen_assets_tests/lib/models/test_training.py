"""Training one model on the recent feature rows, with the metadata the model store keeps."""

import datetime as dt

from nexgen_assets.lib.models.grouped import GroupedForecaster
from nexgen_assets.lib.models.seasonal_naive import SeasonalNaiveForecaster
from nexgen_assets.lib.models.training import train_model

D = dt.date(2025, 1, 1)
SCHEMA = "store_id string, product_id string, date date, quantity double, is_future boolean"


def test_model_is_fitted_on_the_last_days_and_described(spark):
    rows = [(s, "P1", D + dt.timedelta(days=k), float(k), False) for s in ("S1", "S2") for k in range(20)]
    rows += [(s, "P1", D + dt.timedelta(days=20 + k), None, True) for s in ("S1", "S2") for k in range(3)]
    features = spark.createDataFrame(rows, SCHEMA)

    trained = train_model(SeasonalNaiveForecaster(), features, history_days=3)

    assert trained.model.last_date == D + dt.timedelta(days=19)
    assert trained.model.training_rows == 2 * 3 and sorted(set(trained.model.last_season["quantity"])) == [17.0, 18.0, 19.0]
    assert trained.metadata == {
        "params": {"season": 7}, "training_rows": 6, "training_seconds": trained.seconds, "features": ["quantity"],
        "trained_through": str(D + dt.timedelta(days=19)), "history_days": 3, "training_groups": "global",
    }
    assert trained.seconds >= 0


def test_a_model_per_store_is_fitted_on_the_executors_and_its_grouping_recorded(spark):
    rows = [(s, "P1", D + dt.timedelta(days=k), float(k + 100 * n), False) for n, s in enumerate(("S1", "S2", "S3"))
            for k in range(20)]
    rows += [(s, "P1", D + dt.timedelta(days=20 + k), None, True) for s in ("S1", "S2", "S3") for k in range(3)]
    features = spark.createDataFrame(rows, SCHEMA)

    trained = train_model(SeasonalNaiveForecaster(), features, history_days=3, training_groups="store")

    assert isinstance(trained.model, GroupedForecaster) and sorted(trained.model.models) == ["S1", "S2", "S3"]
    assert sorted(trained.model.models["S3"].last_season["quantity"]) == [217.0, 218.0, 219.0]
    assert trained.metadata["training_groups"] == "store" and trained.metadata["params"] == {"season": 7}
    assert trained.metadata["training_rows"] == 9 and trained.metadata["trained_through"] == str(D + dt.timedelta(days=19))
    assert trained.extract["history_rows"] == 9 and trained.extract["training_group_count"] == 3
