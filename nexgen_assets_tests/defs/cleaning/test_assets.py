"""Cleaning assets materialized with temporary resources on an ephemeral instance."""

import json

import dagster as dg

from nexgen_assets_tests.conftest import copy_incoming
from nexgen_assets_tests.defs.conftest import by_key, check_named


def test_a_file_partition_keeps_every_row(small_dataset, home, resources, spark):
    manifest = json.loads((small_dataset / "truth" / "manifest.json").read_text())
    name = next(n for n, d in manifest["defects_per_file"].items() if sum(d.values()) >= 3)
    copy_incoming(small_dataset, home, [name])
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sales_files", [name])

    result = dg.materialize(
        by_key(["raw_sales", "clean_sales"]), resources=resources, instance=instance, partition_key=name
    )

    assert result.success
    assert check_named(result, "clean_sales_schema").passed and check_named(result, "sales_rejects_schema").passed
    events = {e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()}
    read, accepted = events["clean_sales"]["rows_read"].value, events["clean_sales"]["rows_accepted"].value
    rejected = events["sales_rejects"]["rows_rejected"].value
    assert read == manifest["lines_per_file"][name] == accepted + rejected
    injected = {k: v for k, v in manifest["defects_per_file"][name].items() if v}
    assert events["sales_rejects"]["by_reason"].value == injected
