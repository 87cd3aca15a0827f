"""The source database sensor: incremental extraction from a live PostgreSQL table."""

import datetime as dt
import json

import dagster as dg
import pytest
import sqlalchemy as sa

from nexgen_assets.definitions import all_assets
from nexgen_assets.defs.sensors import source_db_sensor
from nexgen_assets.resources import SourceDatabaseResource
from nexgen_assets_tests.conftest import POSTGRES_URL, pg_url

T0 = dt.datetime(2025, 3, 1, 9, 0)


@pytest.fixture
def source_table(pg_schema):
    schema = pg_schema
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(
            f"CREATE TABLE {schema}.order_lines (order_id text, order_ts timestamp, store_id text, product_id text, "
            "quantity numeric, unit_price numeric, updated_at timestamp)"
        ))
    yield engine, schema
    engine.dispose()


def _insert(engine, schema, rows):
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"INSERT INTO {schema}.order_lines VALUES (:o, :ts, 'S1', :p, :q, 2.5, :w)"), rows
        )


def _rows(ids, minutes):
    return [{"o": f"O{i}", "ts": T0, "p": f"P{i % 2}", "q": 1 + i, "w": T0 + dt.timedelta(minutes=m)}
            for i, m in zip(ids, minutes, strict=True)]


def _tick(instance, resource, cursor):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"source_db": resource})
    result = source_db_sensor(context)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        return result, result.cursor
    return result, context.cursor


def test_batches_follow_the_watermark_and_wait_until_ingested(source_table, resources, spark):
    engine, schema = source_table
    _insert(engine, schema, _rows([1, 2, 3, 4, 5], [0, 0, 1, 2, 3]))
    source = SourceDatabaseResource(url=pg_url(schema), batch_rows=3)
    instance = dg.DagsterInstance.ephemeral()

    first, cursor = _tick(instance, source, None)
    key = first.run_requests[0].partition_key
    assert key == f"db__order_lines__start__{(T0 + dt.timedelta(minutes=1)).isoformat()}"
    waiting, cursor = _tick(instance, source, cursor)
    assert isinstance(waiting, dg.SkipReason) and "waiting for batch" in waiting.skip_message

    cleaned = [a for a in all_assets if {k.path[-1] for k in a.keys} & {"raw_sales", "clean_sales"}]
    result = dg.materialize(cleaned, resources={**resources, "source_db": source}, instance=instance,
                            partition_key=key)
    assert result.success
    clean = resources["lake"].read(spark, "clean_sales", key)
    assert sorted(r["order_id"] for r in clean.collect()) == ["O1", "O2", "O3"]
    still, cursor = _tick(instance, source, cursor)
    assert isinstance(still, dg.SkipReason), "in the lake but not yet in ingestion_log: the batch is not ingested"

    audited = [a for a in all_assets if dg.AssetKey("ingestion_log") in a.keys]
    assert dg.materialize(audited, resources={**resources, "source_db": source}, instance=instance,
                          partition_key=key).success

    second, cursor = _tick(instance, source, cursor)
    assert second.run_requests[0].partition_key.startswith(f"db__order_lines__{(T0 + dt.timedelta(minutes=1)).isoformat()}__")
    assert json.loads(cursor)["committed"] == (T0 + dt.timedelta(minutes=1)).isoformat()


def test_nothing_new_is_a_skip(source_table):
    engine, schema = source_table
    source = SourceDatabaseResource(url=pg_url(schema))
    result, _ = _tick(dg.DagsterInstance.ephemeral(), source, None)
    assert isinstance(result, dg.SkipReason) and "no rows in order_lines" in result.skip_message


def test_off_without_a_url():
    result, _ = _tick(dg.DagsterInstance.ephemeral(), SourceDatabaseResource(), None)
    assert "NEXGEN_SOURCE_DB_URL" in result.skip_message


def test_a_row_that_commits_late_with_an_older_watermark_is_read_by_the_next_batch(source_table):
    engine, schema = source_table
    _insert(engine, schema, _rows([1, 2, 3], [0, 1, 2]))
    source = SourceDatabaseResource(url=pg_url(schema), batch_rows=3, overlap_seconds=300)
    first = source.next_batch(None)
    assert sorted(source.read_batch(first)["order_id"]) == ["O1", "O2", "O3"]

    _insert(engine, schema, [{"o": "LATE", "ts": T0, "p": "P1", "q": 7, "w": T0 + dt.timedelta(minutes=1, seconds=30)}]
            + _rows([4], [5]))
    second = source.next_batch(first.high)

    reread = sorted(source.read_batch(second)["order_id"])
    assert "LATE" in reread and "O4" in reread, reread
    without_overlap = SourceDatabaseResource(url=pg_url(schema), batch_rows=3, overlap_seconds=0)
    assert "LATE" not in set(without_overlap.read_batch(second)["order_id"])


def test_a_line_deleted_in_the_source_leaves_daily_sales(source_table, resources, spark):
    engine, schema = source_table
    with engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE {schema}.order_lines ADD COLUMN is_deleted boolean"))
    _insert(engine, schema, _rows([1, 2], [0, 0]))
    source = SourceDatabaseResource(url=pg_url(schema), overlap_seconds=0, deleted_column="is_deleted")
    instance = dg.DagsterInstance.ephemeral()
    selected = [a for a in all_assets if {k.path[-1] for k in a.keys} & {"raw_sales", "clean_sales"}]
    daily = [a for a in all_assets if dg.AssetKey("daily_sales") in a.keys]

    def pull(cursor):
        request, cursor = _tick(instance, source, cursor)
        key = request.run_requests[0].partition_key
        assert dg.materialize(selected, resources={**resources, "source_db": source}, instance=instance,
                              partition_key=key).success
        audited = [a for a in all_assets if dg.AssetKey("ingestion_log") in a.keys]
        assert dg.materialize(audited, resources={**resources, "source_db": source}, instance=instance,
                              partition_key=key).success
        assert dg.materialize(daily, resources=resources, instance=instance).success
        return cursor, {r["product_id"]: r["quantity"] for r in resources["lake"].read(spark, "daily_sales").collect()}

    cursor, before = pull(None)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {schema}.order_lines SET is_deleted = true, updated_at = :w WHERE order_id = 'O1'"),
                     {"w": T0 + dt.timedelta(minutes=5)})
    _, after = pull(cursor)

    assert before == {"P1": 2.0, "P0": 3.0}
    assert after == {"P0": 3.0}, "O1, P1's only line (2 units), was deleted in the source"
