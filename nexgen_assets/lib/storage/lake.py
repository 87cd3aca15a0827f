"""Parquet tables in the lake, each swapped in by one rename: readers see the old table or the new, never half or none.

Layout. The folder readers open by name, `<parent>/<name>` (a whole table under the lake
root, or one `part=` partition under its table folder), is a symbolic link to an immutable
version folder, `<parent>/_versions/<name>/<id>`. A write fills a new version folder, then
renames a new link over the old one; rename(2) of a link is atomic, so a reader (or a
crash at any point) finds the previous version or the new one, never neither. Spark's and
Arrow's partition discovery skip names starting with `_` or `.`, so readers of the table
never see the versions area.

Readers that hold a version. A replaced (or removed) version is kept for a grace period
(`RETIRED_GRACE_SECONDS`), so a reader that resolved the link before the swap keeps reading
whole files; writes into the same folder delete it afterwards (`collect_versions`).
`pinned_folders` / `current_folder` give the resolved folders (`LakeResource.read`,
`parquet_batches` and the row counts use them); a reader that keeps the link path instead
(`spark.read.parquet(table_dir)`) works too, but may fail with a missing file if the
partition is replaced between its listing and its reads.

Links are trusted only in that one form: a link that names anything else (another folder,
an absolute path, a versions area that is itself a link) is neither followed nor replaced
(LakeLinkError). A lake written before versions existed holds real folders: the first write
exchanges the new link with the real folder in one step (renameat2 RENAME_EXCHANGE on
Linux; elsewhere two renames, as before) and keeps the old folder as a retired version.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import logging
import os
import re
import shutil
import stat
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyspark.sql import DataFrame

from nexgen_assets.lib.storage.atomic import atomic_path

OWNER_FILE = "_partition_key"
"""Written in every partition folder: a folder that holds another key's data is never replaced."""

VERSIONS = "_versions"
"""Beside each linked folder: `_versions/<name>/<id>` are its versions (hidden from readers by the `_`)."""

RETIRED_GRACE_SECONDS = 600.0
"""How long a replaced or removed version stays on disk for readers that resolved it before the swap."""

PARTITION_PREFIX = "part="

VERSION_ID = re.compile(r"[0-9a-f]{32}")
TEMP_LINK = re.compile(r"\.link-[0-9a-f]{32}")

log = logging.getLogger(__name__)

SAFE_KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def partition_folder_name(partition_key: str) -> str:
    """One folder name per key and one key per folder name: other characters are %XX-escaped (UTF-8).

    Escaping is one-to-one, so `store 12.csv` and `store_12.csv` never share a folder.
    """
    escaped = "".join(
        ch if ch in SAFE_KEY_CHARACTERS else "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogateescape"))
        for ch in partition_key
    )
    return f"{PARTITION_PREFIX}{escaped}"


def partition_dir(table_dir: str | Path, partition_key: str) -> Path:
    """Directory of one partition of a table."""
    return Path(table_dir) / partition_folder_name(partition_key)


@dataclass(frozen=True)
class StagedTable:
    path: Path
    rows: int


class PartitionFolderConflict(ValueError):
    """A partition folder that already holds another key's data."""


class LakeLinkError(PartitionFolderConflict):
    """A link in the lake that is not the lake's own link to a version of that folder: never followed or replaced.

    A kind of folder conflict, so callers that refuse a conflicting folder refuse this one too.
    """


# --- links and versions -------------------------------------------------------------------------------------------


def _versions_area(target: Path) -> Path:
    return target.parent / VERSIONS / target.name


def _plain_folder(path: Path) -> bool:
    """True for a real folder, False when absent; LakeLinkError for a link or anything else."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(mode):
        kind = "a link" if stat.S_ISLNK(mode) else "not a folder"
        raise LakeLinkError(f"{path} in the lake's versions area is {kind}; it is neither followed nor written to")
    return True


def _ensure_folder(path: Path) -> None:
    """Create a folder of the versions area if absent; LakeLinkError when a link or a file stands there."""
    if not _plain_folder(path):
        try:
            path.mkdir()
        except FileExistsError:
            pass
        _plain_folder(path)


def _version_of(link: Path) -> Path:
    """The version folder a lake link names, checked to be in the link's own versions area."""
    text = os.readlink(link)
    parts = text.split("/")
    if len(parts) != 3 or parts[:2] != [VERSIONS, link.name] or not VERSION_ID.fullmatch(parts[2]):
        raise LakeLinkError(
            f"lake folder {link} is a link to {text!r}, not to a version in its own {VERSIONS}/{link.name} area; "
            "it is neither read nor replaced (move it away, or write the table again after removing the link)"
        )
    version = link.parent / text
    for folder in (version.parent.parent, version.parent, version):
        _plain_folder(folder)
    return version


def current_folder(path: str | Path) -> Path:
    """The folder to read for `path`: the version its link names now, or `path` itself when it is a real folder (or absent).

    The version stays on disk for the grace period after it is replaced, so a reader given
    this folder reads whole files even if the table is replaced meanwhile.
    """
    path = Path(path)
    return _version_of(path) if path.is_symlink() else path


def pinned_folders(table_dir: str | Path) -> list[Path]:
    """The folders to hand a reader for one consistent read of a table.

    A linked table gives its current version; a partitioned table (only `part=` entries)
    gives each partition's current version (the `part` column is then not inferred);
    anything else (an older layout) gives the folder itself.
    """
    path = Path(table_dir)
    if path.is_symlink():
        return [_version_of(path)]
    if not path.is_dir():
        return [path]
    entries = sorted((e for e in os.scandir(path) if not e.name.startswith((".", "_"))), key=lambda e: e.name)
    if entries and all(e.name.startswith(PARTITION_PREFIX) and (e.is_symlink() or e.is_dir()) for e in entries):
        return [current_folder(e.path) for e in entries]
    return [path]


def _names(target: Path, version_id: str) -> bool:
    """True when target is now the link to version_id."""
    try:
        return os.readlink(target) == f"{VERSIONS}/{target.name}/{version_id}"
    except OSError:
        return False


def _current_id(target: Path) -> str | None:
    return _version_of(target).name if target.is_symlink() else None


def _touch(folder: Path) -> None:
    """Stamp a version as retired now (or as about to be published): the grace period counts from here."""
    try:
        os.utime(folder)
    except FileNotFoundError:
        pass


@functools.cache
def _renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


AT_FDCWD = -100
RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system or file system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    sys.audit("nexgen_assets.lake.exchange", str(a), str(b))
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error), str(a), None, str(b))


def _swap_in(target: Path, version: Path) -> None:
    """Make target the link to version in one rename; what target was becomes a retired version."""
    link = target.with_name(f".link-{version.name}")
    os.symlink(f"{VERSIONS}/{target.name}/{version.name}", link)
    try:
        _touch(version)
        if target.is_symlink():
            _touch(_version_of(target))
            os.replace(link, target)
        elif target.is_dir():
            _swap_in_over_real_folder(target, link)
        elif target.exists():
            raise LakeLinkError(f"lake path {target} is a file, not a table folder; it is not replaced")
        else:
            os.replace(link, target)
    finally:
        if link.is_symlink():
            link.unlink()


def _swap_in_over_real_folder(target: Path, link: Path) -> None:
    """First write over a folder of the older layout: the real folder becomes a retired version."""
    retired = _versions_area(target) / uuid.uuid4().hex
    _touch(target)
    if _exchange(link, target):
        if not link.is_symlink():  # else another writer linked it meanwhile; the caller drops its link
            try:
                os.rename(link, retired)
            except OSError as error:  # the swap is done; the old folder stays hidden until collected
                log.warning("lake folder %s is swapped in, but its old copy stays at %s: %s", target, link, error)
    else:
        os.rename(target, retired)
        os.replace(link, target)


@contextmanager
def _version_lock(area: Path, version_id: str) -> Iterator[Path]:
    """Hold `<id>.lock` while a version is written and published, so collectors leave it alone."""
    lock = area / f"{version_id}.lock"
    _ensure_folder(area.parent)
    for attempt in range(5):
        _ensure_folder(area)
        try:
            handle = os.open(lock, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o644)
        except FileNotFoundError:  # a collector removed the empty area in between
            if attempt == 4:
                raise
            continue
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if os.fstat(handle).st_ino == os.lstat(lock).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(handle)  # a collector took the lock file as an orphan first: make another
    else:
        raise OSError(f"cannot hold the lock {lock}")
    try:
        yield lock
    finally:
        os.close(handle)


@contextmanager
def _new_version(target: Path, grace: float) -> Iterator[Path]:
    """A new version folder of target to write; target links to it when the block succeeds, it is deleted when it raises."""
    target.parent.mkdir(parents=True, exist_ok=True)
    current_folder(target)  # a foreign link is refused before anything is written
    version_id = uuid.uuid4().hex
    version = _versions_area(target) / version_id
    with _version_lock(version.parent, version_id) as lock:
        try:
            yield version
            _swap_in(target, version)
        except BaseException:
            if not _names(target, version_id):
                shutil.rmtree(version, ignore_errors=True)
                lock.unlink(missing_ok=True)
            raise
    _collect_after_swap(target.parent, grace)


def _collect_after_swap(folder: Path, grace: float) -> None:
    """Collect after a swap that has happened: a failure here must not report the swap as failed."""
    try:
        collect_versions(folder, grace)
    except OSError as error:
        log.warning("retired lake versions under %s were not collected: %s", folder, error)


def _old(entry: os.DirEntry, now: float, grace: float) -> bool:
    try:
        return now - entry.stat(follow_symlinks=False).st_mtime >= grace
    except FileNotFoundError:
        return False


def _scandir(path: Path | str) -> list[os.DirEntry]:
    try:
        return sorted(os.scandir(path), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _collect(target: Path, version: Path) -> bool:
    """Delete one retired version unless a writer holds it or it has become current."""
    lock = version.with_name(f"{version.name}.lock")
    try:
        handle = os.open(lock, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:
        handle = None
    except OSError:
        return False
    try:
        if handle is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
        if _names(target, version.name):  # published since the first look
            return False
        shutil.rmtree(version, ignore_errors=True)
        lock.unlink(missing_ok=True)
        return not os.path.lexists(version)
    finally:
        if handle is not None:
            os.close(handle)


def collect_versions(folder: str | Path, grace: float = RETIRED_GRACE_SECONDS) -> int:
    """Delete the versions under `folder/_versions` retired at least `grace` seconds ago; returns how many.

    Never the version a link names, nor one a writer still holds (its lock), nor one retired
    more recently. Leftovers of a killed writer (unlinked versions, lock files, temporary
    links) go the same way. A name whose link is foreign is left alone.
    """
    folder = Path(folder)
    now, deleted = time.time(), 0
    try:
        if not _plain_folder(folder / VERSIONS):
            return 0
    except LakeLinkError:
        return 0
    for area in _scandir(folder / VERSIONS):
        if not area.is_dir(follow_symlinks=False):
            continue
        target = folder / area.name
        try:
            current = _current_id(target)
        except (LakeLinkError, OSError):
            continue
        for entry in _scandir(area.path):
            name = entry.name
            if VERSION_ID.fullmatch(name) and entry.is_dir(follow_symlinks=False):
                if name != current and _old(entry, now, grace) and _collect(target, Path(entry.path)):
                    deleted += 1
            elif name.endswith(".lock") and VERSION_ID.fullmatch(name[:-5]) and not os.path.lexists(entry.path[:-5]):
                if _old(entry, now, grace):
                    _collect(target, Path(entry.path[:-5]))
        if current is None and not os.path.lexists(target):
            try:
                os.rmdir(area.path)
            except OSError:
                pass
    for entry in _scandir(folder):
        if TEMP_LINK.fullmatch(entry.name) and _old(entry, now, grace):
            if entry.is_symlink():
                Path(entry.path).unlink(missing_ok=True)
            elif entry.is_dir(follow_symlinks=False):  # a real folder a killed first write had exchanged out
                shutil.rmtree(entry.path, ignore_errors=True)
    return deleted


# --- writing ------------------------------------------------------------------------------------------------------


def _check_owner(target: Path, owner: str | None) -> None:
    marker = current_folder(target) / OWNER_FILE
    if owner is None or not marker.exists():
        return
    holder = marker.read_text(encoding="utf-8", errors="surrogateescape")
    if holder != owner:
        raise PartitionFolderConflict(f"lake folder {target} holds partition {holder!r}, not {owner!r}; it is not replaced")


@contextmanager
def staged_parquet(
    frame: DataFrame, target: str | Path, owner: str | None = None, grace: float = RETIRED_GRACE_SECONDS
) -> Iterator[StagedTable]:
    """Write frame as a new Parquet version of target; linked in when the block succeeds, discarded when it raises.

    The block sees the staged copy first (to count and check it), so data that fails a
    check never replaces what readers see. `owner` is the partition key the folder is for.
    The version replaced stays readable for `grace` seconds.
    """
    target = Path(target)
    _check_owner(target, owner)
    with _new_version(target, grace) as version:
        frame.write.mode("overwrite").parquet(str(version))
        if owner is not None:
            (version / OWNER_FILE).write_text(owner, encoding="utf-8", errors="surrogateescape")
        yield StagedTable(version, parquet_row_count(version))
        _check_owner(target, owner)


def replace_parquet(
    frame: DataFrame, target: str | Path, owner: str | None = None, grace: float = RETIRED_GRACE_SECONDS
) -> int:
    """Write frame to target as Parquet, swapping it in whole; returns the row count written.

    Only a complete write is linked in, so a failed job leaves the previous version in place.
    """
    with staged_parquet(frame, target, owner, grace) as staged:
        return staged.rows


def replace_partitions(
    frame: DataFrame, table_dir: str | Path, column: str, grace: float = RETIRED_GRACE_SECONDS
) -> dict[str, int]:
    """Write frame split by the string `column` in one Spark job and swap each value's partition in; rows per key.

    Each partition is replaced by one rename, as `replace_parquet` does; the others are left
    alone, and a value with no rows leaves its partition as it was. The split is written
    beside the table first (hidden) and moved into versions, so nothing is copied twice.
    """
    table_dir = Path(table_dir)
    table_dir.mkdir(parents=True, exist_ok=True)
    split = table_dir.parent / f".split-{table_dir.name}-{uuid.uuid4().hex}"
    written: dict[str, int] = {}
    try:
        frame.write.partitionBy(column).parquet(str(split))
        for entry in _scandir(split):
            if not (entry.is_dir(follow_symlinks=False) and entry.name.startswith(f"{column}=")):
                continue
            key = urllib.parse.unquote(entry.name[len(column) + 1 :])
            target = partition_dir(table_dir, key)
            _check_owner(target, key)
            with _new_version(target, grace) as version:
                os.rename(entry.path, version)
                (version / OWNER_FILE).write_text(key, encoding="utf-8", errors="surrogateescape")
                written[key] = parquet_row_count(version)
    finally:
        shutil.rmtree(split, ignore_errors=True)
    return written


def remove_folder(target: str | Path, grace: float = RETIRED_GRACE_SECONDS) -> bool:
    """Remove a table or partition in one step (its link, or the rename of an older real folder); False when there is none.

    The data stays on disk, retired, for `grace` seconds for readers that opened it.
    """
    target = Path(target)
    if target.is_symlink():
        _touch(_version_of(target))
        target.unlink()
    elif target.is_dir():
        area = _versions_area(target)
        _ensure_folder(area.parent)
        _ensure_folder(area)
        _touch(target)
        target.rename(area / uuid.uuid4().hex)
    else:
        return False
    _collect_after_swap(target.parent, grace)
    return True


# --- reading ------------------------------------------------------------------------------------------------------


def _files_under(folder: Path) -> Iterator[Path]:
    for entry in _scandir(folder):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_symlink():
            yield from _files_under(_version_of(Path(entry.path)))
        elif entry.is_dir():
            yield from _files_under(Path(entry.path))
        elif entry.name.endswith(".parquet"):
            yield Path(entry.path)


def parquet_files(path: str | Path) -> Iterator[Path]:
    """The Parquet files a reader of a table or partition sees, in the versions current now (hidden names skipped)."""
    for folder in pinned_folders(path):
        yield from _files_under(folder)


def parquet_row_count(path: str | Path) -> int:
    """Rows in a Parquet folder, read from file footers (no data scan)."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in parquet_files(path))


def table_exists(table_dir: str | Path) -> bool:
    """True when the table (or partition) holds at least one Parquet file a reader sees."""
    return any(True for _ in parquet_files(table_dir))


_INTEGERS = frozenset({pa.int8(), pa.int16(), pa.int32(), pa.int64()})


def _to_pandas(table: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """Days as dates, integers nullable: what the warehouse writers expect."""
    return table.to_pandas(date_as_object=True, types_mapper=lambda t: pd.Int64Dtype() if t in _INTEGERS else None)


def parquet_batches(table_dir: str | Path, rows: int) -> Iterator[pd.DataFrame]:
    """A Parquet table (or one partition) as pandas frames of at most `rows` rows: days as dates, integers nullable.

    The files are those of the versions current when the first batch is asked for.
    """
    if not os.path.exists(table_dir):
        raise FileNotFoundError(f"lake table {table_dir} does not exist")
    files = [str(f) for f in parquet_files(table_dir)]
    if not files:
        return
    for batch in ds.dataset(files, format="parquet").to_batches(batch_size=rows):
        yield _to_pandas(batch)


def empty_frame(table_dir: str | Path) -> pd.DataFrame:
    """A frame with the table's columns and types and no rows (the schema of its first file)."""
    first = next(iter(parquet_files(table_dir)), None)
    if first is None:
        raise FileNotFoundError(f"lake table {table_dir} has no Parquet file to take columns from")
    return _to_pandas(pq.read_schema(first).empty_table())


def replace_parquet_frame(frame: pd.DataFrame, target: str | Path) -> int:
    """Write a pandas frame as target/data.parquet, swapped in whole; returns rows written."""
    with atomic_path(Path(target) / "data.parquet") as partial:
        frame.to_parquet(partial, index=False)
    return len(frame)
