"""Ingestion assets materialized with temporary resources on an ephemeral instance."""

import gzip

import dagster as dg

from nexgen_assets_tests.defs.conftest import by_key


def test_a_truncated_gzip_fails_its_partition_naming_the_file(home, resources, spark):
    name = "sales_truncated.csv.gz"
    body = "order_id,order_ts,product_id,quantity,unit_price\n" + "A1,2025-01-03,P1,2,3.5\n" * 5000
    (home / "incoming" / name).write_bytes(gzip.compress(body.encode())[:300])
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sales_files", [name])

    result = dg.materialize(
        by_key(["raw_sales"]), resources=resources, instance=instance, partition_key=name, raise_on_error=False
    )

    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.message
    assert f"{name}: is a damaged or truncated gzip file" in failure
    assert not resources["lake"].exists("raw_sales", name)


def test_the_promotion_calendar_lands_whole_with_its_rejects_and_a_broken_file_names_itself(home, resources):
    header = "store_id,product_id,start_date,end_date,discount\n"
    rows = "S1,P1,2025-02-01,2025-02-03,0.2\nS1,P2,2025-02-05,2025-02-01,0.1\n"
    (home / "incoming" / "promotions_a.csv").write_text(header + rows)
    (home / "incoming" / "promotions_b.csv").write_text(header + "S2,P1,2025-03-01,2025-03-02,0.3\n")

    result = dg.materialize(by_key(["raw_promotions"]), resources=resources, instance=dg.DagsterInstance.ephemeral())

    lake = resources["lake"]
    assert sorted(lake.read_frame("promotions")["source_file"]) == ["promotions_a.csv", "promotions_b.csv"]
    rejects = lake.read_frame("promotion_rejects")
    assert rejects[["source_file", "row_number", "reason"]].values.tolist() == [["promotions_a.csv", 3, "bad_promotion_dates"]]
    meta = result.asset_materializations_for_node("raw_promotions")[0].metadata
    assert meta["rows_read"].value == 3 and meta["promotions"].value == 2

    (home / "incoming" / "promotions_c.csv").write_text("store_id,product_id\nS1,P1\n")
    broken = dg.materialize(by_key(["raw_promotions"]), resources=resources, instance=dg.DagsterInstance.ephemeral(),
                            raise_on_error=False)
    assert not broken.success
    assert "promotions_c.csv: missing required column" in broken.get_step_failure_events()[0].event_specific_data.error.message
    assert len(lake.read_frame("promotions")) == 2


def _ingest(resources, key: str, assets=("raw_sales",)):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sales_files", [key])
    result = dg.materialize(by_key(list(assets)), resources=resources, instance=instance, partition_key=key,
                            raise_on_error=False)
    failures = result.get_step_failure_events()
    return result, failures[0].event_specific_data.error.message if failures else None


def test_a_partition_key_reaches_only_a_file_in_the_landing_folder_or_the_configured_table(home, resources):
    (home / "secret.csv").write_text("order_id,order_ts,product_id,quantity,unit_price\nS,2025-01-01,P,1,1\n")
    (home / "incoming" / "sales_link.csv").symlink_to(home / "secret.csv")

    for key, message in [
        ("../secret.csv", "not the name of a data file in the landing folder"),
        (str(home / "secret.csv"), "not the name of a data file in the landing folder"),
        ("sales_link.csv", "sales_link.csv: is a symbolic link"),
        ("db__users__start__9", "only 'order_lines' is extracted"),
    ]:
        result, failure = _ingest(resources, key)
        assert not result.success and message in failure, (key, failure)
    assert not resources["lake"].exists("raw_sales")


def test_store_and_product_lists_land_with_their_rejects_and_name_the_dimensions(home, resources):
    incoming = home / "incoming"
    (incoming / "sales_a.csv").write_text(
        "order_id,order_ts,store_id,product_id,product_name,quantity,unit_price\n"
        "A1,2025-01-03,S1,P1,tea,2,3.5\nA2,2025-01-04,S2,P2,soap,1,1.0\n"
    )
    (incoming / "stores.csv").write_text(
        "store_id,store_name,region,format,opening_date\nS1,Main Street,North,mall,2019-05-01\n"
        "S9,New Town,South,outlet,2026-03-01\nNULL,Ghost,,,\nS1,Main St,North,mall,2019-05-01\n"
    )
    (incoming / "products.csv").write_text("product_id,product_name,brand\nP1,Green tea,Leafy\n")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sales_files", ["sales_a.csv"])
    assert dg.materialize(by_key(["raw_sales", "clean_sales"]), resources=resources, instance=instance,
                          partition_key="sales_a.csv").success

    result = dg.materialize(by_key(["raw_stores", "raw_products", "dim_store", "dim_product"]), resources=resources,
                            instance=instance)

    found = {e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert (found["raw_stores"]["rows_read"].value, found["raw_stores"]["rows_accepted"].value) == (4, 2)
    assert found["store_rejects"]["by_reason"].value == {"missing_store_id": 1, "conflicting_id": 1}
    assert set(found["raw_stores"]["content_sha256"].value) == {"stores.csv"}
    assert found["dim_store"]["without_sales"].value == 1 and found["dim_store"]["listed"].value == 2
    warehouse = resources["warehouse"]
    stores = warehouse.read_table("dim_store").set_index("store_id")
    assert stores["store_name"].to_dict() == {"S1": "Main Street", "S2": None, "S9": "New Town"}
    assert stores["has_sales"].astype(bool).to_dict() == {"S1": True, "S2": True, "S9": False}
    products = warehouse.read_table("dim_product").set_index("product_id")
    assert products["product_name"].to_dict() == {"P1": "Green tea", "P2": "soap"}
    assert {"total_quantity", "total_revenue"}.isdisjoint(products.columns)
    assert "stores.csv" not in instance.get_dynamic_partitions("sales_files")
