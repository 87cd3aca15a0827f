"""The promotion calendar: planned promotions per store and product, a known future input of the forecast.

Retailers plan promotions weeks ahead, so the models may read them for future days.
Calendars are small, so every `promotions_*` file in the landing folder is read whole on
each refresh: a corrected file replaces what it said before. Rows that cannot be a
promotion are kept aside with a reason; accepted plus rejected rows equal rows read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nexgen_assets.lib.grain import MAX_ID_LENGTH
from nexgen_assets.lib.ingestion.contract import (
    EARLIEST_DATE,
    PROMOTION_COLUMNS,
    REJECT_REASONS,
    ContractError,
    file_format,
    normalise_column_name,
)
from nexgen_assets.lib.ingestion.landing import scan_landing

PROMOTION_TABLE_COLUMNS = ["store_id", "product_id", "start_date", "end_date", "discount", "source_file"]
REJECT_COLUMNS = ["source_file", "row_number", "reason", "detail", "record"]


@dataclass(frozen=True)
class PromotionCalendar:
    accepted: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int


def promotion_files(incoming: Path) -> list[Path]:
    """The finished promotions_* files in the landing folder, by name (links and unreadable files refused)."""
    return [incoming / entry.name for entry in scan_landing(incoming, kind="promotions").files]


def _read_text_frame(path: Path) -> pd.DataFrame:
    kind = file_format(path)
    if kind in ("csv", "csv.gz"):
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if kind == "parquet":
        return pd.read_parquet(path).astype(str)
    return pd.read_json(path, lines=True, dtype=False).astype(str)


def read_promotion_file(path: Path, earliest: dt.date = EARLIEST_DATE) -> PromotionCalendar:
    """One calendar file, validated row by row; ContractError names the file when it cannot be read at all."""
    try:
        raw = _read_text_frame(path)
    except ContractError:
        raise
    except Exception as error:
        raise ContractError(f"{path.name}: cannot be read as a promotion calendar: {error}") from error
    raw.columns = [normalise_column_name(c) for c in raw.columns]
    missing = [c for c in PROMOTION_COLUMNS if c not in raw.columns]
    if missing:
        raise ContractError(f"{path.name}: missing required column(s) {', '.join(missing)} "
                            f"(a promotion calendar has {', '.join(PROMOTION_COLUMNS)})")
    frame = raw[list(PROMOTION_COLUMNS)].apply(lambda col: col.str.strip())
    start = pd.to_datetime(frame["start_date"], errors="coerce", format="ISO8601")
    end = pd.to_datetime(frame["end_date"], errors="coerce", format="ISO8601")
    discount = pd.to_numeric(frame["discount"], errors="coerce")
    reason = pd.Series(None, index=frame.index, dtype=object)
    reason[frame["store_id"].eq("")] = "missing_store_id"
    reason[reason.isna() & frame["product_id"].eq("")] = "missing_product_id"
    too_long = (frame["store_id"].str.len() > MAX_ID_LENGTH) | (frame["product_id"].str.len() > MAX_ID_LENGTH)
    reason[reason.isna() & too_long] = "id_too_long"
    reason[reason.isna() & (start.isna() | end.isna() | (end < start) | (start < pd.Timestamp(earliest)))] = (
        "bad_promotion_dates"
    )
    reason[reason.isna() & ~discount.between(0, 1, inclusive="left")] = "bad_discount"
    bad = reason.notna()
    rejects = pd.DataFrame({
        "source_file": path.name,
        "row_number": frame.index[bad] + 2,
        "reason": reason[bad],
        "detail": reason[bad].map(REJECT_REASONS),
        "record": raw[bad].to_json(orient="records", lines=True).splitlines() if bad.any() else [],
    }, columns=REJECT_COLUMNS)
    accepted = pd.DataFrame({
        "store_id": frame["store_id"], "product_id": frame["product_id"],
        "start_date": start.dt.date, "end_date": end.dt.date, "discount": discount.astype("float64"),
        "source_file": path.name,
    })[~bad]
    return PromotionCalendar(accepted.reset_index(drop=True), rejects.reset_index(drop=True), len(frame))


def read_promotion_calendar(paths: Iterable[Path], earliest: dt.date = EARLIEST_DATE) -> PromotionCalendar:
    """Every calendar file together (empty tables when there is none)."""
    parts = [read_promotion_file(p, earliest) for p in sorted(paths)]
    accepted = [p.accepted for p in parts if not p.accepted.empty]
    rejects = [p.rejects for p in parts if not p.rejects.empty]
    return PromotionCalendar(
        pd.concat(accepted, ignore_index=True) if accepted else pd.DataFrame(columns=PROMOTION_TABLE_COLUMNS),
        pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS),
        sum(p.rows_read for p in parts),
    )
