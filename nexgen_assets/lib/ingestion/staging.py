"""Copy one landed file into a private staging folder before Spark reads it.

Spark then reads a copy the platform made itself, under a name it chose: a link in the
landing folder can never point Spark elsewhere, a name with `*` or `[` is never read as
a pattern, the bytes cannot change while they are read, and their hash is the hash of
what was ingested. The copy is bounded in size (compressed and expanded) and its first
bytes are checked against the format its name promises, so a gzip bomb, an Excel
workbook named `.csv` or a CSV named `.parquet` fails with a message naming the file.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nexgen_assets.lib.ingestion.contract import ContractError, file_format, is_landable

BLOCK = 1 << 20
STALE_SECONDS = 24 * 3600
"""A staged copy this old was left by a run that was killed; it is removed when the next file is staged."""
MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook?)",
    b"\xd0\xcf\x11\xe0": "an Excel 97-2003 workbook",
    b"\x1f\x8b": "gzip-compressed",
    b"PAR1": "a Parquet file",
}


@dataclass(frozen=True)
class SizeLimits:
    """Largest landed file, and largest file once decompressed, that a run will read."""

    max_file_bytes: int = 4 << 30
    max_expanded_bytes: int = 16 << 30


@dataclass(frozen=True)
class StagedFile:
    name: str
    """The name the file landed under (its partition key and `source_file`)."""
    path: Path
    """The private copy to read (decompressed for .csv.gz)."""
    sha256: str
    """Hash of the landed bytes that were copied."""
    bytes_landed: int


def check_file_name(name: str) -> None:
    """A partition key of a landed file must be a plain file name in the landing folder, nothing else."""
    if (
        not name
        or name != Path(name).name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or not is_landable(name)
    ):
        raise ContractError(f"{name!r}: not the name of a data file in the landing folder")


def _open_landed(path: Path, limits: SizeLimits) -> int:
    """A descriptor of the landed file, refusing links, special files and oversized files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as error:
        raise ContractError(f"{path.name}: landed file not found (moved or deleted after it was registered)") from error
    except OSError as error:
        if os.path.islink(path):
            raise ContractError(f"{path.name}: is a symbolic link; links are not followed") from error
        raise ContractError(f"{path.name}: cannot be opened: {error.strerror or error}") from error
    status = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(status.st_mode):
        problem = "is not a regular file"
    elif status.st_nlink > 1:
        problem = f"has {status.st_nlink} hard links; copy the file itself into the landing folder"
    elif status.st_size > limits.max_file_bytes:
        problem = f"is {status.st_size:,} bytes, above the limit of {limits.max_file_bytes:,} bytes per file"
    if problem:
        os.close(fd)
        raise ContractError(f"{path.name}: {problem}")
    return fd


def _sniff(name: str, fmt: str, head: bytes, tail: bytes = b"") -> None:
    """Refuse content that is not what the file name says it is."""
    found = next((what for magic, what in MAGIC.items() if head.startswith(magic)), None)
    if fmt == "csv.gz":
        if not head.startswith(b"\x1f\x8b"):
            looks = found or "plain text"
            raise ContractError(f"{name}: is not gzip-compressed (it is {looks}); name it after what it holds")
    elif fmt == "parquet":
        if not (head.startswith(b"PAR1") and tail.endswith(b"PAR1")):
            looks = "truncated Parquet" if head.startswith(b"PAR1") else found or "text, a CSV file?"
            raise ContractError(f"{name}: is not a complete Parquet file (it looks like {looks})")
    elif found:
        raise ContractError(f"{name}: is {found}, not {fmt.upper()} text: export it as CSV (UTF-8) or name it after its format")


def _copy(source, target, limit: int, name: str, what: str) -> int:
    copied = 0
    for block in iter(lambda: source.read(BLOCK), b""):
        copied += len(block)
        if copied > limit:
            raise ContractError(f"{name}: {what} is above the limit of {limit:,} bytes")
        target.write(block)
    return copied


def stage_landed_file(incoming: Path, name: str, staging_dir: Path, limits: SizeLimits = SizeLimits()) -> StagedFile:
    """Copy (and for .csv.gz, decompress) one landed file into staging_dir; ContractError names the file and the cause."""
    check_file_name(name)
    fmt = file_format(name)
    staging_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_stale_copies(staging_dir)
    suffix = "csv" if fmt in ("csv", "csv.gz") else fmt
    target = staging_dir / f"{uuid.uuid4().hex}.{suffix}"
    digest = hashlib.sha256()
    fd = _open_landed(incoming / name, limits)
    try:
        with os.fdopen(fd, "rb") as landed, open(target, "xb") as copy:
            os.chmod(target, 0o600)
            hashing = _HashingReader(landed, digest)
            size = os.fstat(fd).st_size
            _sniff(name, fmt, os.pread(fd, 8, 0), os.pread(fd, 4, max(0, size - 4)))
            if fmt == "csv.gz":
                expanded = gzip.GzipFile(fileobj=hashing, mode="rb")
                try:
                    _copy(expanded, copy, limits.max_expanded_bytes, name, "the decompressed content")
                except (gzip.BadGzipFile, EOFError, zlib.error) as error:
                    raise ContractError(f"{name}: is a damaged or truncated gzip file ({error})") from error
                copy.flush()
                _sniff(name, "csv", _head(target))
            else:
                _copy(hashing, copy, limits.max_file_bytes, name, "the file")
            landed_bytes = hashing.bytes_read
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return StagedFile(name=name, path=target, sha256=digest.hexdigest(), bytes_landed=landed_bytes)


@contextmanager
def staged(incoming: Path, name: str, staging_dir: Path, limits: SizeLimits = SizeLimits()) -> Iterator[StagedFile]:
    """The staged copy for the duration of a block (Spark reads lazily), removed afterwards."""
    copy = stage_landed_file(incoming, name, staging_dir, limits)
    try:
        yield copy
    finally:
        copy.path.unlink(missing_ok=True)


def _remove_stale_copies(staging_dir: Path, now: float | None = None) -> None:
    now = time.time() if now is None else now
    for entry in os.scandir(staging_dir):
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                os.unlink(entry.path)
        except FileNotFoundError:
            continue


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(8)


class _HashingReader:
    """A read-only file wrapper that hashes and counts every byte read through it."""

    def __init__(self, source, digest) -> None:
        self._source = source
        self._digest = digest
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        block = self._source.read(size)
        self._digest.update(block)
        self.bytes_read += len(block)
        return block
