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
