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
    assert f"{name}: cannot be read" in failure
    assert not resources["lake"].exists("raw_sales", name)
