"""Lake tables stored one partition per month (`part=YYYY-MM`): month arithmetic, and which months changed."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from nexgen_assets.lib.storage.atomic import atomic_path
from nexgen_assets.lib.storage.lake import PARTITION_PREFIX, current_folder, remove_folder

REFRESH_STATE = "_refresh.json"
"""Beside the months of a table refreshed by month: what they were built from (hidden from readers by the `_`)."""


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def month_start(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def next_month(month: str) -> str:
    start = month_start(month)
    return month_of((start + dt.timedelta(days=32)).replace(day=1))


def months_between(first: str, last: str) -> list[str]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def partition_folders(table_dir: Path) -> dict[str, Path]:
    """Partition folder name -> the folder to read now, for a table stored as `part=` partitions."""
    if not table_dir.is_dir():
        return {}
    return {
        entry.name: current_folder(entry.path)
        for entry in sorted(os.scandir(table_dir), key=lambda e: e.name)
        if entry.name.startswith(PARTITION_PREFIX) and (entry.is_symlink() or entry.is_dir())
    }


def folder_version(folder: Path) -> str:
    return f"{folder.name}@{folder.stat().st_mtime_ns}"


def stored_months(table_dir: Path) -> dict[str, Path]:
    """Month -> folder to read now, for a table stored by month."""
    return {name[len(PARTITION_PREFIX) :]: folder for name, folder in partition_folders(table_dir).items()}


def month_versions(table_dir: Path) -> dict[str, str]:
    """Month -> version of its partition now: what a copy or a table built from it was last made from."""
    return {month: folder_version(folder) for month, folder in stored_months(table_dir).items()}


def months_to_publish(published: dict[str, str] | None, current: dict[str, str]) -> tuple[list[str], list[str]]:
    """Months whose partition is new or another version than the copy's, and months the copy has that are gone."""
    published = published or {}
    changed = sorted(month for month, version in current.items() if published.get(month) != version)
    return changed, sorted(set(published) - set(current))


def month_end(month: str) -> dt.date:
    return month_start(next_month(month)) - dt.timedelta(days=1)


def read_state(table_dir: Path) -> dict | None:
    """What a table refreshed by month was last built from; None before its first build by month."""
    path = table_dir / REFRESH_STATE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def write_state(table_dir: Path, state: dict) -> None:
    """Replace the table's refresh state in one rename, after its months are written."""
    with atomic_path(table_dir / REFRESH_STATE) as partial:
        Path(partial).write_text(json.dumps(state, sort_keys=True), encoding="utf-8")


def leave_whole_table_layout(table_dir: Path, grace: float) -> None:
    """A table written whole (one folder, not months) is retired, so the next refresh builds every month."""
    whole = table_dir.is_symlink() or (
        table_dir.is_dir() and any(entry.suffix == ".parquet" for entry in table_dir.iterdir())
    )
    if whole:
        remove_folder(table_dir, grace)
