"""The optional store and product lists: names and attributes that the sales files do not carry.

A retailer may land `stores*` and `products*` files (see `contract.reference_list`) beside the
sales files. They are reference data, never order lines: no sales partition is made of them,
and every list file is read whole at each refresh, so a corrected file replaces what it said.
Rows are validated one by one (`contract_rules.clean_store_list`, `clean_product_list`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession

from nexgen_assets.lib.cleaning.contract_rules import REJECT_COLUMNS, clean_product_list, clean_store_list
from nexgen_assets.lib.ingestion.contract import (
    PRODUCT_LIST_COLUMNS,
    ROW_NUMBER,
    SALES_REQUIRED,
    SOURCE_FILE,
    STORE_LIST_COLUMNS,
    ContractError,
)
from nexgen_assets.lib.ingestion.landing import LandingScan, scan_landing
from nexgen_assets.lib.ingestion.reader import read_landed_file
from nexgen_assets.lib.storage.collect import collect_pandas

LIST_COLUMNS = {"stores": STORE_LIST_COLUMNS, "products": PRODUCT_LIST_COLUMNS}
"""Columns of each list, the id first (the only required one)."""
LIST_TABLES = {"stores": ("stores", "store_rejects"), "products": ("products", "product_rejects")}
"""Lake tables of each list: the accepted rows and the rejected ones."""
_CLEANERS = {"stores": clean_store_list, "products": clean_product_list}
_ORDER_LINE_COLUMNS = tuple(c for c in SALES_REQUIRED if c not in ("store_id", "product_id"))


@dataclass(frozen=True)
class ReferenceList:
    accepted: pd.DataFrame
    """One row per id: the list's columns, then source_file and row_number."""
    rejects: pd.DataFrame
    """source_file, row_number, reason, record."""
    rows_read: int


def list_files(incoming: Path, kind: str) -> LandingScan:
    """The finished files of one list ("stores" or "products") in the landing folder, and refused entries."""
    return scan_landing(incoming, kind=kind)


def read_list(spark: SparkSession, files: list[tuple[str, Path]], kind: str) -> ReferenceList:
    """Every file of one list together, validated row by row (empty tables when there is none)."""
    raw = read_list_files(spark, files, kind)
    if raw is None:
        empty = pd.DataFrame(columns=[*LIST_COLUMNS[kind], SOURCE_FILE, ROW_NUMBER])
        return ReferenceList(empty, pd.DataFrame(columns=list(REJECT_COLUMNS)), 0)
    raw = raw.cache()
    try:
        accepted, rejects = _CLEANERS[kind](raw)
        order = [SOURCE_FILE, ROW_NUMBER]
        kept = collect_pandas(accepted).sort_values(order, ignore_index=True)
        return ReferenceList(kept, collect_pandas(rejects).sort_values(order, ignore_index=True), raw.count())
    finally:
        raw.unpersist()


def read_list_files(spark: SparkSession, files: list[tuple[str, Path]], kind: str) -> DataFrame | None:
    """(landed name, path to read) of each file of one list, read as text and unioned; None when there is none.

    ContractError names a file without the id column, or one that holds order lines (a sales
    export named like a list must be renamed, not read as one).
    """
    key = LIST_COLUMNS[kind][0]
    frames = []
    for name, path in sorted(files):
        frame = read_landed_file(spark, path, (key,), name=name)
        if set(_ORDER_LINE_COLUMNS) <= set(frame.columns):
            raise ContractError(
                f"{name}: holds order lines ({', '.join(_ORDER_LINE_COLUMNS)}), but a file named {kind}* is read"
                f" as the {kind[:-1]} list: rename the sales file"
            )
        frames.append(frame)
    return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames) if frames else None
