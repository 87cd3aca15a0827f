"""A corpus of broken sales files: each gives a clear error or rejected rows, and no sale is lost or doubled."""

from collections import Counter

import pandas as pd
import pytest

from nexgen_assets.lib.cleaning.contract_rules import clean_sales_lines
from nexgen_assets.lib.ingestion.contract import SALES_REQUIRED, ContractError
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
        (2, {"missing_order_id": 1}),
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

