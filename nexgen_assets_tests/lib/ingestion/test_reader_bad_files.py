"""A corpus of broken sales files: each gives a clear error or rejected rows, and no sale is lost or doubled."""

import json
from collections import Counter

import pandas as pd
import pytest

from nexgen_assets.lib.cleaning.contract_rules import clean_sales_lines
from nexgen_assets.lib.ingestion.contract import MAX_CHARS_PER_COLUMN, MAX_FIELD_LENGTH, SALES_REQUIRED, ContractError
from nexgen_assets.lib.ingestion.reader import read_landed_file

HEADER = "order_id,order_ts,store_id,product_id,quantity,unit_price\n"
OK1 = "A1,2025-01-03T10:00:00,S1,P1,2,3.50\n"
OK2 = "A2,2025-01-03,S1,P2,1,1.00\n"


def _text(body: str, header: str = HEADER) -> bytes:
    return (header + body).encode("utf-8")


CASES = {
    "semicolon_delimiter.csv": (_text(OK1.replace(",", ";"), HEADER.replace(",", ";")), "missing required column"),
    "missing_price_column.csv": (b"order_id,order_ts,product_id,quantity\nA1,2025-01-03,P1,2\n", "unit_price"),
    "empty.csv": (b"", "missing required column"),
    "header_only.csv": (_text(""), (0, {})),
    "wrong_types.csv": (_text(OK1 + "A2,2025-01-03,S1,P2,two,1.0\nA3,2025-01-03,S1,P3,1,abc\n"),
                        (1, {"bad_quantity": 1, "bad_price": 1})),
    "duplicated_lines.csv": (_text(OK1 + OK1 + OK1 + OK2), (2, {"duplicate_line": 2})),
    "mixed_date_formats.csv": (
        _text(OK1 + OK2 + "A3,2025-01-03T10:00:00Z,S1,P1,1,1\nA4,2025/01/03,S1,P1,1,1\n"
              "A5,03/01/2025,S1,P1,1,1\nA6,Jan 3 2025,S1,P1,1,1\n"),
        (3, {"unparseable_date": 3}),
    ),
    "latin1_bytes.csv": (HEADER.encode() + b"A1,2025-01-03,S1,P\xe9,1,1.0\n" + OK2.encode(), (1, {"bad_encoding": 1})),
    "huge_values.csv": (
        _text(OK1 + "A2,2025-01-03,S1,P1,1000000000000,1\nA3,2025-01-03,S1,P1,1,1e300\nA4,2025-01-03,S1,P1,Infinity,1\n"),
        (1, {"implausible_quantity": 2, "implausible_price": 1}),
    ),
    "negative_prices.csv": (_text(OK1 + "A2,2025-01-03,S1,P1,1,-4.99\n"), (1, {"negative_price": 1})),
    "future_dates.csv": (_text(OK1 + "A2,2099-01-01,S1,P1,1,1\n"), (1, {"future_date": 1})),
    "utf8_bom_header.csv": ("\ufeff".encode() + _text(OK1 + OK2), (2, {})),
    "quoted_comma_newline.csv": (
        b"order_id,order_ts,product_id,product_name,quantity,unit_price\n"
        b'A1,2025-01-03,P1,"Tea, green\nloose leaf",2,3.5\nA2,2025-01-03,P2,Milk,1,1\n',
        (2, {}),
    ),
    "crlf_line_endings.csv": (_text(OK1 + OK2).replace(b"\n", b"\r\n"), (2, {})),
    "nan_and_zero_quantity.csv": (_text(OK1 + "A2,2025-01-03,S1,P1,NaN,1\nA3,2025-01-03,S1,P1,0,1\n"),
                                  (1, {"bad_quantity": 1, "zero_quantity": 1})),
    "missing_ids.csv": (_text(OK1 + ",2025-01-03,S1,P1,1,1\nA3,2025-01-03,S1,,1,1\n"),
                        (1, {"missing_order_id": 1, "missing_product_id": 1})),
    "malformed_json_line.jsonl": (
        b'{"order_id":"A1","order_ts":"2025-01-03","product_id":"P1","quantity":2,"unit_price":3.5}\n'
        b'{"order_id":"A2","order_ts":"2025-01-03",\n'
        b'{"order_id":"A3","order_ts":"2025-01-03","product_id":"P3","quantity":1,"unit_price":1}\n',
        (2, {"wrong_field_count": 1}),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_is_rejected_clearly_and_nothing_is_lost(tmp_path, spark, name):
    content, expected = CASES[name]
    path = tmp_path / name
    path.write_bytes(content)
    if isinstance(expected, str):
        with pytest.raises(ContractError, match=expected) as error:
            read_landed_file(spark, path, SALES_REQUIRED)
        assert name in str(error.value)
        return
    raw = read_landed_file(spark, path, SALES_REQUIRED)
    accepted, rejects = clean_sales_lines(raw)
    reasons = Counter(r["reason"] for r in rejects.collect())
    kept = accepted.toPandas()
    assert (len(kept), dict(reasons)) == expected
    assert raw.count() == len(kept) + sum(reasons.values())
    assert kept["order_id"].is_unique


def test_quoted_fields_keep_their_text(tmp_path, spark):
    path = tmp_path / "quoted.csv"
    path.write_bytes(CASES["quoted_comma_newline.csv"][0])
    accepted, _ = clean_sales_lines(read_landed_file(spark, path, SALES_REQUIRED))
    names = dict(accepted.select("order_id", "product_name").collect())
    assert names["A1"] == "Tea, green\nloose leaf"


def test_offset_timestamps_keep_the_local_sales_day(tmp_path, spark):
    path = tmp_path / "offsets.csv"
    path.write_bytes(_text("A1,2025-01-03T00:30:00+02:00,S1,P1,1,1\n"))
    accepted, _ = clean_sales_lines(read_landed_file(spark, path, SALES_REQUIRED))
    assert str(accepted.first()["order_date"]) == "2025-01-03"


def test_parquet_with_text_numbers_is_typed(tmp_path, spark):
    path = tmp_path / "typed.parquet"
    pd.DataFrame({"order_id": ["A1"], "order_ts": ["2025-01-03"], "product_id": ["P1"], "quantity": ["4"],
                  "unit_price": ["2.5"]}).to_parquet(path)
    accepted, rejects = clean_sales_lines(read_landed_file(spark, path, SALES_REQUIRED))
    assert rejects.count() == 0 and accepted.first()["revenue"] == 10.0



def _clean(spark, path):
    """Accepted rows by order_id, reasons by row number, after checking that no row is lost."""
    raw = read_landed_file(spark, path, SALES_REQUIRED)
    accepted, rejects = clean_sales_lines(raw)
    kept = {r["order_id"]: r for r in accepted.collect()}
    reasons = {r["row_number"]: r["reason"] for r in rejects.collect()}
    assert raw.count() == len(kept) + len(reasons)
    return kept, reasons, rejects


def test_doubled_quotes_and_trailing_backslashes_follow_rfc_4180(tmp_path, spark):
    path = tmp_path / "rfc4180.csv"
    path.write_text(
        "order_id,order_ts,product_id,product_name,quantity,unit_price\n"
        'A1,2025-01-03,P1,"12"" screen",1,99\nA2,2025-01-03,P2,"C:\\",2,1\nA3,2025-01-03,P3,plain,3,1\n'
    )
    kept, reasons, _ = _clean(spark, path)
    assert reasons == {}
    assert {k: (r["product_name"], r["quantity"]) for k, r in kept.items()} == {
        "A1": ('12" screen', 1.0), "A2": ("C:\\", 2.0), "A3": ("plain", 3.0)
    }


def test_rows_with_more_or_fewer_fields_than_the_header_are_rejected_with_their_raw_line(tmp_path, spark):
    path = tmp_path / "ragged.csv"
    path.write_bytes(_text(OK1 + "A2,2025-01-03,S1,P2,1,1,00\nA3,2025-01-03,S1,P3,1\n" + OK2.replace("A2", "A4")))
    kept, reasons, rejects = _clean(spark, path)
    assert set(kept) == {"A1", "A4"}
    assert reasons == {2: "wrong_field_count", 3: "wrong_field_count"}
    records = {r["row_number"]: r["record"] for r in rejects.collect()}
    assert records == {2: "A2,2025-01-03,S1,P2,1,1,00", 3: "A3,2025-01-03,S1,P3,1"}


def test_columns_named_like_internal_ones_or_with_dots_keep_their_values_in_extra(tmp_path, spark):
    clashing = "extra,record,reason,row_number,source_file,_mapping_reject,No.,Art.-Nr."
    path = tmp_path / "clashing.csv"
    path.write_text(f"order_id,order_ts,product_id,quantity,unit_price,{clashing}\n"
                    "A1,2025-01-03,P1,2,3.5,e,r,x,99,other.csv,cancelled,7,AB-1\n")
    kept, reasons, _ = _clean(spark, path)
    line = kept["A1"]
    assert reasons == {} and line["row_number"] == 1 and line["source_file"] == "clashing.csv"
    assert json.loads(line["extra"]) == {
        "src_extra": "e", "src_record": "r", "src_reason": "x", "src_row_number": "99",
        "src_source_file": "other.csv", "src__mapping_reject": "cancelled", "no_": "7", "art__nr_": "AB-1",
    }


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_nested_values_keep_their_keys_in_extra(tmp_path, spark, fmt):
    frame = pd.DataFrame({"order_id": ["A1"], "order_ts": ["2025-01-03"], "product_id": ["P1"], "quantity": ["2"],
                          "unit_price": ["3.5"], "meta": [{"a": 1, "b": "x"}], "tags": [["x", "y"]]})
    path = tmp_path / f"nested.{fmt}"
    if fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    kept, reasons, _ = _clean(spark, path)
    extra = json.loads(kept["A1"]["extra"])
    assert reasons == {}
    assert (json.loads(extra["meta"]), json.loads(extra["tags"])) == ({"a": 1, "b": "x"}, ["x", "y"])


@pytest.mark.parametrize(("unit", "zone"), [("ns", None), ("us", None), ("ns", "Europe/Berlin"), ("us", "+05:30")])
def test_parquet_timestamps_and_booleans_read_like_the_same_csv(tmp_path, spark, unit, zone):
    stamps = pd.to_datetime(["2025-01-03 00:30:00", "2025-01-03 23:59:59.250000"], format="ISO8601").astype(f"datetime64[{unit}]")
    frame = pd.DataFrame({"order_id": ["A1", "A2"], "order_ts": stamps.tz_localize(zone) if zone else stamps,
                          "product_id": ["P1", "P2"], "quantity": [2, 1], "unit_price": [3.5, 1.0],
                          "promo": [True, False]})
    frame.to_parquet(tmp_path / "stamps.parquet")
    frame.to_csv(tmp_path / "stamps.csv", index=False)
    from_parquet, parquet_reasons, _ = _clean(spark, tmp_path / "stamps.parquet")
    from_csv, _, _ = _clean(spark, tmp_path / "stamps.csv")
    assert parquet_reasons == {}
    assert [str(from_parquet[k]["order_date"]) for k in ("A1", "A2")] == ["2025-01-03", "2025-01-03"]
    for key in ("A1", "A2"):
        assert from_parquet[key]["order_ts"] == from_csv[key]["order_ts"]
    assert (from_parquet["A1"]["promo"], from_parquet["A2"]["promo"]) == (1, 0)
    raw = read_landed_file(spark, tmp_path / "stamps.parquet", SALES_REQUIRED).orderBy("row_number").first()
    assert raw["order_ts"] == "2025-01-03T00:30:00" + {None: "", "Europe/Berlin": "+01:00", "+05:30": "+05:30"}[zone]


def test_a_field_over_the_reader_limit_fails_the_file_naming_file_and_limit(tmp_path, spark):
    path = tmp_path / "huge_field.csv"
    path.write_text(HEADER + OK1 + "A2,2025-01-03,S1," + "P" * (MAX_CHARS_PER_COLUMN + 1) + ",1,1\n")
    with pytest.raises(ContractError, match=rf"huge_field\.csv: .*{MAX_CHARS_PER_COLUMN:,}"):
        read_landed_file(spark, path, SALES_REQUIRED)


def test_a_field_longer_than_the_row_limit_rejects_its_row(tmp_path, spark):
    path = tmp_path / "long_field.csv"
    path.write_text("order_id,order_ts,product_id,product_name,quantity,unit_price\n"
                    "A1,2025-01-03,P1,Tea,1,1\nA2,2025-01-03,P2," + "x" * (MAX_FIELD_LENGTH + 1) + ",1,1\n")
    kept, reasons, _ = _clean(spark, path)
    assert set(kept) == {"A1"} and reasons == {2: "field_too_long"}
