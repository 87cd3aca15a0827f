"""Assets materialized with temporary resources on an ephemeral instance."""

import gzip
import json

import dagster as dg
from pyspark.sql import functions as F

from nexgen_assets.definitions import all_asset_checks, all_assets
from nexgen_assets_tests.conftest import copy_incoming


def _by_key(keys):
    wanted = {dg.AssetKey(k) for k in keys}
    return [a for a in all_assets if set(a.keys) & wanted]


def _check(result, name):
    return next(e for e in result.get_asset_check_evaluations() if e.check_name == name)


def test_a_file_partition_keeps_every_row(small_dataset, home, resources, spark):
    manifest = json.loads((small_dataset / "truth" / "manifest.json").read_text())
    name = next(n for n, d in manifest["defects_per_file"].items() if sum(d.values()) >= 3)
    copy_incoming(small_dataset, home, [name])
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sales_files", [name])

    result = dg.materialize(
        _by_key(["raw_sales", "clean_sales"]), resources=resources, instance=instance, partition_key=name
    )

    assert result.success
    assert _check(result, "clean_sales_schema").passed and _check(result, "sales_rejects_schema").passed
    events = {e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()}
    read, accepted = events["clean_sales"]["rows_read"].value, events["clean_sales"]["rows_accepted"].value
    rejected = events["sales_rejects"]["rows_rejected"].value
    assert read == manifest["lines_per_file"][name] == accepted + rejected
    injected = {k: v for k, v in manifest["defects_per_file"][name].items() if v}
    assert events["sales_rejects"]["by_reason"].value == injected


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
        [*_by_key(["daily_sales", "sales_features"]), *all_asset_checks],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        selection=dg.AssetSelection.assets("daily_sales", "sales_features"),
        raise_on_error=False,
    )

    check = _check(result, "daily_sales_schema")
    assert not check.passed
    assert check.metadata["failing_rows"].value == 1
    samples = check.metadata["failing_samples"].value
    assert any(s["stock_on_hand"] == -5.0 for rows in samples.values() for s in rows)
    built = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert built == {"daily_sales"}
    assert not lake.exists("sales_features")


def test_a_truncated_gzip_fails_its_partition_naming_the_file(home, resources, spark):
    name = "sales_truncated.csv.gz"
    body = "order_id,order_ts,product_id,quantity,unit_price\n" + "A1,2025-01-03,P1,2,3.5\n" * 5000
    (home / "incoming" / name).write_bytes(gzip.compress(body.encode())[:300])
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sales_files", [name])

    result = dg.materialize(
        _by_key(["raw_sales"]), resources=resources, instance=instance, partition_key=name, raise_on_error=False
    )

    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.message
    assert f"{name}: cannot be read" in failure
    assert not resources["lake"].exists("raw_sales", name)
