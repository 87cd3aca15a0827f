"""Decide what in the landing folder is new, rewritten, a copy, refused, or not ready yet.

The decision is kept in a small JSON state (the sensor cursor, or rebuilt from what the
instance recorded for `nexgen run`), so a restart neither re-ingests nor skips a file: a
file is (re)ingested when its content hash changes for its name, and ignored when the
same bytes were already landed under another name. Only plain files are read: links,
folders and unreadable entries are refused with a reason and never followed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from nexgen_assets.lib.ingestion.contract import is_landable, landing_kind

SETTLE_SECONDS = 2.0
MAX_FILES_PER_SCAN = 100
MAX_BYTES_HASHED_PER_SCAN = 8 << 30
"""A scan hashes at most this much; the rest waits for the next scan, so a burst never outlasts a sensor tick."""

NOT_READ_SUFFIXES = {
    ".xlsx": "an Excel workbook",
    ".xlsm": "an Excel workbook",
    ".xls": "an Excel workbook",
    ".ods": "a spreadsheet",
    ".zip": "a ZIP archive",
    ".7z": "an archive",
    ".json": "a JSON document",
}
"""Files people drop by mistake: named in the refusals instead of being ignored without a word."""


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes, streamed, without following a symbolic link."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def printable_name(name: str) -> str:
    """A file name fit for a log line and a JSON cursor, even when its bytes are not UTF-8."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def refusal(path: Path, status: os.stat_result) -> str | None:
    """Why a landed entry must not be read (a link, not a plain file, shared by hard links), or None."""
    if stat.S_ISLNK(status.st_mode):
        return "is a symbolic link: links are not followed; copy the file itself into the landing folder"
    if not stat.S_ISREG(status.st_mode):
        return "is not a regular file"
    if status.st_nlink > 1:
        return f"has {status.st_nlink} hard links: copy the file itself into the landing folder"
    if not os.access(path, os.R_OK, follow_symlinks=False):
        return "cannot be read: permission denied"
    return None


@dataclass(frozen=True)
class LandedEntry:
    name: str
    size: int
    mtime_ns: int
    mtime: float


@dataclass
class LandingScan:
    files: list[LandedEntry] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def scan_landing(incoming: Path, kind: str = "data") -> LandingScan:
    """Files of one `landing_kind` in the landing folder, and refused entries: "data" (order lines and stock,
    one partition each), or the files read whole at every refresh ("promotions", "stores", "products").

    Never follows a link and never raises for one entry: a file that vanishes between
    listing and stat is skipped, one that cannot be stat'ed is refused with the reason.
    """
    scan = LandingScan()
    if not incoming.is_dir():
        return scan
    with os.scandir(incoming) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            name = entry.name
            if name.startswith((".", "_")):
                continue
            shown = printable_name(name)
            if shown != name:
                scan.refused[shown] = "file name is not valid UTF-8: rename the file"
                continue
            not_read = next((what for suffix, what in NOT_READ_SUFFIXES.items() if name.lower().endswith(suffix)), None)
            if not_read:
                scan.refused[name] = f"is {not_read}, which is not read: export it as CSV (UTF-8), Parquet or JSON Lines"
                continue
            if not is_landable(name) or landing_kind(name) != kind:
                continue
            try:
                status = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            except OSError as error:
                scan.refused[name] = f"cannot be read: {error.strerror or error}"
                continue
            reason = refusal(Path(entry.path), status)
            if reason:
                scan.refused[name] = reason
                continue
            scan.files.append(LandedEntry(name, status.st_size, status.st_mtime_ns, status.st_mtime))
    return scan


@dataclass
class LandingState:
    """What has been landed: name -> {size, mtime_ns, sha256, revision}, and what was refused (name -> reason)."""

    files: dict[str, dict] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, cursor: str | None) -> LandingState:
        if not cursor:
            return cls()
        saved = json.loads(cursor)
        return cls(files=saved["files"], refused=saved.get("refused", {}))

    def to_cursor(self) -> str:
        return json.dumps({"files": self.files, "refused": self.refused}, sort_keys=True)

    def owner_of(self, sha256: str) -> str | None:
        return next(
            (name for name, f in self.files.items() if f["sha256"] == sha256 and not f.get("duplicate_of")), None
        )


@dataclass
class LandingPlan:
    new: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    duplicates: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    revisions: dict[str, int] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    """Entries refused for the first time (or for a new reason): worth one log line each."""
    deferred: int = 0
    """Files left for the next scan because this one reached its bound."""

    @property
    def to_ingest(self) -> list[str]:
        return [*self.new, *self.rewritten]

    def run_key(self, name: str) -> str:
        """Unique per ingestion of a name: restoring earlier bytes is a new revision, not a skipped run."""
        return f"{name}:{self.hashes[name]}:{self.revisions[name]}"


def plan_landing(
    incoming: Path,
    state: LandingState,
    now: float | None = None,
    max_files: int = MAX_FILES_PER_SCAN,
    max_bytes: int = MAX_BYTES_HASHED_PER_SCAN,
) -> LandingPlan:
    """Compare the folder with the state; updates state in place for files it accepts.

    A file still being written (modified within SETTLE_SECONDS) waits for the next scan.
    Duplicates are remembered so they are not reported again, but are never ingested.
    At most `max_files` files are planned and `max_bytes` hashed per scan.
    """
    now = time.time() if now is None else now
    plan = LandingPlan()
    scan = scan_landing(incoming)
    plan.refused = {name: why for name, why in scan.refused.items() if state.refused.get(name) != why}
    state.refused = dict(scan.refused)
    hashed = 0
    for entry in scan.files:
        if now - entry.mtime < SETTLE_SECONDS:
            continue
        known = state.files.get(entry.name)
        if known and known["size"] == entry.size and known["mtime_ns"] == entry.mtime_ns:
            continue
        if len(plan.to_ingest) >= max_files or (hashed and hashed + entry.size > max_bytes):
            plan.deferred += 1
            continue
        try:
            sha = content_hash(incoming / entry.name)
        except FileNotFoundError:
            continue
        except OSError as error:
            state.refused[entry.name] = plan.refused[entry.name] = f"cannot be read: {error.strerror or error}"
            continue
        hashed += entry.size
        record = {"size": entry.size, "mtime_ns": entry.mtime_ns, "sha256": sha}
        if known and known["sha256"] == sha:
            state.files[entry.name] = {**known, **record}
            continue
        owner = state.owner_of(sha)
        if owner and owner != entry.name:
            plan.duplicates[entry.name] = owner
            state.files[entry.name] = {**record, "duplicate_of": owner}
            continue
        (plan.rewritten if known and not known.get("duplicate_of") else plan.new).append(entry.name)
        plan.hashes[entry.name] = sha
        plan.revisions[entry.name] = (known or {}).get("revision", 0) + 1
        state.files[entry.name] = {**record, "revision": plan.revisions[entry.name]}
    return plan
