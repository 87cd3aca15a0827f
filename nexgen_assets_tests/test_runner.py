"""`nexgen run`'s pass and the retraction of a landed file, on an ephemeral instance with real Spark and SQLite."""

import dagster as dg
import pytest

from nexgen_assets.definitions import build_definitions
from nexgen_assets.runner import changed_read_whole, plan_pass, retract_file
from nexgen_assets_tests.conftest import land
from nexgen_assets_tests.defs.conftest import by_key

HEADER = "order_id,order_ts,product_id,quantity,unit_price\n"


def test_a_retracted_file_leaves_the_lake_the_warehouse_and_the_partitions(home, resources):
    name = "sales_wrong_store.csv"
    land(home / "incoming", name, HEADER + "A1,2025-01-03,P1,2,3.5\nA2,2025-01-03,P2,x,3.5\n")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sales_files", [name])
    assets = by_key(["raw_sales", "clean_sales", "ingestion_log"])
    assert dg.materialize(assets, resources=resources, instance=instance, partition_key=name).success
    lake, warehouse = resources["lake"], resources["warehouse"]
    assert lake.exists("clean_sales", name) and warehouse.row_count("sales_rejects") == 1
    defs = build_definitions(resources)

    with pytest.raises(ValueError, match="is still in"):
        retract_file(defs, instance, resources, name)
    (home / "incoming" / name).unlink()
    retraction = retract_file(defs, instance, resources, name)

    assert sorted(retraction.lake_partitions) == ["clean_sales", "raw_sales", "sales_rejects"]
    assert retraction.warehouse_rows == {"ingestion_log": 1, "sales_rejects": 1}
    assert not any(lake.exists(t, name) for t in ("raw_sales", "clean_sales", "sales_rejects"))
    assert warehouse.row_count("ingestion_log") == 0 and warehouse.row_count("sales_rejects") == 0
    assert name not in instance.get_dynamic_partitions("sales_files")
    with pytest.raises(ValueError, match="was never landed"):
        retract_file(defs, instance, resources, name)


def test_the_pass_plans_like_the_sensor_rewrites_again_and_waits_for_a_file_being_written(home, resources):
    incoming = home / "incoming"
    instance = dg.DagsterInstance.ephemeral()
    land(incoming, "sales_a.csv", HEADER + "A1,2025-01-03,P1,2,3.5\n")
    instance.add_dynamic_partitions("sales_files", ["sales_a.csv"])
    cleaned_only = by_key(["raw_sales", "clean_sales"])
    assert dg.materialize(cleaned_only, resources=resources, instance=instance, partition_key="sales_a.csv").success
    assert plan_pass(instance, incoming).to_ingest == ["sales_a.csv"], "not ingested until its ingestion_log row is"
    audited = by_key(["ingestion_log"])
    assert dg.materialize(audited, resources=resources, instance=instance, partition_key="sales_a.csv").success

    assert plan_pass(instance, incoming).to_ingest == []
    land(incoming, "sales_a.csv", HEADER + "A1,2025-01-03,P1,5,3.5\n")
    land(incoming, "sales_b.csv", HEADER + "B1,2025-01-03,P1,1,3.5\n", age=0.5)
    plan = plan_pass(instance, incoming)
    assert plan.rewritten == ["sales_a.csv"] and plan.new == ["sales_b.csv"]


def test_a_changed_list_or_calendar_is_reason_enough_for_a_refresh(home, resources):
    incoming = home / "incoming"
    instance = dg.DagsterInstance.ephemeral()
    land(incoming, "stores.csv", "store_id,store_name\nS1,Main Street\n")
    assert changed_read_whole(instance, incoming) == [], "never built: the pass builds it anyway"
    lists = by_key(["raw_stores", "raw_products", "raw_promotions"])
    assert dg.materialize(lists, resources=resources, instance=instance).success
    assert changed_read_whole(instance, incoming) == []

    land(incoming, "stores.csv", "store_id,store_name\nS1,Main Street East\n")
    land(incoming, "promotions_a.csv", "store_id,product_id,start_date,end_date,discount\n")
    assert changed_read_whole(instance, incoming) == ["raw_promotions", "raw_stores"]
    (incoming / "stores.csv").unlink()
    land(incoming, "products_a.csv", "product_id\nP1\n")
    assert changed_read_whole(instance, incoming) == ["raw_promotions", "raw_stores", "raw_products"]
