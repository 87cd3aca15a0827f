"""The store and product lists: reference data by name, never order lines; rows validated one by one, ids matched
exactly as the sales lines have them, rejects with a reason and counts that add up."""

import datetime as dt
import json

import pandas as pd
import pytest

from nexgen_assets.lib.cleaning.contract_rules import clean_sales_lines
from nexgen_assets.lib.ingestion.contract import SALES_REQUIRED, ContractError, landing_kind, reference_list
from nexgen_assets.lib.ingestion.landing import LandingState, plan_landing
from nexgen_assets.lib.ingestion.promotions import promotion_files
from nexgen_assets.lib.ingestion.reader import read_landed_file
from nexgen_assets.lib.ingestion.reference import list_files, read_list
from nexgen_assets_tests.conftest import ONE_LINE_SALES, land

STORES = "store_id,store_name,region,format,opening_date\n"


def _read(spark, folder, kind):
    return read_list(spark, [(e.name, folder / e.name) for e in list_files(folder, kind).files], kind)


def test_list_files_are_known_by_name_and_never_planned_as_sales(tmp_path):
    names = {
        "stores.csv": "stores", "Stores_EU.parquet": "stores", "stores-2025.jsonl": "stores",
        "stores 2.csv.gz": "stores", "products.csv": "products", "products_2025.csv": "products",
        "storesales.csv": None, "sales_stores.csv": None, "productsales.csv": None,
    }
    assert {name: reference_list(name) for name in names} == names
    assert landing_kind("promotions_2025.csv") == "promotions" and landing_kind("inventory_1.csv") == "data"
    for name in ("stores.csv", "products_a.csv", "storesales.csv", "promotions_a.csv", "stores.csv.part"):
        land(tmp_path, name, f"{ONE_LINE_SALES}# {name}\n")

    assert plan_landing(tmp_path, LandingState()).new == ["storesales.csv"]
    assert [e.name for e in list_files(tmp_path, "stores").files] == ["stores.csv"]
    assert [e.name for e in list_files(tmp_path, "products").files] == ["products_a.csv"]
    assert [p.name for p in promotion_files(tmp_path)] == ["promotions_a.csv"]


def test_store_rows_are_kept_or_rejected_with_a_reason_and_the_counts_add_up(tmp_path, spark):
    land(tmp_path, "stores.csv", STORES
         + "S1,Main Street,North,mall,2019-05-01\n"
         + ",Nameless,,,\n"
         + "N/A,Placeholder,,,\n"
         + "S2,Harbour,South,outlet,someday\n"
         + "S" * 129 + ",Too long,,,\n"
         + "S1,Main Street,North,mall,2019-05-01\n"
         + "S3,Quay,East,,\n"
         + "S3,Quay Road,East,,\n"
         + "S4,Dock,West,outlet,2020-02-30\n")
    land(tmp_path, "stores_b.csv", "Store ID,Store Name\nS3,Quay\nS5,New Town\n")

    stores = _read(spark, tmp_path, "stores")

    assert stores.rows_read == 11 == len(stores.accepted) + len(stores.rejects)
    assert stores.accepted[["store_id", "store_name", "region", "format", "opening_date", "source_file"]].values.tolist() == [
        ["S1", "Main Street", "North", "mall", dt.date(2019, 5, 1), "stores.csv"],
        ["S3", "Quay", "East", None, None, "stores.csv"],
        ["S5", "New Town", None, None, None, "stores_b.csv"],
    ]
    assert stores.rejects[["source_file", "row_number", "reason"]].values.tolist() == [
        ["stores.csv", 2, "missing_store_id"],
        ["stores.csv", 3, "missing_store_id"],
        ["stores.csv", 4, "bad_opening_date"],
        ["stores.csv", 5, "id_too_long"],
        ["stores.csv", 6, "duplicate_id"],
        ["stores.csv", 8, "conflicting_id"],
        ["stores.csv", 9, "bad_opening_date"],
        ["stores_b.csv", 1, "conflicting_id"],
    ]
    assert json.loads(stores.rejects["record"].iloc[2])["opening_date"] == "someday"


def test_product_lists_in_any_sales_format_are_read_together(tmp_path, spark):
    land(tmp_path, "products.csv", "product_id,product_name,brand,category,subcategory,size,colour\n"
         "P1,Green tea,Leafy,grocery,tea,500 g,green\n")
    pd.DataFrame({"product_id": ["P2"], "product_name": ["Soap"], "brand": [None]}).to_parquet(
        tmp_path / "products_b.parquet", index=False)
    land(tmp_path, "products_c.jsonl", '{"product_id": 3, "product_name": "Cola", "size": "1 l"}\n')

    products = _read(spark, tmp_path, "products")

    assert products.rows_read == 3 and products.rejects.empty
    assert products.accepted.drop(columns="row_number").values.tolist() == [
        ["P1", "Green tea", "Leafy", "grocery", "tea", "500 g", "products.csv"],
        ["P2", "Soap", None, None, None, None, "products_b.parquet"],
        ["3", "Cola", None, None, None, "1 l", "products_c.jsonl"],
    ]
    assert read_list(spark, [], "products").accepted.empty


def test_ids_are_normalised_as_in_the_sales_lines(tmp_path, spark):
    ids = ["\u00a0S1\u3000", "\u200bs1", "S 1"]
    sales = "order_id,order_ts,store_id,product_id,quantity,unit_price\n" + "".join(
        f"A{i},2025-01-01,{store},P1,1,1.0\n" for i, store in enumerate(ids))
    land(tmp_path, "sales_1.csv", sales)
    land(tmp_path, "stores.csv", "store_id,store_name\n" + "".join(f"{store},Shop {i}\n" for i, store in enumerate(ids)))

    accepted, _ = clean_sales_lines(read_landed_file(spark, tmp_path / "sales_1.csv", SALES_REQUIRED))
    stores = _read(spark, tmp_path, "stores")

    assert sorted(r["store_id"] for r in accepted.collect()) == sorted(stores.accepted["store_id"]) == ["S 1", "S1", "s1"]


def test_a_list_without_its_id_or_holding_order_lines_names_the_file(tmp_path, spark):
    land(tmp_path, "stores.csv", "name,region\nMain,North\n")
    with pytest.raises(ContractError, match="stores.csv: line 1: missing required column.*store_id"):
        _read(spark, tmp_path, "stores")
    land(tmp_path, "products_sold.csv", ONE_LINE_SALES)
    with pytest.raises(ContractError, match="products_sold.csv: holds order lines.*rename the sales file"):
        _read(spark, tmp_path, "products")
