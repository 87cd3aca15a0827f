"""Apply the input contract to raw rows: typed accepted rows and rejected rows with a reason.

Every raw row ends up in exactly one of the two outputs, so rows read always equal
rows accepted plus rows rejected.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from nexgen_assets.lib.grain import MAX_ID_LENGTH
from nexgen_assets.lib.ingestion.contract import (
    DEFAULT_STORE_ID,
    EARLIEST_DATE,
    INVENTORY_COLUMNS,
    MAX_ABS_QUANTITY,
    MAX_FIELD_LENGTH,
    MAX_UNIT_PRICE,
    MISSING_ID_PLACEHOLDERS,
    PRODUCT_LIST_COLUMNS,
    PROMO_WORDS,
    SALES_COLUMNS,
    STORE_LIST_COLUMNS,
)
from nexgen_assets.lib.ingestion.mapping import MAPPING_REJECT
from nexgen_assets.lib.ingestion.reader import RAW_LINE, ROW_NUMBER, SOURCE_FILE, trimmed

REPLACEMENT_CHARACTER = "\ufffd"
REJECT_COLUMNS = (SOURCE_FILE, ROW_NUMBER, "reason", "record")
NOT_CONTENT = (SOURCE_FILE, ROW_NUMBER, MAPPING_REJECT, RAW_LINE)
"""Columns the reader adds: lineage and working columns, not values from the file."""


def _first_failure(rules: list[tuple[str, Column]]) -> Column:
    """The reason code of the first rule a row breaks, or null when it breaks none."""
    reason = F.lit(None).cast("string")
    for code, broken in reversed(rules):
        reason = F.when(broken, F.lit(code)).otherwise(reason)
    return reason


def _ensure_columns(raw: DataFrame, columns: tuple[str, ...]) -> DataFrame:
    for name in columns:
        if name not in raw.columns:
            raw = raw.withColumn(name, F.lit(None).cast("string"))
    return raw


def _content(raw: DataFrame) -> list[str]:
    return [c for c in raw.columns if c not in NOT_CONTENT]


def _extra_json(raw: DataFrame, known: tuple[str, ...]) -> Column:
    extra = [c for c in _content(raw) if c not in known]
    if not extra:
        return F.lit(None).cast("string")
    return F.to_json(F.struct(*[F.col(c) for c in extra]))


def _record(raw: DataFrame) -> Column:
    """The original record: the raw line when the row did not split into fields, else its fields as JSON."""
    return F.coalesce(F.col(RAW_LINE), F.to_json(F.struct(*[F.col(c) for c in _content(raw)])))


def _split(typed: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Rows without a reason are accepted (every column but reason and record); the rest are rejects."""
    accepted = typed.where(F.col("reason").isNull()).select(*[c for c in typed.columns if c not in ("reason", "record")])
    rejects = typed.where(F.col("reason").isNotNull()).select(*REJECT_COLUMNS)
    return accepted, rejects


def _with_ids(raw: DataFrame, ids: tuple[str, ...]) -> DataFrame:
    """Ids trimmed of Unicode blanks, with placeholders (NULL, N/A, -, ...) read as missing."""
    cleaned = {}
    for name in ids:
        value = trimmed(F.col(name))
        cleaned[name] = F.when(~F.lower(value).isin(*MISSING_ID_PLACEHOLDERS), value)
    return raw.withColumns(cleaned)


def _not_finite(value: str) -> Column:
    return F.isnan(value) | (F.abs(value) == float("inf"))


def _any(checks: list[Column]) -> Column:
    out = F.lit(False)
    for check in checks:
        out = out | F.coalesce(check, F.lit(False))
    return out


def _read_problems(content: list[str]) -> list[tuple[str, Column]]:
    """Rules on the row as read, before any value is trusted: split into the header's fields, no huge field."""
    return [
        ("wrong_field_count", F.col(RAW_LINE).isNotNull()),
        ("field_too_long", _any([F.length(c) > MAX_FIELD_LENGTH for c in content])),
    ]


def _bad_text(columns: list[str]) -> Column:
    """True when any text field holds bytes that were not valid UTF-8 (decoded as U+FFFD)."""
    return _any([F.instr(F.col(c), REPLACEMENT_CHARACTER) > 0 for c in columns])


def _promo(column: str) -> Column:
    """0/1 from a number or a word (true/false, yes/no); null when it is neither. Missing means 0."""
    text = F.lower(F.coalesce(F.col(column), F.lit("0")))
    words = F.create_map(*[F.lit(x) for kv in PROMO_WORDS.items() for x in kv])
    return F.coalesce(words[text].cast("double"), text.try_cast("double"))


def clean_sales_lines(
    raw: DataFrame, ingested_at: dt.datetime | None = None, earliest: dt.date = EARLIEST_DATE
) -> tuple[DataFrame, DataFrame]:
    """Typed, defaulted order lines and the rows that break the contract (the README's input contract).

    `ingested_at` (default now, UTC) and `earliest` bound order_ts: a sale more than a day after the
    ingestion or before `earliest` is rejected. Copies of
    an order line (same order, product, store and time: a resend, not a second scan or a later return) are
    judged among rows that break no other rule: the first by row number is kept; a later exact copy is a
    duplicate_line, one with other values (quantity, price...) a conflicting_duplicate, never summed.
    """
    latest = (ingested_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)) + dt.timedelta(days=1)
    raw = _ensure_columns(raw, (*SALES_COLUMNS, MAPPING_REJECT, RAW_LINE))
    content = _content(raw)
    typed = raw.select(
        "*",
        _extra_json(raw, SALES_COLUMNS).alias("extra"),
        _record(raw).alias("record"),
    )
    typed = _with_ids(typed, ("order_id", "store_id", "product_id")).select(
        "*",
        F.col("order_ts").try_cast("timestamp").alias("_ts"),
        F.col("quantity").try_cast("double").alias("_quantity"),
        F.col("unit_price").try_cast("double").alias("_unit_price"),
        _promo("promo").alias("_promo"),
        F.coalesce(F.col("store_id"), F.lit(DEFAULT_STORE_ID)).alias("_store_id"),
    )
    rules = [
        *_read_problems(content),
        ("excluded_by_mapping", F.col(MAPPING_REJECT).isNotNull()),
        ("missing_order_id", F.col("order_id").isNull()),
        ("missing_product_id", F.col("product_id").isNull()),
        ("unparseable_date", F.col("_ts").isNull()),
        ("bad_encoding", _bad_text(content)),
        ("future_date", F.col("_ts") > F.lit(latest)),
        ("ancient_date", F.col("_ts") < F.lit(earliest)),
        ("id_too_long", _too_long(["order_id", "store_id", "product_id"])),
        ("bad_quantity", F.col("_quantity").isNull() | F.isnan("_quantity")),
        ("zero_quantity", F.col("_quantity") == 0),
        ("implausible_quantity", (F.abs("_quantity") > MAX_ABS_QUANTITY) | _not_finite("_quantity")),
        ("bad_price", F.col("_unit_price").isNull() | F.isnan("_unit_price")),
        ("negative_price", F.col("_unit_price") < 0),
        ("implausible_price", (F.col("_unit_price") > MAX_UNIT_PRICE) | _not_finite("_unit_price")),
        ("bad_promo", ~F.coalesce(F.col("_promo").isin(0.0, 1.0), F.lit(False))),
    ]
    typed = typed.withColumn("_problem", _first_failure(rules))
    usable = F.col("_problem").isNull()
    exact_copies = Window.partitionBy(usable, *[F.coalesce(F.col(c), F.lit("\u0000")) for c in content])
    same_line = Window.partitionBy(usable, "order_id", "product_id", "_store_id", "_ts")
    copies = [
        ("duplicate_line", F.row_number().over(exact_copies.orderBy(ROW_NUMBER)) > 1),
        ("conflicting_duplicate", F.row_number().over(same_line.orderBy(ROW_NUMBER)) > 1),
    ]
    typed = typed.withColumn("reason", F.coalesce(F.col("_problem"), _first_failure(copies))).select(
        F.col("order_id"),
        F.col("_ts").alias("order_ts"),
        F.coalesce(
            F.regexp_extract("order_ts", r"^(\d{4}-\d{1,2}-\d{1,2})", 1).try_cast("date"), F.to_date("_ts")
        ).alias("order_date"),
        F.col("_store_id").alias("store_id"),
        F.col("product_id"),
        F.col("product_name"),
        F.col("category"),
        F.col("_quantity").alias("quantity"),
        F.col("_unit_price").alias("unit_price"),
        F.col("_promo").cast("int").alias("promo"),
        (F.col("_quantity") * F.col("_unit_price")).alias("revenue"),
        F.col("extra"),
        F.col(SOURCE_FILE),
        F.col(ROW_NUMBER),
        F.col("reason"),
        F.col("record"),
    )
    return _split(typed)


def _too_long(columns: list[str]) -> Column:
    """True where any of the id columns is longer than the warehouse stores."""
    lengths = [F.coalesce(F.length(c), F.lit(0)) for c in columns]
    return (F.greatest(*lengths) if len(lengths) > 1 else lengths[0]) > MAX_ID_LENGTH


def clean_inventory_snapshots(
    raw: DataFrame, ingested_at: dt.datetime | None = None, earliest: dt.date = EARLIEST_DATE
) -> tuple[DataFrame, DataFrame]:
    """Typed stock snapshots and the rows that cannot be used (dated before 1990 or after the day of ingestion)."""
    latest = (ingested_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)).date() + dt.timedelta(days=1)
    raw = _ensure_columns(raw, (*INVENTORY_COLUMNS, RAW_LINE))
    content = _content(raw)
    typed = _with_ids(raw.select("*", _record(raw).alias("record")), ("store_id", "product_id")).select(
        "*",
        F.col("snapshot_date").try_cast("date").alias("_date"),
        F.col("stock_on_hand").try_cast("double").alias("_stock"),
        F.col("lead_time_days").try_cast("double").alias("_lead"),
    )
    rules = [
        *_read_problems(content),
        ("missing_snapshot_date", F.col("_date").isNull()),
        ("missing_store_id", F.col("store_id").isNull()),
        ("missing_product_id", F.col("product_id").isNull()),
        ("future_date", F.col("_date") > F.lit(latest)),
        ("ancient_date", F.col("_date") < F.lit(earliest)),
        ("id_too_long", _too_long(["store_id", "product_id"])),
        ("bad_stock", F.col("_stock").isNull() | _not_finite("_stock") | (F.col("_stock") < 0)),
    ]
    typed = typed.withColumn("reason", _first_failure(rules)).select(
        F.col("_date").alias("snapshot_date"),
        F.col("store_id"),
        F.col("product_id"),
        F.col("_stock").alias("stock_on_hand"),
        F.col("_lead").alias("lead_time_days"),
        F.col(SOURCE_FILE),
        F.col(ROW_NUMBER),
        F.col("reason"),
        F.col("record"),
    )
    return _split(typed)


def _clean_reference_list(
    raw: DataFrame, columns: tuple[str, ...], typed: dict[str, Column], extra_rules: list[tuple[str, Column]]
) -> tuple[DataFrame, DataFrame]:
    """One row per id of a store or product list (`columns`, the id first), and the rows that cannot be used.

    `typed` gives the typed value of a column from its text. The id gets the sales lines' normalisation
    (`_with_ids`), so it matches them exactly. Among rows that break no other rule, the first of an id
    (files by name, then row) is kept; a later exact copy is a duplicate_id, one with other values a
    conflicting_id.
    """
    key = columns[0]
    raw = _ensure_columns(raw, (*columns, RAW_LINE))
    content = _content(raw)
    frame = _with_ids(raw.select("*", _record(raw).alias("record")), (key,))
    values = [(typed[c] if c in typed else F.col(c)).alias(c) for c in columns]
    rules = [
        *_read_problems(content),
        (f"missing_{key}", F.col(key).isNull()),
        ("bad_encoding", _bad_text(content)),
        ("id_too_long", _too_long([key])),
        *extra_rules,
    ]
    frame = frame.select(*values, SOURCE_FILE, ROW_NUMBER, "record", _first_failure(rules).alias("_problem"))
    usable = F.col("_problem").isNull()
    order = [SOURCE_FILE, ROW_NUMBER]
    same_values = [F.coalesce(F.col(c).cast("string"), F.lit("\u0000")) for c in columns]
    copies = [
        ("duplicate_id", F.row_number().over(Window.partitionBy(usable, *same_values).orderBy(*order)) > 1),
        ("conflicting_id", F.row_number().over(Window.partitionBy(usable, key).orderBy(*order)) > 1),
    ]
    frame = frame.withColumn("reason", F.coalesce(F.col("_problem"), _first_failure(copies)))
    return _split(frame.select(*columns, SOURCE_FILE, ROW_NUMBER, "reason", "record"))


def clean_store_list(raw: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Stores from the store lists (STORE_LIST_COLUMNS, opening_date a date) and the rows that cannot be used."""
    opening = F.col("opening_date").try_cast("date")
    return _clean_reference_list(
        raw, STORE_LIST_COLUMNS, {"opening_date": opening},
        [("bad_opening_date", F.col("opening_date").isNotNull() & opening.isNull())],
    )


def clean_product_list(raw: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Products from the product lists (PRODUCT_LIST_COLUMNS, all text) and the rows that cannot be used."""
    return _clean_reference_list(raw, PRODUCT_LIST_COLUMNS, {}, [])


def rejects_by_reason(rejects: DataFrame) -> dict[str, int]:
    """Rejected rows per reason code."""
    return {str(r["reason"]): int(r["count"]) for r in rejects.groupBy("reason").count().collect()}
