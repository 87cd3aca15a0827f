"""The blocking cleaning checks on an ephemeral instance: a failed check stops the assets below."""

import dagster as dg
from pyspark.sql import functions as F

from nexgen_assets.definitions import all_asset_checks
from nexgen_assets_tests.defs.conftest import by_key, check_named


def test_blocking_check_failure_stops_the_assets_below(small_dataset, home, resources, spark):
    lake = resources["lake"]
    lines = spark.createDataFrame(
        [("O1", "2024-01-01 10:00:00", "S1", "P1", "n", "c", 2.0, 1.0, 0, 2.0)],
        "order_id string, order_ts string, store_id string, product_id string, product_name string, "
        "category string, quantity double, unit_price double, promo int, revenue double",
    ).withColumn("order_ts", F.to_timestamp("order_ts")).withColumn("order_date", F.to_date("order_ts"))
    lake.write(lines, "clean_sales", "manual.csv")
    bad_inventory = spark.createDataFrame(
        [("2024-01-01", "S1", "P1", -5.0)], "snapshot_date string, store_id string, product_id string, stock_on_hand double"
    ).withColumn("snapshot_date", F.to_date("snapshot_date"))
    lake.write(bad_inventory, "raw_inventory", "manual.csv")

    result = dg.materialize(
        [*by_key(["daily_sales", "sales_features"]), *all_asset_checks],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        selection=dg.AssetSelection.assets("daily_sales", "sales_features"),
        raise_on_error=False,
    )

    check = check_named(result, "daily_sales_schema")
    assert not check.passed
    assert check.metadata["failing_rows"].value == 1
    samples = check.metadata["failing_samples"].value
    assert any(s["stock_on_hand"] == -5.0 for rows in samples.values() for s in rows)
    built = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert built == {"daily_sales"}
    assert not lake.exists("sales_features")
