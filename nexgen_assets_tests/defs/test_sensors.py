"""The landing sensor on an ephemeral instance: new, rewritten, copied and half-written files."""

import json
import os

import dagster as dg

from nexgen_assets.defs.sensors import promotions_sensor, reference_lists_sensor, sales_landing_sensor
from nexgen_assets.lib.ingestion.landing import LandingState, content_hash, plan_landing
from nexgen_assets.resources import LandingZoneResource
from nexgen_assets_tests.conftest import ONE_LINE_SALES, land

LINES = ONE_LINE_SALES


def _tick(instance, incoming, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"landing": LandingZoneResource(incoming_dir=str(incoming))}
    )
    result = sales_landing_sensor(context)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_new_files_become_partitions_and_runs_once(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    land(tmp_path, "sales_a.csv", LINES)
    land(tmp_path, "inventory_a.csv", "snapshot_date,store_id,product_id,stock_on_hand\n2025-01-01,S,P,3\n")
    land(tmp_path, "notes.txt", "not data")

    first = _tick(instance, tmp_path)

    assert sorted((r.job_name, r.partition_key) for r in first.run_requests) == [
        ("inventory_file_job", "inventory_a.csv"), ("sales_file_job", "sales_a.csv")
    ]
    assert instance.get_dynamic_partitions("sales_files") == ["sales_a.csv"]
    assert instance.get_dynamic_partitions("inventory_files") == ["inventory_a.csv"]
    again = _tick(instance, tmp_path, first.cursor)
    assert again.run_requests == [] and again.dynamic_partitions_requests == []


def test_rewritten_file_is_reingested_under_the_same_partition(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    land(tmp_path, "sales_a.csv", LINES)
    first = _tick(instance, tmp_path)
    land(tmp_path, "sales_a.csv", LINES + "A2,2025-01-02,P1,3,2.0\n", age=30.0)

    second = _tick(instance, tmp_path, first.cursor)

    assert [r.partition_key for r in second.run_requests] == ["sales_a.csv"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert second.run_requests[0].tags["nexgen/rewrite"] == "True"
    assert second.dynamic_partitions_requests == []


def test_a_renamed_copy_is_not_ingested_twice(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    land(tmp_path, "sales_a.csv", LINES)
    first = _tick(instance, tmp_path)
    land(tmp_path, "sales_a_copy.csv", LINES)

    second = _tick(instance, tmp_path, first.cursor)

    assert second.run_requests == []
    assert instance.get_dynamic_partitions("sales_files") == ["sales_a.csv"]


def test_cursor_survives_a_restart(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    land(tmp_path, "sales_a.csv", LINES)
    cursor = _tick(instance, tmp_path).cursor
    restored = LandingState.from_cursor(cursor)
    assert plan_landing(tmp_path, restored).to_ingest == []


def test_first_tick_skips_files_already_ingested_unchanged(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    land(tmp_path, "sales_a.csv", LINES)
    land(tmp_path, "sales_b.csv", LINES.replace("A1", "B1"))
    instance.add_dynamic_partitions("sales_files", ["sales_a.csv", "sales_b.csv"])
    for name, sha in (("sales_a.csv", content_hash(tmp_path / "sales_a.csv")), ("sales_b.csv", "stale-hash")):
        instance.report_runless_asset_event(
            dg.AssetMaterialization("ingestion_log", partition=name, metadata={"content_sha256": sha})
        )

    first = _tick(instance, tmp_path)

    assert [r.partition_key for r in first.run_requests] == ["sales_b.csv"]


def test_a_lone_sales_file_is_ingested_and_refreshed_in_one_run(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    land(tmp_path, "sales_a.csv", LINES)
    first = _tick(instance, tmp_path)
    assert [(r.job_name, r.partition_key) for r in first.run_requests] == [("sales_file_refresh_job", "sales_a.csv")]

    land(tmp_path, "sales_b.csv", LINES.replace("A1", "B1"))
    land(tmp_path, "sales_c.csv", LINES.replace("A1", "C1"))
    second = _tick(instance, tmp_path, first.cursor)
    assert sorted((r.job_name, r.partition_key) for r in second.run_requests) == [
        ("sales_file_job", "sales_b.csv"), ("sales_file_job", "sales_c.csv")
    ]


def _sales_ingested(instance) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization("ingestion_log", partition="sales_a.csv"))


def test_lists_and_calendars_wait_for_the_first_ingested_sales_and_an_absent_list_never_refreshes(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    resources = {"landing": LandingZoneResource(incoming_dir=str(tmp_path))}
    land(tmp_path, "stores.csv", "store_id,store_name,region\nS1,Main Street,North\n")

    waiting = reference_lists_sensor(dg.build_sensor_context(instance=instance, resources=resources))
    nothing = promotions_sensor(dg.build_sensor_context(instance=instance, resources=resources))
    _sales_ingested(instance)
    ready = reference_lists_sensor(dg.build_sensor_context(instance=instance, resources=resources))
    still_nothing = promotions_sensor(dg.build_sensor_context(instance=instance, resources=resources))

    assert isinstance(waiting, dg.SkipReason) and "first ingested sales file" in waiting.skip_message
    assert isinstance(nothing, dg.SkipReason)
    assert [r.run_key[:6] for r in ready.run_requests] == ["lists:"]
    assert isinstance(still_nothing, dg.SkipReason) and "unchanged" in still_nothing.skip_message


def test_a_promotion_calendar_is_not_order_lines_and_a_change_requests_one_refresh(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _sales_ingested(instance)
    land(tmp_path, "promotions_2025.csv", "store_id,product_id,start_date,end_date,discount\nS,P,2025-01-01,2025-01-03,0.1\n")
    assert _tick(instance, tmp_path).run_requests == []

    def promotions_tick(cursor=None):
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"landing": LandingZoneResource(incoming_dir=str(tmp_path))}
        )
        return promotions_sensor(context)

    first = promotions_tick()
    assert [r.job_name for r in first.run_requests] == [None] and first.run_requests[0].run_key.startswith("promotions:")
    assert isinstance(promotions_tick(first.cursor), dg.SkipReason)
    land(tmp_path, "promotions_2025.csv", "store_id,product_id,start_date,end_date,discount\nS,P,2025-01-01,2025-01-04,0.1\n")
    changed = promotions_tick(first.cursor)
    assert changed.run_requests[0].run_key != first.run_requests[0].run_key


def test_store_and_product_lists_are_not_order_lines_and_a_change_requests_one_refresh(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _sales_ingested(instance)
    land(tmp_path, "stores.csv", "store_id,store_name,region\nS1,Main Street,North\n")
    land(tmp_path, "products_2025.csv", "product_id,brand\nP1,Acme\n")
    assert _tick(instance, tmp_path).run_requests == []

    def lists_tick(cursor=None):
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"landing": LandingZoneResource(incoming_dir=str(tmp_path))}
        )
        return reference_lists_sensor(context)

    first = lists_tick()
    assert [r.run_key[:6] for r in first.run_requests] == ["lists:"]
    assert sorted(json.loads(first.cursor)) == ["products_2025.csv", "stores.csv"]
    assert isinstance(lists_tick(first.cursor), dg.SkipReason)
    land(tmp_path, "stores.csv", "store_id,store_name,region\nS1,Main Street,South\n")
    changed = lists_tick(first.cursor)
    assert changed.run_requests[0].run_key != first.run_requests[0].run_key
    (tmp_path / "products_2025.csv").unlink()
    assert sorted(json.loads(lists_tick(changed.cursor).cursor)) == ["stores.csv"], "a removed list refreshes too"


def test_a_refused_entry_never_stops_the_good_files_and_a_burst_is_sliced(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    outside = tmp_path / "outside"
    outside.mkdir()
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "sales_link.csv").symlink_to(land(outside, "passwd.csv", LINES))
    (incoming / "sales_dir.csv").mkdir()
    os.close(os.open(os.fsencode(incoming) + b"/sales_\xff.csv", os.O_CREAT | os.O_WRONLY))
    for i in range(105):
        land(incoming, f"sales_{i:03d}.csv", f"{LINES}# {i}\n")

    first = _tick(instance, incoming)
    second = _tick(instance, incoming, first.cursor)

    assert [r.partition_key for r in first.run_requests] == [f"sales_{i:03d}.csv" for i in range(100)]
    assert [r.partition_key for r in second.run_requests] == [f"sales_{i:03d}.csv" for i in range(100, 105)]
    refused = LandingState.from_cursor(second.cursor).refused
    assert set(refused) == {"sales_link.csv", "sales_dir.csv", "sales_\\xff.csv"}
    assert "passwd.csv" not in second.cursor
