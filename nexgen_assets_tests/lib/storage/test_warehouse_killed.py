"""A publish killed midway (SIGKILL, in another process) leaves readers with the old table and no debris."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import sqlalchemy as sa

from nexgen_assets.lib.storage import warehouse as wh
from nexgen_assets_tests.conftest import pg_engine, pg_url

PUBLISHER = """
import sys, time
from pathlib import Path
import pandas as pd
from nexgen_assets.lib.storage import warehouse as wh

url, marker = sys.argv[1], Path(sys.argv[2])

def batches():
    for chunk in range(3):
        yield pd.DataFrame({"series_id": [f"S{chunk}-{i}" for i in range(1000)], "quantity": 9.0})
        if chunk == 1:
            marker.write_text("two chunks staged")
            time.sleep(120)

wh.replace_table(wh.make_engine(url), "fact_killed", batches(), primary_key=("series_id",))
"""


def _publish_and_kill(url: str, marker, reader) -> pd.DataFrame:
    process = subprocess.Popen([sys.executable, "-c", PUBLISHER, url, str(marker)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the publisher never reached the middle of its load"
            time.sleep(0.2)
        during = reader()
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return during


def _old_table() -> pd.DataFrame:
    return pd.DataFrame({"series_id": [f"old-{i}" for i in range(50)], "quantity": 1.0})


def test_killed_publish_on_postgresql(pg_schema, tmp_path):
    engine = pg_engine(pg_schema)
    wh.replace_table(engine, "fact_killed", _old_table(), primary_key=("series_id",))

    during = _publish_and_kill(pg_url(pg_schema), tmp_path / "marker", lambda: wh.read_table(engine, "fact_killed"))

    assert len(during) == 50 and set(during["quantity"]) == {1.0}
    after = wh.read_table(engine, "fact_killed")
    assert len(after) == 50 and set(after["series_id"]) == set(_old_table()["series_id"])
    assert sa.inspect(engine).get_table_names() == ["fact_killed"]
    assert wh.replace_table(engine, "fact_killed", _old_table().head(5), primary_key=("series_id",)) == 5
    engine.dispose()


def test_killed_publish_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    engine = wh.make_engine(url)
    wh.replace_table(engine, "fact_killed", _old_table(), primary_key=("series_id",))

    during = _publish_and_kill(url, tmp_path / "marker", lambda: wh.read_table(engine, "fact_killed"))

    assert len(during) == 50
    after = wh.read_table(engine, "fact_killed")
    assert len(after) == 50 and set(after["quantity"]) == {1.0}
    assert sa.inspect(engine).get_table_names() == ["fact_killed"]
