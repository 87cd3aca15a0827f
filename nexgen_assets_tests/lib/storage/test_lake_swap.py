"""Lake swaps in one step: readers and crashes always find a whole version of a table, never none or half of one."""

import inspect
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nexgen_assets.lib.storage import lake as lake_module
from nexgen_assets.lib.storage.lake import (
    OWNER_FILE,
    VERSIONS,
    LakeLinkError,
    PartitionFolderConflict,
    collect_versions,
    current_folder,
    parquet_batches,
    parquet_row_count,
    partition_dir,
    remove_folder,
    replace_parquet,
    staged_parquet,
    table_exists,
)
from nexgen_assets.resources.lake import LakeResource

KEY = "sales 12.csv"


class ArrowWriter:
    """The part of Spark's DataFrameWriter the lake uses, written with pyarrow: a publisher without a JVM."""

    def __init__(self, rows: int):
        self.rows = rows

    def mode(self, _mode: str) -> "ArrowWriter":
        return self

    def parquet(self, path: str) -> None:
        os.makedirs(path)
        for part in range(2):
            table = pa.table({"n": list(range(part, self.rows, 2))})
            pq.write_table(table, os.path.join(path, f"part-{part:05d}.parquet"))
        open(os.path.join(path, "_SUCCESS"), "w").close()


class ArrowFrame:
    def __init__(self, rows: int):
        self.write = ArrowWriter(rows)


PUBLISHER = (
    "import os, signal, sys\n"
    "import pyarrow as pa, pyarrow.parquet as pq\n"
    "from nexgen_assets.lib.storage.lake import replace_parquet\n"
    + textwrap.dedent(inspect.getsource(ArrowWriter))
    + textwrap.dedent(inspect.getsource(ArrowFrame))
    + textwrap.dedent(
        """
        STEPS = {"open", "os.mkdir", "os.rename", "os.symlink", "os.remove", "os.rmdir", "os.utime",
                 "shutil.rmtree", "fcntl.flock", "os.scandir", "nexgen_assets.lake.exchange"}
        target, key, mode, argument = sys.argv[1:5]
        if mode == "kill-at-step":
            # SIGKILL itself just before the k-th file system step of one publish
            seen = [0]
            def hook(event, args):
                if event in STEPS:
                    seen[0] += 1
                    if seen[0] == int(argument):
                        os.kill(os.getpid(), signal.SIGKILL)
            sys.addaudithook(hook)
            replace_parquet(ArrowFrame(7), target, owner=key)
            print("done", flush=True)
        else:
            # publish 4 and 9 rows in turn until killed, collecting retired versions at once
            print("ready", flush=True)
            rows = 9
            while True:
                replace_parquet(ArrowFrame(rows), target, owner=key, grace=float(argument))
                rows = 13 - rows
        """
    )
)


def _publisher(target: Path, mode: str, argument: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, str(target), KEY, mode, argument],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _rows_readers_see(target: Path) -> int:
    """The rows of the partition as each reader sees them; fails when it is missing, foreign or torn."""
    assert target.is_symlink() or target.is_dir(), f"{target} is missing"
    assert table_exists(target)
    counted = parquet_row_count(target)
    assert sum(len(b) for b in parquet_batches(target, 3)) == counted
    assert sum(len(b) for b in parquet_batches(target.parent, 3)) == counted
    assert (current_folder(target) / OWNER_FILE).read_text() == KEY
    return counted


def _versions(target: Path) -> list[Path]:
    area = target.parent / VERSIONS / target.name
    return sorted(p for p in area.iterdir() if p.is_dir()) if area.is_dir() else []


def _age(folder: Path, minutes: float) -> None:
    then = time.time() - minutes * 60
    os.utime(folder, (then, then))


def _hidden_debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_readers_never_see_a_partition_missing_or_half_replaced_while_it_is_republished(spark, tmp_path):
    lake = LakeResource(root=str(tmp_path / "lake"))
    table = lake.table_path("clean_sales")
    lake.write(spark.createDataFrame([(f"A{i}",) for i in range(3)], "order_id string"), "clean_sales", "a.csv")
    versions = {n: spark.createDataFrame([(f"B{i}",) for i in range(n)], "order_id string") for n in (2, 5)}
    lake.write(versions[2], "clean_sales", "b.csv")
    stop, problems, reads = threading.Event(), [], {"listing": 0, "arrow": 0, "spark": 0}

    def watch(kind, check):
        while not stop.is_set():
            try:
                check()
                reads[kind] += 1
            except Exception as error:  # a reader that fails is what this test is about
                problems.append(f"{kind}: {error!r}"[:300])

    def listing():  # a cheap reader in a tight loop: existence and footer counts, as row counts and checks use
        if not lake.exists("clean_sales", "b.csv"):
            problems.append("listing: partition b.csv missing")
        if (rows := parquet_row_count(table)) not in (5, 8):
            problems.append(f"listing: table has {rows} rows")

    def arrow():  # the warehouse loader's reader
        if (rows := sum(len(b) for b in parquet_batches(table, 2))) not in (5, 8):
            problems.append(f"arrow: table has {rows} rows")

    def spark_reader():  # another run's Spark job reading the whole table, then one partition
        frame = lake.read(spark, "clean_sales")
        time.sleep(0.05)  # a job plans, then reads: the table may be replaced in between
        if (rows := frame.count()) not in (5, 8):
            problems.append(f"spark: table has {rows} rows")
        if (rows := lake.read(spark, "clean_sales", "b.csv").count()) not in (2, 5):
            problems.append(f"spark: partition has {rows} rows")

    checks = [("listing", listing), ("arrow", arrow), ("spark", spark_reader)]
    readers = [threading.Thread(target=watch, args=check) for check in checks]
    for reader in readers:
        reader.start()
    try:
        for publish in range(50):
            lake.write(versions[5 if publish % 2 == 0 else 2], "clean_sales", "b.csv")
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert problems == [], f"{len(problems)} bad reads, first: {problems[:5]}"
    assert min(reads.values()) > 0, reads
    assert lake.read(spark, "clean_sales", "b.csv").count() == 2
    assert len(_versions(partition_dir(table, "b.csv"))) == 51  # retired ones wait for the grace period
    assert _hidden_debris(table) == []


def _template(spark, folder: Path, legacy: bool) -> Path:
    """A lake partition holding 3 rows: a linked version, or a real folder as the older code wrote it."""
    target = partition_dir(folder / "clean_sales", KEY)
    frame = spark.createDataFrame([(1,), (2,), (3,)], "n long")
    if legacy:
        frame.write.parquet(str(target))
        (target / OWNER_FILE).write_text(KEY)
    else:
        replace_parquet(frame, target, owner=KEY)
    return target


@pytest.mark.parametrize("legacy", [False, True], ids=["linked", "older-layout"])
def test_a_publisher_killed_before_any_step_leaves_the_previous_or_the_new_version_whole(spark, tmp_path, legacy):
    template = _template(spark, tmp_path / "template", legacy)

    def killed_at(step: int) -> tuple[int, int, str]:
        lake = tmp_path / f"step-{step:03d}"
        shutil.copytree(tmp_path / "template", lake, symlinks=True)
        target = lake / template.relative_to(tmp_path / "template")
        process = _publisher(target, "kill-at-step", str(step))
        out, err = process.communicate(timeout=120)
        assert process.returncode in (0, -signal.SIGKILL), err
        rows = _rows_readers_see(target)
        # the next publish succeeds over whatever the killed one left, and its debris is collected
        replace_parquet(ArrowFrame(5), target, owner=KEY, grace=0)
        assert _rows_readers_see(target) == 5 and _versions(target) == [current_folder(target)]
        assert _hidden_debris(target.parent) == [] and sorted(os.listdir(target.parent)) == [VERSIONS, target.name]
        return process.returncode, rows, out

    outcomes, step = {}, 1
    with ThreadPoolExecutor(3) as pool:
        while not any(code == 0 for code, _, _ in outcomes.values()):
            assert step < 300, "the publish never finished"
            for number, outcome in zip(range(step, step + 6), pool.map(killed_at, range(step, step + 6)), strict=True):
                outcomes[number] = outcome
            step += 6
    finished = min(k for k, (code, _, _) in outcomes.items() if code == 0)
    assert finished > 10  # the publish really was cut at each of its steps
    for k in range(1, finished):
        code, rows, _ = outcomes[k]
        assert code == -signal.SIGKILL and rows in (3, 7), (k, outcomes[k])
    assert {rows for code, rows, _ in outcomes.values() if code == 0} == {7}
    assert {rows for k, (_, rows, _) in outcomes.items() if k < finished} == {3, 7}  # killed before and after the swap


def test_a_publisher_killed_at_random_moments_leaves_a_whole_version_each_time(spark, tmp_path):
    target = partition_dir(tmp_path / "lake" / "clean_sales", KEY)
    replace_parquet(ArrowFrame(4), target, owner=KEY)
    randomness = random.Random(20)
    kills = 0
    for _ in range(20):
        process = _publisher(target, "loop", "0")
        assert process.stdout.readline().strip() == "ready", process.stderr.read()
        time.sleep(randomness.uniform(0.02, 0.4))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        kills += process.returncode == -signal.SIGKILL
        assert _rows_readers_see(target) in (4, 9)
    assert kills == 20
    replace_parquet(ArrowFrame(6), target, owner=KEY, grace=0)
    assert _rows_readers_see(target) == 6 and _versions(target) == [current_folder(target)]
    assert _hidden_debris(target.parent) == []


def test_retired_versions_are_collected_after_the_grace_period_and_never_while_current_or_being_written(tmp_path):
    table = tmp_path / "lake" / "clean_sales"
    target, neighbour = partition_dir(table, KEY), partition_dir(table, "other.csv")
    replace_parquet(ArrowFrame(1), target, owner=KEY)
    first = current_folder(target)
    replace_parquet(ArrowFrame(2), target, owner=KEY)
    second = current_folder(target)
    assert first.is_dir() and first != second and _versions(target) == sorted([first, second])
    assert collect_versions(table) == 0 and first.is_dir()  # retired a moment ago

    _age(first, 11)
    _age(second, 60)  # the current version is old too: it is never collected
    assert collect_versions(table) == 1
    assert _versions(target) == [second] and parquet_row_count(target) == 2
    assert collect_versions(table, grace=0) == 0 and current_folder(target) == second

    with staged_parquet(ArrowFrame(3), target, owner=KEY) as staged:
        _age(staged.path, 60)  # a slow writer's staged version, not yet linked
        assert collect_versions(table, grace=0) == 0 and staged.path.is_dir()
        replace_parquet(ArrowFrame(1), neighbour, owner="other.csv", grace=0)  # others publish meanwhile
        assert parquet_row_count(staged.path) == 3 and parquet_row_count(target) == 2
    third = current_folder(target)
    assert third == staged.path and second.is_dir()  # retired when the third was linked: kept for now

    _age(second, 11)
    replace_parquet(ArrowFrame(2), neighbour, owner="other.csv")  # a later publish in the table collects it
    assert not second.exists() and _versions(target) == [third]

    assert remove_folder(target) and not os.path.lexists(target) and not table_exists(target)
    assert third.is_dir()  # a reader that resolved it keeps it for the grace period
    _age(third, 11)
    assert collect_versions(table) == 1 and not (table / VERSIONS / target.name).exists()
    assert parquet_row_count(table) == 2 and sorted(os.listdir(table)) == [VERSIONS, neighbour.name]


def test_a_killed_writers_leftovers_are_collected_once_its_lock_is_gone(tmp_path):
    target = partition_dir(tmp_path / "lake" / "t", KEY)
    replace_parquet(ArrowFrame(2), target, owner=KEY)
    area = target.parent / VERSIONS / target.name
    orphan = area / ("0" * 32)
    ArrowWriter(5).parquet(str(orphan))
    (area / f"{'0' * 32}.lock").write_text("")
    (area / f"{'1' * 32}.lock").write_text("")
    (target.parent / f".link-{'2' * 32}").symlink_to(f"{VERSIONS}/{target.name}/{'0' * 32}")
    for path in (orphan, area / f"{'1' * 32}.lock"):
        _age(path, 11)
    os.utime(target.parent / f".link-{'2' * 32}", (time.time() - 700,) * 2, follow_symlinks=False)
    assert collect_versions(target.parent) == 1
    assert sorted(p.name for p in area.iterdir()) == sorted([current_folder(target).name, f"{current_folder(target).name}.lock"])
    assert _hidden_debris(target.parent) == [] and parquet_row_count(target) == 2


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    ArrowWriter(4).parquet(str(outside / "data"))
    (outside / "data" / OWNER_FILE).write_text(KEY)
    return outside


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_link_that_points_outside_its_own_versions_area_is_neither_followed_nor_replaced(spark, tmp_path):
    outside = _outside(tmp_path)
    before = _snapshot(outside)
    lake = LakeResource(root=str(tmp_path / "lake"))
    table = lake.table_path("clean_sales")
    replace_parquet(ArrowFrame(1), partition_dir(table, "fine.csv"), owner="fine.csv")
    target = partition_dir(table, KEY)
    fine_version = current_folder(partition_dir(table, "fine.csv")).name
    links = [
        str(outside / "data"),  # absolute, elsewhere
        "../../outside/data",  # relative, elsewhere
        f"{VERSIONS}/{target.name}/../../../../outside/data",  # through the versions area
        f"{VERSIONS}/part=fine.csv/{fine_version}",  # another partition's version
        str(table / VERSIONS / "part=fine.csv" / fine_version),  # the lake's own folder, but absolute
    ]
    for text in links:
        target.symlink_to(text)
        for attempt in (
            lambda: replace_parquet(ArrowFrame(2), target, owner=KEY),
            lambda: replace_parquet(ArrowFrame(2), target),
            lambda: remove_folder(target),
            lambda: parquet_row_count(table),
            lambda: table_exists(target),
            lambda: list(parquet_batches(table, 10)),
            lambda: lake.read(spark, "clean_sales"),
            lambda: lake.read(spark, "clean_sales", KEY),
        ):
            with pytest.raises(LakeLinkError, match="not to a version in its own"):
                attempt()
        assert os.readlink(target) == text and _snapshot(outside) == before
        target.unlink()
    assert collect_versions(table, grace=0) == 0 and _snapshot(outside) == before
    assert issubclass(LakeLinkError, PartitionFolderConflict)  # writers that refuse a conflicting folder refuse this


def test_a_versions_area_that_is_a_link_is_never_written_through(tmp_path):
    outside = _outside(tmp_path)
    before = _snapshot(outside)
    table = tmp_path / "lake" / "t"
    table.mkdir(parents=True)
    (table / VERSIONS).symlink_to(outside)
    with pytest.raises(LakeLinkError, match="is a link"):
        replace_parquet(ArrowFrame(2), partition_dir(table, KEY), owner=KEY)
    assert _snapshot(outside) == before and sorted(os.listdir(table)) == [VERSIONS]
    (table / VERSIONS).unlink()
    (table / VERSIONS).mkdir()
    (table / VERSIONS / partition_dir(table, KEY).name).symlink_to(outside)
    with pytest.raises(LakeLinkError, match="is a link"):
        replace_parquet(ArrowFrame(2), partition_dir(table, KEY), owner=KEY)
    assert _snapshot(outside) == before
    (table / VERSIONS / partition_dir(table, KEY).name).unlink()
    replace_parquet(ArrowFrame(2), partition_dir(table, KEY), owner=KEY)
    # a link of the right form whose area was swapped for a link afterwards is not followed either
    area = table / VERSIONS / partition_dir(table, KEY).name
    area.rename(tmp_path / "moved")
    area.symlink_to(tmp_path / "moved")
    with pytest.raises(LakeLinkError, match="is a link"):
        parquet_row_count(partition_dir(table, KEY))


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "two-renames"])
def test_a_real_folder_of_the_older_layout_becomes_a_linked_version_on_its_first_write(spark, tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(lake_module, "_exchange", lambda a, b: False)
    lake = LakeResource(root=str(tmp_path / "lake"))
    table = lake.table_path("clean_sales")
    old_a = _template(spark, tmp_path / "lake", legacy=True)  # 3 rows under KEY
    old_b = partition_dir(table, "b.csv")
    spark.createDataFrame([(8,), (9,)], "n long").write.parquet(str(old_b))
    (old_b / OWNER_FILE).write_text("b.csv")
    assert lake.read(spark, "clean_sales").count() == 5 and lake.exists("clean_sales", KEY)

    with pytest.raises(PartitionFolderConflict, match="holds partition"):
        replace_parquet(ArrowFrame(4), old_a, owner="another.csv")
    assert old_a.is_dir() and not old_a.is_symlink()

    frame = spark.createDataFrame([(k,) for k in range(4)], "n long")
    assert lake.write(frame, "clean_sales", KEY) == 4
    assert old_a.is_symlink() and parquet_row_count(old_a) == 4 and lake.exists("clean_sales", KEY)
    retired = [v for v in _versions(old_a) if v != current_folder(old_a)]
    assert len(retired) == 1 and parquet_row_count(retired[0]) == 3  # the old files, kept for their readers
    assert lake.read(spark, "clean_sales").count() == 6 and lake.read(spark, "clean_sales", KEY).count() == 4
    through_links = spark.read.parquet(str(table))  # Spark's own discovery, through a link and a real folder
    assert sorted(r.part for r in through_links.select("part").distinct().collect()) == ["b.csv", KEY]
    assert through_links.count() == 6
    assert _hidden_debris(table) == []

    assert remove_folder(old_b) and not os.path.lexists(old_b)  # a real folder is retracted by one rename too
    assert lake.read(spark, "clean_sales").count() == 4 and len(_versions(old_b)) == 1


def test_spark_discovers_partitions_through_links_and_reads_linked_whole_tables(spark, tmp_path):
    lake = LakeResource(root=str(tmp_path / "lake"))
    for key, rows in [("a [1].csv", 2), ("b 50%.csv", 3)]:
        lake.write(spark.createDataFrame([(key, n) for n in range(rows)], "file string, n int"), "raw_sales", key)
    table = lake.table_path("raw_sales")
    assert all(p.is_symlink() for p in table.iterdir() if p.name.startswith("part="))
    frame = spark.read.parquet(str(table))
    assert sorted((r.part, r["count"]) for r in frame.groupBy("part").count().collect()) == [
        ("a [1].csv", 2),  # Spark unescapes the folder names back to the keys
        ("b 50%.csv", 3),
    ]
    assert spark.read.parquet(str(partition_dir(table, "b 50%.csv"))).count() == 3
    assert lake.read(spark, "raw_sales").columns == ["file", "n"] and lake.read(spark, "raw_sales").count() == 5
    assert lake.read(spark, "raw_sales", "a [1].csv").count() == 2

    assert lake.write(spark.createDataFrame([(1,), (2,)], "n int"), "daily_sales") == 2
    assert lake.table_path("daily_sales").is_symlink() and lake.exists("daily_sales")
    assert spark.read.parquet(str(lake.table_path("daily_sales"))).count() == 2
    assert lake.read(spark, "daily_sales").count() == 2 and parquet_row_count(lake.table_path("daily_sales")) == 2
    assert sorted(os.listdir(lake.root)) == [VERSIONS, "daily_sales", "raw_sales"]

    staged_frame = spark.createDataFrame([(7,)], "n int")
    with lake.staged_write(staged_frame, "raw_sales", "a [1].csv") as staged:
        pinned = lake.read_staged(spark, staged)
        assert pinned.count() == 1 and lake.read(spark, "raw_sales", "a [1].csv").count() == 2
    assert pinned.count() == 1  # the staged copy is the version linked in: still readable afterwards
    assert lake.read(spark, "raw_sales", "a [1].csv").count() == 1
