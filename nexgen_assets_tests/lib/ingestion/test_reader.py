import gzip

import pandas as pd
import pytest

from nexgen_assets.lib.cleaning.contract_rules import clean_sales_lines
from nexgen_assets.lib.ingestion.contract import SALES_REQUIRED, ContractError
from nexgen_assets.lib.ingestion.reader import read_landed_file
from nexgen_assets_tests.conftest import land
from nexgen_assets_tests.lib.conftest import GOOD_LINE, SALES_HEADER

HEADER, GOOD = SALES_HEADER, GOOD_LINE


def test_row_numbers_and_source_file(tmp_path, spark):
    path = land(tmp_path, "sales_a.csv", HEADER + GOOD + "A2,2024-03-01,S1,P2,1,1.00,1,store\n")
    rows = read_landed_file(spark, path, SALES_REQUIRED).orderBy("row_number").collect()
    assert [r["row_number"] for r in rows] == [1, 2]
    assert {r["source_file"] for r in rows} == {"sales_a.csv"}
    assert rows[1]["order_id"] == "A2"


@pytest.mark.parametrize("fmt", ["csv.gz", "parquet", "jsonl"])
def test_every_format_reads_the_same(tmp_path, spark, fmt):
    frame = pd.DataFrame(
        {"order_id": ["A1", "A2"], "order_ts": ["2024-03-01T10:00:00", "2024-03-02"], "product_id": ["P1", "P2"],
         "quantity": [2, -1], "unit_price": [3.5, 1.0]}
    )
    path = tmp_path / f"sales_x.{fmt}"
    if fmt == "csv.gz":
        with gzip.open(path, "wt") as handle:
            frame.to_csv(handle, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True)
    accepted, rejects = clean_sales_lines(read_landed_file(spark, path, SALES_REQUIRED))
    rows = accepted.orderBy("row_number").collect()
    assert rejects.count() == 0
    assert [r["quantity"] for r in rows] == [2.0, -1.0]
    assert [r["store_id"] for r in rows] == ["ONLINE", "ONLINE"]


def test_missing_required_column_names_file_and_column(tmp_path, spark):
    path = land(tmp_path, "sales_bad.csv", "order_id,order_ts,product_id,quantity\nA1,2024-01-01,P1,1\n")
    with pytest.raises(ContractError, match=r"sales_bad\.csv.*unit_price"):
        read_landed_file(spark, path, SALES_REQUIRED)


def test_empty_file_is_a_clear_error(tmp_path, spark):
    path = land(tmp_path, "sales_empty.csv", "")
    with pytest.raises(ContractError, match="sales_empty.csv"):
        read_landed_file(spark, path, SALES_REQUIRED)


def test_unsupported_suffix_is_refused(tmp_path, spark):
    path = land(tmp_path, "sales.xlsx", "x")
    with pytest.raises(ContractError, match="unsupported file type"):
        read_landed_file(spark, path, SALES_REQUIRED)
