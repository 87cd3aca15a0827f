import datetime as dt
import json

from nexgen_assets.lib.cleaning.contract_rules import clean_inventory_snapshots, clean_sales_lines
from nexgen_assets.lib.ingestion.contract import INVENTORY_REQUIRED, SALES_REQUIRED
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


def test_a_resent_order_line_with_other_values_is_rejected_and_the_first_kept(tmp_path, spark):
    body = (
        GOOD
        + "A1,2024-03-01T10:00:00,S1,P1,5,3.50,0,web\n"
        + GOOD
        + "A1,2024-03-01T10:00:00,S1,P1,2,3.99,0,web\n"
        + "A1,2024-03-01T10:00:00,S2,P1,5,3.50,0,web\n"
        + "A2,2024-03-01,S1,P1,abc,1.0,0,web\n"
        + "A2,2024-03-01,S1,P1,4,1.0,0,web\n"
        + "A1,2024-03-01T10:05:00,S1,P1,-1,3.50,0,web\n"
    )
    raw = read_landed_file(spark, land(tmp_path, "sales_resent.csv", HEADER + body), SALES_REQUIRED)
    accepted, rejects = clean_sales_lines(raw)
    reasons = {r["row_number"]: r["reason"] for r in rejects.collect()}
    assert reasons == {2: "conflicting_duplicate", 3: "duplicate_line", 4: "conflicting_duplicate", 6: "bad_quantity"}
    kept = sorted((r["order_id"], r["store_id"], r["quantity"], r["unit_price"]) for r in accepted.collect())
    assert kept == [("A1", "S1", -1.0, 3.5), ("A1", "S1", 2.0, 3.5), ("A1", "S2", 5.0, 3.5), ("A2", "S1", 4.0, 1.0)]
    assert raw.count() == len(kept) + len(reasons)


def test_placeholder_and_unicode_blank_ids_are_missing(tmp_path, spark):
    blanks = ["NULL", "null", "N/A", "n/a", "NA", "None", "-", " ", "\u00a0", "\u2007", "\u202f", "\u3000",
              "\u200b", "\ufeff"]
    body = "".join(f"B{i},2024-03-01,S1,{blank},1,1.0,0,web\n" for i, blank in enumerate(blanks))
    body += "".join(f"{blank},2024-03-01,S1,P1,1,1.0,0,web\n" for blank in ("NULL", "\u00a0\u200b"))
    body += "C1,2024-03-01,N/A,\u00a0P1\u3000,1,1.0,0,web\n"
    raw = read_landed_file(spark, land(tmp_path, "sales_blank_ids.csv", HEADER + body), SALES_REQUIRED)
    accepted, rejects = clean_sales_lines(raw)
    assert sorted(r["reason"] for r in rejects.collect()) == ["missing_order_id"] * 2 + ["missing_product_id"] * 14
    (kept,) = accepted.collect()
    assert (kept["order_id"], kept["store_id"], kept["product_id"]) == ("C1", "ONLINE", "P1")


def test_promo_words_are_flags(tmp_path, spark):
    body = "".join(f"A{i},2024-03-01,S1,P1,1,1.0,{flag},web\n" for i, flag in enumerate(["true", "FALSE", "Yes", "no"]))
    raw = read_landed_file(spark, land(tmp_path, "sales_promo.csv", HEADER + body), SALES_REQUIRED)
    accepted, rejects = clean_sales_lines(raw)
    assert rejects.count() == 0
    assert [r["promo"] for r in accepted.orderBy("row_number").collect()] == [1, 0, 1, 0]


def test_inventory_rejects_infinite_stock_and_placeholder_ids(tmp_path, spark):
    stocks = ["inf", "Infinity", "-Infinity", "NaN", "1e400"]
    text = "snapshot_date,store_id,product_id,stock_on_hand\n2024-01-01,S1,P1,5\n"
    text += "".join(f"2024-01-01,S1,P{i + 2},{stock}\n" for i, stock in enumerate(stocks))
    text += "2024-01-01,NULL,P9,1\n2024-01-01,S1,\u00a0,1\n"
    raw = read_landed_file(spark, land(tmp_path, "inventory_inf.csv", text), INVENTORY_REQUIRED)
    accepted, rejects = clean_inventory_snapshots(raw)
    assert [(r["product_id"], r["stock_on_hand"]) for r in accepted.collect()] == [("P1", 5.0)]
    assert sorted(r["reason"] for r in rejects.collect()) == ["bad_stock"] * 5 + ["missing_product_id", "missing_store_id"]


def test_non_finite_quantities_and_prices_are_rejected(tmp_path, spark):
    body = "A1,2024-03-01,S1,P1,-inf,1.0,0,web\nA2,2024-03-01,S1,P1,1,Infinity,0,web\nA3,2024-03-01,S1,P1,1,NaN,0,web\n"
    raw = read_landed_file(spark, land(tmp_path, "sales_inf.csv", HEADER + body), SALES_REQUIRED)
    accepted, rejects = clean_sales_lines(raw)
    assert accepted.count() == 0
    assert {r["row_number"]: r["reason"] for r in rejects.collect()} == {
        1: "implausible_quantity", 2: "implausible_price", 3: "bad_price"
    }


def test_the_earliest_plausible_date_is_a_setting_not_a_constant(tmp_path, spark):
    sales = HEADER + "A1,1995-06-01T10:00:00,S1,P1,2,3.50,0,web\nA2,2012-06-01T10:00:00,S1,P1,2,3.50,0,web\n"
    raw = read_landed_file(spark, land(tmp_path, "sales_old.csv", sales), SALES_REQUIRED)
    assert clean_sales_lines(raw)[1].count() == 0
    accepted, rejects = clean_sales_lines(raw, earliest=dt.date(2010, 1, 1))
    assert [r["order_id"] for r in accepted.collect()] == ["A2"]
    assert [r["reason"] for r in rejects.collect()] == ["ancient_date"]

    stock = "snapshot_date,store_id,product_id,stock_on_hand\n1995-06-01,S1,P1,5\n2012-06-01,S1,P1,5\n"
    snapshots = read_landed_file(
        spark, land(tmp_path, "inventory_old.csv", stock), ("snapshot_date", "store_id", "product_id", "stock_on_hand")
    )
    assert [r["reason"] for r in clean_inventory_snapshots(snapshots, earliest=dt.date(2010, 1, 1))[1].collect()] == [
        "ancient_date"
    ]
