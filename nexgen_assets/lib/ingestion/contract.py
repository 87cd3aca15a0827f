"""The canonical input contract: column names, reason codes, file kinds."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from nexgen_assets.lib.grain import MAX_ID_LENGTH

SALES_REQUIRED = ("order_id", "order_ts", "product_id", "quantity", "unit_price")
SALES_OPTIONAL = ("store_id", "product_name", "category", "promo")
SALES_COLUMNS = SALES_REQUIRED + SALES_OPTIONAL
DEFAULT_STORE_ID = "ONLINE"
MAX_ABS_QUANTITY = 1e6
MAX_UNIT_PRICE = 1e7
EARLIEST_DATE = dt.date(1990, 1, 1)
"""Default earliest plausible date (NEXGEN_EARLIEST_DATE): sales and stock dated before it are a typo
(year 0001, 1924), not history; they would stretch every daily grid."""

INVENTORY_REQUIRED = ("snapshot_date", "store_id", "product_id", "stock_on_hand")
INVENTORY_OPTIONAL = ("lead_time_days",)
INVENTORY_COLUMNS = INVENTORY_REQUIRED + INVENTORY_OPTIONAL

PROMOTION_COLUMNS = ("store_id", "product_id", "start_date", "end_date", "discount")

STORE_LIST_COLUMNS = ("store_id", "store_name", "region", "format", "opening_date")
PRODUCT_LIST_COLUMNS = ("product_id", "product_name", "brand", "category", "subcategory", "size")
"""The optional store and product lists: the id is required, every other column optional."""

SOURCE_FILE = "source_file"
ROW_NUMBER = "row_number"
RESERVED_COLUMNS = (SOURCE_FILE, ROW_NUMBER, "extra", "record", "reason")
"""Columns the pipeline adds to a row. A landed column named like one of these, or starting with `_` (the
prefix of working columns), is read as SOURCE_COLUMN_PREFIX + name, so it overwrites nothing and stays in `extra`."""
SOURCE_COLUMN_PREFIX = "src_"

MAX_CHARS_PER_COLUMN = 1_000_000
"""A CSV field longer than this fails its whole file: it bounds the memory one field can take while parsing."""
MAX_FIELD_LENGTH = 4_000
"""A field longer than this (after trimming) rejects its row as `field_too_long`."""

MISSING_ID_PLACEHOLDERS = ("null", "n/a", "na", "none", "nan", "#n/a", "-")
"""Id values (compared in lower case) that exporters write for "no value": read as an empty id."""
PROMO_WORDS = {"true": 1, "yes": 1, "false": 0, "no": 0}
"""Promo flags written as words (compared in lower case), besides 0 and 1."""

SUPPORTED_SUFFIXES = (".csv.gz", ".csv", ".parquet", ".jsonl")
INVENTORY_PREFIX = "inventory_"
PROMOTIONS_PREFIX = "promotions_"
REFERENCE_LISTS = ("stores", "products")
"""Landed files named `stores*` or `products*` (the word, then `.`, `_`, `-` or a space) are the store and product
lists: reference data read whole at every refresh, never order lines."""
_REFERENCE_NAME = re.compile(rf"({'|'.join(REFERENCE_LISTS)})[._\- ]")

REJECT_REASONS = {
    "missing_order_id": "order_id is empty, blank or a placeholder such as NULL or N/A",
    "missing_product_id": "product_id is empty, blank or a placeholder such as NULL or N/A",
    "unparseable_date": "order_ts is not an ISO 8601 date or timestamp",
    "bad_quantity": "quantity is not a number",
    "zero_quantity": "quantity is zero",
    "bad_price": "unit_price is not a number",
    "negative_price": "unit_price is negative",
    "bad_promo": "promo is not 0/1, true/false or yes/no",
    "duplicate_line": "exact copy of an earlier line in the same file",
    "conflicting_duplicate": (
        "same order_id, product_id, store_id and order_ts as an earlier line in the same file, but not an exact copy"
        " (e.g. another quantity or price); the earlier line is kept"
    ),
    "excluded_by_mapping": "excluded by the file's column mapping (e.g. a cancelled order)",
    "bad_encoding": "a field is not valid UTF-8 text",
    "wrong_field_count": (
        "the row has more or fewer fields than the header (e.g. an unquoted comma), or is not a JSON object;"
        " record holds the raw line"
    ),
    "field_too_long": f"a field is longer than {MAX_FIELD_LENGTH:,} characters",
    "implausible_quantity": f"|quantity| is above {MAX_ABS_QUANTITY:,.0f} or not finite",
    "implausible_price": f"unit_price is above {MAX_UNIT_PRICE:,.0f} or not finite",
    "future_date": "order_ts or snapshot_date is more than a day after the file was ingested",
    "ancient_date": (
        "order_ts or snapshot_date is before the earliest plausible date (NEXGEN_EARLIEST_DATE, default 1990-01-01)"
    ),
    "id_too_long": f"order_id, store_id or product_id is longer than {MAX_ID_LENGTH} characters",
    "missing_snapshot_date": "snapshot_date is empty or not a date",
    "missing_store_id": "store_id is empty, blank or a placeholder such as NULL or N/A",
    "bad_stock": "stock_on_hand is not a finite number or is negative",
    "bad_promotion_dates": (
        "start_date or end_date is not a date, is before the earliest plausible date, or end_date is before start_date"
    ),
    "bad_discount": "discount is not a fraction in [0, 1)",
    "bad_opening_date": "opening_date is not an ISO 8601 date",
    "duplicate_id": (
        "the same store_id (store list) or product_id (product list) as an earlier row, with the same values;"
        " the earlier row is kept"
    ),
    "conflicting_id": (
        "the same store_id (store list) or product_id (product list) as an earlier row (files by name, then row),"
        " but with other values; the earlier row is kept"
    ),
}


def normalise_column_name(name: str) -> str:
    """Header as the contract names columns: no BOM, trimmed, lower case, spaces and dashes as underscores."""
    return str(name).replace("\ufeff", "").strip().lower().replace(" ", "_").replace("-", "_")


class ContractError(ValueError):
    """A file that cannot be read as the contract asks; the message names the file."""


def file_format(path: str | Path) -> str:
    """csv, csv.gz, parquet or jsonl, from the file name; ContractError otherwise."""
    name = Path(path).name.lower()
    for suffix in SUPPORTED_SUFFIXES:
        if name.endswith(suffix):
            return suffix.lstrip(".")
    raise ContractError(f"{path}: unsupported file type (expected one of {', '.join(SUPPORTED_SUFFIXES)})")


def is_inventory_file(path: str | Path) -> bool:
    return Path(path).name.lower().startswith(INVENTORY_PREFIX)


def is_promotion_file(path: str | Path) -> bool:
    """A promotion calendar: read whole into the plan of known future promotions, not ingested as order lines."""
    return Path(path).name.lower().startswith(PROMOTIONS_PREFIX)


def reference_list(path: str | Path) -> str | None:
    """The list a landed file is: "stores" or "products" (`stores.csv`, `products_2025.parquet`...), else None."""
    match = _REFERENCE_NAME.match(Path(path).name.lower())
    return match.group(1) if match else None


def landing_kind(path: str | Path) -> str:
    """What a landed file is read as: "promotions", "stores" or "products" (read whole at every refresh), or
    "data" (order lines or stock snapshots, one partition per file)."""
    if is_promotion_file(path):
        return "promotions"
    return reference_list(path) or "data"


def is_landable(path: str | Path) -> bool:
    """True for a finished data file: supported suffix, not hidden, not a temp file."""
    name = Path(path).name
    if name.startswith((".", "_")) or name.endswith((".tmp", ".part")):
        return False
    return name.lower().endswith(SUPPORTED_SUFFIXES)
