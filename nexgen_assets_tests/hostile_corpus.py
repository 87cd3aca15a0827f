"""Hostile and broken input kinds, each with the outcome it must have when landed beside good data.

Every kind is one or more files written into the landing folder. Outcomes:
- refused: never read (a link, a workbook...): named with a reason, nothing ingested;
- failed: its partition fails alone with a message naming the file;
- rows: read, with `accepted` rows kept and the rest rejected with the given reason codes;
- duplicate: same bytes as a file already landed, not ingested again.
Rows that may be accepted use store H1, so the good stores' daily sales can be compared
with the generator's truth to the unit.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

HEADER = "order_id,order_ts,store_id,product_id,quantity,unit_price"
DAY = "2024-09-20"
LEAK_MARKER = "LEAKED_FROM_OUTSIDE"


def _line(order: str, quantity: str = "2", price: str = "3.5", day: str = DAY, product: str = "HP1") -> str:
    return f"{order},{day}T10:00:00,H1,{product},{quantity},{price}"


def _csv(*lines: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *lines]) + newline).encode()


def _pandas_parquet() -> bytes:
    frame = pd.DataFrame(
        {
            "order_id": ["PQ1", "PQ2"],
            "order_ts": pd.to_datetime(["2024-09-20 10:00:00", "2024-09-21 11:30:00"]),
            "store_id": ["H1", "H1"],
            "product_id": ["HP1", "HP1"],
            "quantity": [2, 3],
            "unit_price": [3.5, 3.5],
        }
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@dataclass(frozen=True)
class Kind:
    kind: str
    files: dict[str, bytes] = field(default_factory=dict)
    outcome: str = "rows"
    accepted: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    message: str = ""

    def describe(self) -> str:
        if self.outcome == "rows":
            rejected = ", ".join(f"{n} {r}" for r, n in self.reasons.items()) or "none"
            return f"read: {self.accepted} accepted, rejected: {rejected}"
        return f"{self.outcome}: {self.message}" if self.message else self.outcome


def row_kinds() -> list[Kind]:
    """Files that are read: one good line plus the defect, or lines that must parse right."""
    def bad(kind: str, name: str, defect: str, reason: str) -> Kind:
        return Kind(kind, {name: _csv(_line(f"{name}-ok"), defect)}, accepted=1, reasons={reason: 1})

    long_text = "x" * 5000
    return [
        bad("unparseable date", "sales_bad_date.csv", _line("B1", day="2024-13-45"), "unparseable_date"),
        bad("date in year 1", "sales_year_one.csv", _line("B1", day="0001-01-01"), "ancient_date"),
        bad("date centuries ahead", "sales_future.csv", _line("B1", day="2999-01-01"), "future_date"),
        bad("id over 128 characters", "sales_long_id.csv", _line("B" * 200), "id_too_long"),
        bad("quantity not a number", "sales_bad_qty.csv", _line("B1", quantity="abc"), "bad_quantity"),
        bad("zero quantity", "sales_zero_qty.csv", _line("B1", quantity="0"), "zero_quantity"),
        bad("negative price", "sales_neg_price.csv", _line("B1", price="-1"), "negative_price"),
        bad("infinite quantity", "sales_inf_qty.csv", _line("B1", quantity="Infinity"), "implausible_quantity"),
        bad("price 1e12", "sales_huge_price.csv", _line("B1", price="1e12"), "implausible_price"),
        bad("empty product id", "sales_no_product.csv", "B1,2024-09-20,H1,,2,3.5", "missing_product_id"),
        bad("order id NULL", "sales_null_id.csv", _line("NULL"), "missing_order_id"),
        bad("product id N/A", "sales_na_id.csv", _line("B1", product="N/A"), "missing_product_id"),
        bad("product id of non-breaking spaces", "sales_nbsp_id.csv", _line("B1", product="\u00a0\u3000"),
            "missing_product_id"),
        bad("ragged row (unquoted comma)", "sales_ragged.csv", "B1,2024-09-20,H1,HP1,2,3,5", "wrong_field_count"),
        bad("row with a field missing", "sales_short_row.csv", "B1,2024-09-20,H1,HP1,2", "wrong_field_count"),
        Kind("exact duplicate line", {"sales_dup.csv": _csv(_line("D1"), _line("D1"))}, accepted=1,
             reasons={"duplicate_line": 1}),
        Kind("same line resent with another quantity", {"sales_conflict.csv": _csv(_line("C1"), _line("C1", "9"))},
             accepted=1, reasons={"conflicting_duplicate": 1}),
        Kind("promo not 0/1", {"sales_bad_promo.csv": _csv(_line("P1") + ",1", _line("P2") + ",maybe",
                                                                 header=HEADER + ",promo")},
             accepted=1, reasons={"bad_promo": 1}),
        Kind("invalid UTF-8 in a field", {"sales_latin1.csv": _csv(_line("E1") + ",ok",
                                                                  header=HEADER + ",product_name")[:-1]
                                         + b"\nE2,2024-09-20T10:00:00,H1,HP1,2,3.5,caf\xe9\n"},
             accepted=1, reasons={"bad_encoding": 1}),
        Kind("a 5,000-character field", {"sales_long_field.csv": _csv(_line("F1") + ",ok", _line("F2") + f",{long_text}",
                                                                      header=HEADER + ",product_name")},
             accepted=1, reasons={"field_too_long": 1}),
        Kind("RFC 4180 quotes: doubled quote and trailing backslash",
             {"sales_quotes.csv": _csv(_line("Q1") + ',"12"" screen, black"', _line("Q2") + ',"C:\\"',
                                       header=HEADER + ",product_name")}, accepted=2),
        Kind("UTF-8 byte order mark and CRLF line ends",
             {"sales_bom_crlf.csv": b"\xef\xbb\xbf" + _csv(_line("M1"), _line("M2"), newline="\r\n")}, accepted=2),
        Kind("extra columns named like internal ones", {"sales_clash.csv": _csv(
            _line("X1") + ",r,why,e,7,f", header=HEADER + ",record,reason,extra,row_number,source_file")}, accepted=1),
        Kind("column names with dots", {"sales_dots.csv": _csv(_line("N1") + ",A-1,7",
                                                               header=HEADER + ",Art.-Nr.,No.")}, accepted=1),
        Kind("Parquet from pandas with datetime order_ts", {"sales_pandas.parquet": _pandas_parquet()}, accepted=2),
        Kind("promo as true/false", {"sales_bool_promo.csv": _csv(_line("T1") + ",true", _line("T2") + ",FALSE",
                                                                  header=HEADER + ",promo")}, accepted=2),
        Kind("JSON Lines with a nested object", {"sales_nested.jsonl": (json.dumps(
            {"order_id": "J1", "order_ts": f"{DAY}T10:00:00", "store_id": "H1", "product_id": "HP1", "quantity": 2,
             "unit_price": 3.5, "attrs": {"colour": "red", "sizes": [1, 2]}}) + "\n").encode()}, accepted=1),
        Kind("name with pattern characters", {"sales_[1]*.csv": _csv(_line("G1"))}, accepted=1),
        Kind("names that differ only by space and underscore",
             {"sales 12.csv": _csv(_line("S1")), "sales_12.csv": _csv(_line("S2"), _line("S3"))}, accepted=3),
        Kind("long but legal file name", {("sales_" + "n" * 200 + ".csv"): _csv(_line("L1"))}, accepted=1),
        Kind("header only", {"sales_header_only.csv": _csv()}, accepted=0),
        Kind("stock of Infinity", {"inventory_inf.csv": (
            b"snapshot_date,store_id,product_id,stock_on_hand\n2024-09-20,H1,HP1,5\n2024-09-21,H1,HP1,Infinity\n"
        )}, accepted=1, reasons={"bad_stock": 1}),
        Kind("stock snapshot with a typo year", {"inventory_typo.csv": (
            b"snapshot_date,store_id,product_id,stock_on_hand\n2024-09-20,H1,HP1,5\n0202-09-21,H1,HP1,4\n"
        )}, accepted=1, reasons={"ancient_date": 1}),
    ]


def failing_kinds() -> list[Kind]:
    """Files that cannot be read at all: their partition fails alone, naming the file and the cause."""
    text = _csv(_line("Z1"))
    return [
        Kind("truncated gzip", {"sales_cut.csv.gz": gzip.compress(text * 200)[:60]}, "failed",
             message="damaged or truncated gzip"),
        Kind(".gz that is not gzip", {"sales_plain.csv.gz": _csv(_line("Z2"))}, "failed", message="is not gzip-compressed"),
        Kind("gzip inside gzip", {"sales_twice.csv.gz": gzip.compress(gzip.compress(text))}, "failed",
             message="is gzip-compressed"),
        Kind("CSV named .parquet", {"sales_text.parquet": _csv(_line("Z3"))}, "failed",
             message="is not a complete Parquet file"),
        Kind("truncated Parquet", {"sales_cut.parquet": _pandas_parquet()[:40]}, "failed",
             message="is not a complete Parquet file"),
        Kind("Excel workbook named .csv", {"sales_book.csv": b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64}, "failed",
             message="is a ZIP archive"),
        Kind("Excel 97-2003 file named .csv", {"sales_old.csv": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64},
             "failed", message="Excel 97-2003"),
        Kind("required columns missing", {"sales_missing.csv": b"order_id,order_ts\nA,2024-09-20\n"}, "failed",
             message="missing required column"),
        Kind("semicolon-separated file", {"sales_semicolon.csv": text.replace(b",", b";")}, "failed",
             message="missing required column"),
        Kind("duplicate column names", {"sales_dupcols.csv": _csv(_line("K1") + ",K2", header=HEADER + ",Order ID")},
             "failed", message="duplicate column names"),
        Kind("empty file", {"sales_empty.csv": b""}, "failed", message="missing required column"),
    ]


def refused_kinds() -> list[Kind]:
    """Entries the landing scan refuses without reading; created by `land_corpus` (links need a target)."""
    return [
        Kind("symbolic link to a file outside the landing folder", {"sales_link.csv": b""}, "refused",
             message="is a symbolic link"),
        Kind("hard link to a file outside the landing folder", {"sales_hard.csv": b""}, "refused",
             message="hard links"),
        Kind("folder named like a data file", {"sales_folder.csv": b""}, "refused", message="not a regular file"),
        Kind("Excel workbook (.xlsx)", {"Sales Report.xlsx": b"PK\x03\x04"}, "refused", message="Excel workbook"),
        Kind("ZIP archive", {"sales_export.zip": b"PK\x03\x04"}, "refused", message="ZIP archive"),
        Kind("file name that is not UTF-8", {"sales_\\xe9t\\xe9.csv": b""}, "refused", message="not valid UTF-8"),
    ]


def all_kinds() -> list[Kind]:
    return [*row_kinds(), *failing_kinds(), *refused_kinds()]


def land_corpus(incoming: Path, outside: Path, good_file: Path) -> list[Kind]:
    """Write every kind into `incoming` (links point into `outside`); returns the kinds, plus one duplicate."""
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.csv"
    secret.write_bytes(_csv(_line(LEAK_MARKER)))
    special = {
        "sales_link.csv": lambda path: path.symlink_to(secret),
        "sales_hard.csv": lambda path: os.link(secret, path),
        "sales_folder.csv": lambda path: path.mkdir(),
        "sales_\\xe9t\\xe9.csv": lambda path: os.close(
            os.open(os.fsencode(incoming) + b"/sales_\xe9t\xe9.csv", os.O_CREAT | os.O_WRONLY)
        ),
    }
    kinds = all_kinds()
    for kind in kinds:
        for name, content in kind.files.items():
            path = incoming / name
            if name in special:
                special[name](path)
            else:
                path.write_bytes(content)
    copy = "sales_copy_of_" + good_file.name
    (incoming / copy).write_bytes(good_file.read_bytes())
    kinds.append(Kind("byte-for-byte copy of a landed file under another name", {copy: b""}, "duplicate"))
    past = os.path.getmtime(secret) - 60
    for entry in os.scandir(incoming):
        if not entry.is_symlink():
            os.utime(entry.path, (past, past))
    return kinds
