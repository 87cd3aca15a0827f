"""Other layouts through YAML column mappings: the Amazon-style report and a POS export."""

from collections import Counter
from pathlib import Path

import pytest

from nexgen_assets.lib.cleaning.contract_rules import clean_sales_lines
from nexgen_assets.lib.ingestion.contract import SALES_REQUIRED, ContractError
from nexgen_assets.lib.ingestion.mapping import load_mapping, mapping_for
from nexgen_assets.lib.ingestion.reader import read_landed_file

SAMPLES = Path(__file__).resolve().parents[3] / "data" / "samples"


def test_amazon_report_maps_to_the_contract_and_keeps_cancelled_rows_as_rejects(spark):
    raw = read_landed_file(spark, SAMPLES / "amazon_sale_report_sample.csv", SALES_REQUIRED)
    accepted, rejects = clean_sales_lines(raw)
    rows = {r["order_id"]: r for r in accepted.collect()}
    assert set(rows) == {"171-9198151-1101146", "404-0687676-7273146", "407-1069790-7240320"}
    line = rows["404-0687676-7273146"]
    assert (line["store_id"], line["product_id"], line["quantity"], line["unit_price"]) == (
        "AMAZON", "JNE3371-KR-XL", 2.0, 329.0
    )
    assert str(line["order_date"]) == "2022-04-30"
    assert '"ship_city":"NAVI MUMBAI"' in line["extra"]
    assert Counter(r["reason"] for r in rejects.collect()) == {"excluded_by_mapping": 2}
    assert raw.count() == len(rows) + 2


def test_pos_export_parses_day_first_dates_and_promo_flags(spark):
    raw = read_landed_file(spark, SAMPLES / "pos_store12_2025-01-03.csv", SALES_REQUIRED)
    accepted, rejects = clean_sales_lines(raw)
    rows = {r["order_id"]: r for r in accepted.collect()}
    assert rejects.count() == 0 and len(rows) == 4
    assert str(rows["T0001"]["order_date"]) == "2025-01-03"
    assert (rows["T0002"]["promo"], rows["T0001"]["promo"]) == (1, 0)
    assert rows["T0003"]["quantity"] == -1.0 and rows["T0004"]["store_id"] == "S012"


def test_user_mappings_win_over_built_in_ones(tmp_path):
    (tmp_path / "mine.yaml").write_text("name: mine\nmatch: 'pos_*'\ncolumns: {order_id: receipt}\n")
    assert mapping_for("pos_x.csv", [tmp_path]).name == "mine"
    assert mapping_for("sales_2025-01.csv", [tmp_path]) is None


def test_a_mapping_that_misses_its_columns_names_the_file_and_columns(tmp_path, spark):
    path = tmp_path / "pos_broken.csv"
    path.write_text("Transaction ID,Timestamp\nT1,03/01/2025 09:00\n")
    with pytest.raises(ContractError, match=r"pos_broken\.csv: line 1: mapping pos_export .* item_code"):
        read_landed_file(spark, path, SALES_REQUIRED)


def test_bad_mapping_files_are_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("match: 'x_*'\nderive: {unit_price: {multiply: [a, b]}}\n")
    with pytest.raises(ContractError, match="bad.yaml: derive.unit_price"):
        load_mapping(bad)
