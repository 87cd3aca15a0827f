"""Publishers and readers at the same time: SQLite writers wait their turn, PostgreSQL readers are never locked out."""

import random
import threading
import time

import pandas as pd
import sqlalchemy as sa

from nexgen_assets.lib.storage import warehouse as wh
from nexgen_assets_tests.conftest import pg_engine


def _rows(n: int, quantity: float) -> pd.DataFrame:
    return pd.DataFrame({"series_id": [f"S{i}" for i in range(n)], "quantity": quantity})


def test_sqlite_warehouse_uses_wal_and_a_long_busy_timeout(tmp_path):
    engine = wh.make_engine(f"sqlite:///{tmp_path / 'wh.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == wh.SQLITE_BUSY_TIMEOUT_S * 1000


def test_two_publishers_on_one_sqlite_file_both_succeed(tmp_path):
    """A publishes in two chunks and pauses between them; B publishes the same table and an archive meanwhile."""
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    wh.replace_table(wh.make_engine(url), "fact_shared", _rows(5, 0.0), primary_key=("series_id",))
    a_paused, b_finished = threading.Event(), threading.Event()
    outcome: dict = {}

    def a_batches():
        yield _rows(1000, 1.0)
        a_paused.set()
        b_finished.wait(timeout=120)
        yield _rows(1000, 1.0).assign(series_id=lambda f: "T" + f["series_id"])

    def publish_a():
        try:
            outcome["a"] = wh.replace_table(wh.make_engine(url), "fact_shared", a_batches(), primary_key=("series_id",))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcome["a"] = error

    a = threading.Thread(target=publish_a)
    a.start()
    assert a_paused.wait(timeout=60), "publisher A never staged its first chunk"
    try:
        b = wh.make_engine(url)
        outcome["b"] = wh.replace_table(b, "fact_shared", _rows(300, 2.0), primary_key=("series_id",))
        outcome["b_archive"] = wh.replace_rows(b, "fact_archive", _rows(10, 2.0).assign(run="r1"), ["run"])
        outcome["b_read_while_a_loads"] = wh.row_count(b, "fact_shared")
    finally:
        b_finished.set()
        a.join(timeout=120)
    assert outcome == {"a": 2000, "b": 300, "b_archive": 10, "b_read_while_a_loads": 300}
    out = wh.read_table(wh.make_engine(url), "fact_shared")
    assert len(out) == 2000 and set(out["quantity"]) == {1.0}


def _hold_inserts_on(conn, table: str, key: int) -> None:
    """A DBA-style trigger that parks any INSERT into `table` until advisory lock `key` is free."""
    conn.execute(sa.text(
        f"CREATE FUNCTION wait_for_gate_{key}() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_advisory_xact_lock_shared({key}); RETURN NULL; END $$"
    ))
    conn.execute(sa.text(
        f"CREATE TRIGGER hold_inserts AFTER INSERT ON {table} FOR EACH STATEMENT EXECUTE FUNCTION wait_for_gate_{key}()"
    ))


def _publish_in_background(engine, frame: pd.DataFrame, outcome: dict, label: str) -> threading.Thread:
    def publish():
        try:
            outcome[label] = wh.replace_table(engine, "fact_read", frame, primary_key=("series_id",))
        except Exception as error:  # noqa: BLE001 - reported by the caller's assertion
            outcome[label] = error

    thread = threading.Thread(target=publish)
    thread.start()
    return thread


def _wait_until(condition, thread: threading.Thread, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert thread.is_alive(), f"the publisher finished before {what}"
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


def test_postgresql_readers_see_the_old_rows_while_a_replace_swaps(pg_schema):
    """Publisher A is parked inside its swap transaction (old rows deleted, new ones inserted, not committed).

    A reader with a statement_timeout still gets the old rows, through the table and a view;
    publisher B waits for A's swap instead of mixing its rows with A's, and its publish wins.
    """
    engine = pg_engine(pg_schema)
    wh.replace_table(engine, "fact_read", _rows(50, 1.0), primary_key=("series_id",), indexes=[("quantity",)])
    key = random.randint(1, 2**31 - 1)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE VIEW vw_read AS SELECT series_id, quantity FROM fact_read"))
        _hold_inserts_on(conn, "fact_read", key)
    # autocommit: pg_stat_activity is read once per transaction, and the polls below need it fresh
    gate = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    gate.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
    b_name = f"publisher_b_{key}"
    b_engine = sa.create_engine(engine.url, connect_args={"options": f"-csearch_path={pg_schema}", "application_name": b_name})
    reader = sa.create_engine(engine.url, connect_args={"options": f"-csearch_path={pg_schema} -cstatement_timeout=5000"})
    outcome: dict = {}
    a = _publish_in_background(engine, _rows(80, 2.0), outcome, "a")
    b = None
    try:
        a_parked = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :key AND NOT granted")
        _wait_until(lambda: gate.execute(a_parked, {"key": key}).scalar_one() > 0, a, "A reached its swap")
        with reader.connect() as conn:
            table = conn.execute(sa.text("SELECT count(*), max(quantity) FROM fact_read")).one()
            view = conn.execute(sa.text("SELECT count(*), max(quantity) FROM vw_read")).one()
        assert tuple(table) == (50, 1.0) and tuple(view) == (50, 1.0)

        b = _publish_in_background(b_engine, _rows(30, 3.0), outcome, "b")
        b_waits = sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND wait_event_type = 'Lock'")
        _wait_until(lambda: gate.execute(b_waits, {"name": b_name}).scalar_one() > 0, b, "B waited for A")
    finally:
        gate.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        gate.close()
        for thread in (a, b):
            if thread is not None:
                thread.join(timeout=60)
        reader.dispose()
        b_engine.dispose()
    assert outcome == {"a": 80, "b": 30}
    with engine.connect() as conn:
        assert tuple(conn.execute(sa.text("SELECT count(*), max(quantity) FROM vw_read")).one()) == (30, 3.0)
    engine.dispose()
