import json

from nexgen_assets.lib.cleaning.contract_rules import clean_inventory_snapshots, clean_sales_lines
from nexgen_assets.lib.ingestion.contract import SALES_REQUIRED
from nexgen_assets.lib.ingestion.reader import read_landed_file
from nexgen_assets_tests.conftest import land
from nexgen_assets_tests.lib.conftest import GOOD_LINE, SALES_HEADER

HEADER, GOOD = SALES_HEADER, GOOD_LINE


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
        + "A10,0001-01-01,S1,P1,1,1.0,0,web\n"
        + "A11,2024-03-01,S1," + "P" * 129 + ",1,1.0,0,web\n"
    )
    raw = read_landed_file(spark, land(tmp_path, "sales_defects.csv", HEADER + body), SALES_REQUIRED)
    accepted, rejects = clean_sales_lines(raw)
    reasons = {r["row_number"]: r["reason"] for r in rejects.collect()}
    assert reasons == {
        2: "duplicate_line", 3: "missing_order_id", 4: "missing_product_id", 5: "unparseable_date",
        6: "bad_quantity", 7: "zero_quantity", 8: "negative_price", 9: "bad_promo",
        11: "ancient_date", 12: "id_too_long",
    }
    kept = {r["order_id"]: r for r in accepted.collect()}
    assert raw.count() == len(kept) + len(reasons)
    assert kept["A9"]["store_id"] == "ONLINE" and kept["A9"]["quantity"] == -1.0 and kept["A9"]["promo"] == 0
    assert json.loads(kept["A1"]["extra"]) == {"channel": "web"}
    assert json.loads(rejects.where("row_number = 8").first()["record"])["unit_price"] == "-2.0"


def test_inventory_rows_with_bad_stock_are_rejected(tmp_path, spark):
    text = ("snapshot_date,store_id,product_id,stock_on_hand\n2024-01-01,S1,P1,5\n2024-01-01,S1,P2,-3\nbad,S1,P3,1\n"
            "2204-01-01,S1,P4,1\n1924-01-01,S1,P5,1\n")
    raw = read_landed_file(
        spark, land(tmp_path, "inventory_x.csv", text), ("snapshot_date", "store_id", "product_id", "stock_on_hand")
    )
    accepted, rejects = clean_inventory_snapshots(raw)
    assert accepted.count() == 1
    assert sorted(r["reason"] for r in rejects.collect()) == ["ancient_date", "bad_stock", "future_date", "missing_snapshot_date"]
