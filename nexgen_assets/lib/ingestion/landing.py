"""Decide what in the landing folder is new, rewritten, or a copy of something already landed.

The decision is kept in a small JSON state (the sensor cursor), so a restart neither
re-ingests nor skips a file: a file is (re)ingested when its content hash is new for
its name, and ignored when the same bytes were already landed under another name.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from nexgen_assets.lib.ingestion.contract import is_landable, is_promotion_file

SETTLE_SECONDS = 2.0


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class LandingState:
    """What has been landed: name -> {size, mtime_ns, sha256}."""

    files: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, cursor: str | None) -> LandingState:
        return cls(files=json.loads(cursor)["files"]) if cursor else cls()

    def to_cursor(self) -> str:
        return json.dumps({"files": self.files}, sort_keys=True)

    def owner_of(self, sha256: str) -> str | None:
        return next((name for name, f in self.files.items() if f["sha256"] == sha256), None)


@dataclass
class LandingPlan:
    new: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    duplicates: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def to_ingest(self) -> list[str]:
        return [*self.new, *self.rewritten]


def plan_landing(incoming: Path, state: LandingState, now: float | None = None) -> LandingPlan:
    """Compare the folder with the state; updates state in place for files it accepts.

    A file still being written (modified within SETTLE_SECONDS) waits for the next scan.
    Duplicates are remembered so they are not reported again, but are never ingested.
    """
    now = time.time() if now is None else now
    plan = LandingPlan()
    if not incoming.is_dir():
        return plan
    for path in sorted(p for p in incoming.iterdir() if p.is_file() and is_landable(p) and not is_promotion_file(p)):
        stat = path.stat()
        if now - stat.st_mtime < SETTLE_SECONDS:
            continue
        known = state.files.get(path.name)
        if known and known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
            continue
        sha = content_hash(path)
        record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha}
        if known and known["sha256"] == sha:
            state.files[path.name] = {**known, **record}
            continue
        owner = state.owner_of(sha)
        if owner and owner != path.name:
            plan.duplicates[path.name] = owner
            state.files[path.name] = {**record, "duplicate_of": owner}
            continue
        (plan.rewritten if known and not known.get("duplicate_of") else plan.new).append(path.name)
        plan.hashes[path.name] = sha
        state.files[path.name] = record
    return plan
