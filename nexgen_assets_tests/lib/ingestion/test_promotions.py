"""The promotion calendar: rows validated one by one, rejects kept with a reason, counts that add up."""

import datetime as dt

import pytest

from nexgen_assets.lib.ingestion.contract import ContractError
from nexgen_assets.lib.ingestion.promotions import promotion_files, read_promotion_calendar

GOOD = "S1,P1,2025-01-10,2025-01-12,0.2\n"


def test_good_rows_are_kept_and_bad_ones_rejected_with_file_row_and_reason(tmp_path):
    path = tmp_path / "promotions_2025.csv"
    path.write_text(
        "Store ID,product_id,start_date,end_date,discount\n" + GOOD
        + ",P1,2025-01-10,2025-01-12,0.2\n"
        + "S1,P2,2025-01-12,2025-01-10,0.2\n"
        + "S1,P3,someday,2025-01-10,0.2\n"
        + "S1,P4,2025-01-10,2025-01-12,1.5\n"
        + "S1,P5,2025-01-10,2025-01-12,ten percent\n"
        + "S1,P6,0001-01-10,2025-01-12,0.1\n"
        + "S1," + "P" * 129 + ",2025-01-10,2025-01-12,0.1\n"
    )
    calendar = read_promotion_calendar([path])
    assert calendar.rows_read == 8 and len(calendar.accepted) + len(calendar.rejects) == 8
    row = calendar.accepted.iloc[0]
    assert (row["store_id"], row["product_id"], row["start_date"], row["end_date"], row["discount"]) == (
        "S1", "P1", dt.date(2025, 1, 10), dt.date(2025, 1, 12), 0.2)
    assert calendar.rejects["reason"].tolist() == [
        "missing_store_id", "bad_promotion_dates", "bad_promotion_dates", "bad_discount", "bad_discount",
        "bad_promotion_dates", "id_too_long"]
    assert calendar.rejects["row_number"].tolist() == [3, 4, 5, 6, 7, 8, 9]
    assert set(calendar.rejects["source_file"]) == {"promotions_2025.csv"}
    assert '"product_id":"P4"' in calendar.rejects["record"].iloc[3]


def test_a_file_without_the_calendar_columns_is_named(tmp_path):
    path = tmp_path / "promotions_x.csv"
    path.write_text("store_id,product_id,start_date\nS1,P1,2025-01-01\n")
    with pytest.raises(ContractError, match="promotions_x.csv: missing required column.*end_date, discount"):
        read_promotion_calendar([path])


def test_only_finished_promotion_files_are_calendar_files(tmp_path):
    for name in ("promotions_a.csv", "promotions_b.csv.part", "sales_1.csv", ".promotions_c.csv"):
        (tmp_path / name).write_text("x\n")
    assert [p.name for p in promotion_files(tmp_path)] == ["promotions_a.csv"]
    assert read_promotion_calendar([]).accepted.empty
