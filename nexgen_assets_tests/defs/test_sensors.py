"""The landing sensor on an ephemeral instance: new, rewritten, copied and half-written files."""

import os
import time

import dagster as dg

from nexgen_assets.defs.sensors import sales_landing_sensor
from nexgen_assets.lib.ingestion.landing import LandingState, content_hash, plan_landing
from nexgen_assets.resources import LandingZoneResource

LINES = "order_id,order_ts,product_id,quantity,unit_price\nA1,2025-01-01,P1,1,2.0\n"


def _land(folder, name, text, age=60.0):
    path = folder / name
    path.write_text(text)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


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
    _land(tmp_path, "sales_a.csv", LINES)
    _land(tmp_path, "inventory_a.csv", "snapshot_date,store_id,product_id,stock_on_hand\n2025-01-01,S,P,3\n")
    _land(tmp_path, "notes.txt", "not data")

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
    _land(tmp_path, "sales_a.csv", LINES)
    first = _tick(instance, tmp_path)
    _land(tmp_path, "sales_a.csv", LINES + "A2,2025-01-02,P1,3,2.0\n", age=30.0)

    second = _tick(instance, tmp_path, first.cursor)

    assert [r.partition_key for r in second.run_requests] == ["sales_a.csv"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert second.run_requests[0].tags["nexgen/rewrite"] == "True"
    assert second.dynamic_partitions_requests == []


def test_a_renamed_copy_is_not_ingested_twice(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "sales_a.csv", LINES)
    first = _tick(instance, tmp_path)
    _land(tmp_path, "sales_a_copy.csv", LINES)

    second = _tick(instance, tmp_path, first.cursor)

    assert second.run_requests == []
    assert instance.get_dynamic_partitions("sales_files") == ["sales_a.csv"]


def test_a_file_still_being_written_waits_for_the_next_scan(tmp_path):
    state = LandingState()
    _land(tmp_path, "sales_a.csv", LINES, age=0.0)
    assert plan_landing(tmp_path, state).to_ingest == []
    assert plan_landing(tmp_path, state, now=time.time() + 5).to_ingest == ["sales_a.csv"]


def test_cursor_survives_a_restart(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "sales_a.csv", LINES)
    cursor = _tick(instance, tmp_path).cursor
    restored = LandingState.from_cursor(cursor)
    assert plan_landing(tmp_path, restored).to_ingest == []


def test_first_tick_skips_files_already_ingested_unchanged(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "sales_a.csv", LINES)
    _land(tmp_path, "sales_b.csv", LINES.replace("A1", "B1"))
    instance.add_dynamic_partitions("sales_files", ["sales_a.csv", "sales_b.csv"])
    for name, sha in (("sales_a.csv", content_hash(tmp_path / "sales_a.csv")), ("sales_b.csv", "stale-hash")):
        instance.report_runless_asset_event(
            dg.AssetMaterialization("clean_sales", partition=name, metadata={"content_sha256": sha})
        )

    first = _tick(instance, tmp_path)

    assert [r.partition_key for r in first.run_requests] == ["sales_b.csv"]


def test_a_lone_sales_file_is_ingested_and_refreshed_in_one_run(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "sales_a.csv", LINES)
    first = _tick(instance, tmp_path)
    assert [(r.job_name, r.partition_key) for r in first.run_requests] == [("sales_file_refresh_job", "sales_a.csv")]

    _land(tmp_path, "sales_b.csv", LINES.replace("A1", "B1"))
    _land(tmp_path, "sales_c.csv", LINES.replace("A1", "C1"))
    second = _tick(instance, tmp_path, first.cursor)
    assert sorted((r.job_name, r.partition_key) for r in second.run_requests) == [
        ("sales_file_job", "sales_b.csv"), ("sales_file_job", "sales_c.csv")
    ]


def test_the_quick_refresh_job_never_retrains():
    from nexgen_assets.definitions import defs

    job = defs.resolve_job_def("sales_file_refresh_job")
    selected = {key.path[-1] for key in job.asset_layer.selected_asset_keys}
    assert {"raw_sales", "clean_sales", "daily_sales", "fact_sales_daily", "sales_forecast", "inventory_plan",
            "dim_product", "dim_store", "sales_dashboard"} <= selected
    assert not selected & {"xgboost_model", "lstm_model", "random_forest_model", "seasonal_naive_model",
                           "champion_model", "backtest_results", "model_leaderboard", "raw_inventory"}
