import gzip
import json

import pandas as pd
import pytest

from nexgen_assets.lib.cleaning.contract_rules import clean_inventory_snapshots, clean_sales_lines
from nexgen_assets.lib.ingestion.contract import SALES_REQUIRED, ContractError
from nexgen_assets.lib.ingestion.reader import read_landed_file

HEADER = "order_id,order_ts,store_id,product_id,quantity,unit_price,promo,channel\n"
GOOD = "A1,2024-03-01T10:00:00,S1,P1,2,3.50,0,web\n"


def _write(path, text):
    path.write_text(text)
    return path


def test_row_numbers_and_source_file(tmp_path, spark):
    path = _write(tmp_path / "sales_a.csv", HEADER + GOOD + "A2,2024-03-01,S1,P2,1,1.00,1,store\n")
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
    path = _write(tmp_path / "sales_bad.csv", "order_id,order_ts,product_id,quantity\nA1,2024-01-01,P1,1\n")
    with pytest.raises(ContractError, match=r"sales_bad\.csv.*unit_price"):
        read_landed_file(spark, path, SALES_REQUIRED)


def test_empty_file_is_a_clear_error(tmp_path, spark):
    path = _write(tmp_path / "sales_empty.csv", "")
    with pytest.raises(ContractError, match="sales_empty.csv"):
        read_landed_file(spark, path, SALES_REQUIRED)


def test_unsupported_suffix_is_refused(tmp_path, spark):
    path = _write(tmp_path / "sales.xlsx", "x")
    with pytest.raises(ContractError, match="unsupported file type"):
        read_landed_file(spark, path, SALES_REQUIRED)


def test_each_defect_gets_its_reason_and_counts_add_up(tmp_path, spark):
    body = (
        GOOD
        + GOOD
        + ",2024-03-01,S1,P1,1,1.0,0,web\n"
        + "A3,2024-03-01,S1,,1,1.0,0,web\n"
        + "A4,31/02/2024,S1,P1,1,1.0,0,web\n"
        + "A5,2024-03-01,S1,P1,abc,1.0,0,web\n"
        + "A6,2024-03-01,S1,P1,0,1.0,0,web\n"
        + "A7,2024-03-01,S1,P1,1,-2.0,0,web\n"
        + "A8,2024-03-01,S1,P1,1,1.0,7,web\n"
        + "A9,2024-03-01,,P1,-1,1.0,,web\n"
    )
    raw = read_landed_file(spark, _write(tmp_path / "sales_defects.csv", HEADER + body), SALES_REQUIRED)
    accepted, rejects = clean_sales_lines(raw)
    reasons = {r["row_number"]: r["reason"] for r in rejects.collect()}
    assert reasons == {
        2: "duplicate_line", 3: "missing_order_id", 4: "missing_product_id", 5: "unparseable_date",
        6: "bad_quantity", 7: "zero_quantity", 8: "negative_price", 9: "bad_promo",
    }
    kept = {r["order_id"]: r for r in accepted.collect()}
    assert raw.count() == len(kept) + len(reasons)
    assert kept["A9"]["store_id"] == "ONLINE" and kept["A9"]["quantity"] == -1.0 and kept["A9"]["promo"] == 0
    assert json.loads(kept["A1"]["extra"]) == {"channel": "web"}
    assert json.loads(rejects.where("row_number = 8").first()["record"])["unit_price"] == "-2.0"


def test_inventory_rows_with_bad_stock_are_rejected(tmp_path, spark):
    text = "snapshot_date,store_id,product_id,stock_on_hand\n2024-01-01,S1,P1,5\n2024-01-01,S1,P2,-3\nbad,S1,P3,1\n"
    raw = read_landed_file(
        spark, _write(tmp_path / "inventory_x.csv", text), ("snapshot_date", "store_id", "product_id", "stock_on_hand")
    )
    accepted, rejects = clean_inventory_snapshots(raw)
    assert accepted.count() == 1
    assert sorted(r["reason"] for r in rejects.collect()) == ["bad_stock", "missing_snapshot_date"]
