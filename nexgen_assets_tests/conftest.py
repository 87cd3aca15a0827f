"""Shared fixtures: one SparkSession per test session, temporary NEXGEN homes, small generated data."""

import datetime as dt
import os
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyspark.sql import SparkSession

from nexgen_assets.demo.generator import GeneratorConfig, generate
from nexgen_assets.resources import build_resources, spark_config
from nexgen_assets.settings import Settings

POSTGRES_URL = os.environ.get("NEXGEN_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")

SMALL = GeneratorConfig(
    stores=3, products=6, days=150, holdout_days=14, seed=11, start=dt.date(2024, 9, 1), defect_rate=0.01
)


ONE_DAEMON_AT_A_TIME = {"test_daemon_faults.py", "test_dev.py", "test_instance.py", "test_sensors_retry.py"}
"""Test files that start a Dagster daemon: `make test` runs them on one xdist worker, one after another, since the
fault test kills the machine's one daemon by its command line."""


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if item.path.name in ONE_DAEMON_AT_A_TIME:
            item.add_marker(pytest.mark.xdist_group("daemon"))


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    """The one session for the whole suite; resources built in tests reuse it via getOrCreate."""
    config = spark_config(Settings(), "local[2]")
    config["spark.sql.shuffle.partitions"] = "2"
    builder = SparkSession.builder
    for key, value in config.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "incoming").mkdir()
    return tmp_path


@pytest.fixture
def resources(home: Path, spark, monkeypatch) -> dict:
    monkeypatch.delenv("NEXGEN_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("NEXGEN_SPARK_MASTER", "local[2]")
    return build_resources(home)


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory) -> Path:
    """A generated dataset (3 stores x 6 products x 150 days) shared read-only by tests."""
    out = tmp_path_factory.mktemp("small_dataset")
    generate(out, SMALL)
    return out


def copy_incoming(dataset: Path, home: Path, names: list[str] | None = None) -> list[str]:
    """Land files from a generated dataset into a home's incoming folder."""
    landed = []
    for path in sorted((dataset / "incoming").iterdir()):
        if names is None or path.name in names:
            (home / "incoming" / path.name).write_bytes(path.read_bytes())
            landed.append(path.name)
    return landed


@pytest.fixture
def pg_schema():
    """A throw-away schema in the live PostgreSQL; yields its name and drops it afterwards."""
    schema = f"t_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield schema
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def pg_engine(schema: str) -> sa.Engine:
    """An engine whose unqualified tables live in `schema`."""
    return sa.create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})


def pg_url(schema: str) -> str:
    """A URL whose unqualified tables live in `schema` (for resources that take a URL)."""
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"



ONE_LINE_SALES = "order_id,order_ts,product_id,quantity,unit_price\nA1,2025-01-01,P1,1,2.0\n"


def land(folder: Path, name: str, text: str, age: float = 60.0) -> Path:
    """Write a file into a landing folder, last modified `age` seconds ago (settled unless age is small)."""
    path = folder / name
    path.write_text(text)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


def process_group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc: what a stopped service must not leave."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members
