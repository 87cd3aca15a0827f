"""The ingestion log row: one per landed file, refused when the counts do not add up."""

import datetime as dt

import pytest

from nexgen_assets.lib.cleaning.ingestion_log import ingestion_log_row


def test_one_row_with_the_counts_and_when():
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    row = ingestion_log_row("sales_a.csv", "abc123", read=10, accepted=7, rejected=3, seconds=1.23456, run_id="r1")
    assert len(row) == 1
    record = row.iloc[0]
    assert (record["source_file"], record["content_sha256"], record["run_id"]) == ("sales_a.csv", "abc123", "r1")
    assert (record["rows_read"], record["rows_accepted"], record["rows_rejected"]) == (10, 7, 3)
    assert record["seconds"] == 1.235
    assert before <= record["ingested_at"] <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert record["ingested_at"].microsecond == 0


def test_counts_that_do_not_add_up_are_refused_naming_the_file():
    with pytest.raises(ValueError, match=r"sales_a\.csv: read 10 rows but accepted 7 \+ rejected 2"):
        ingestion_log_row("sales_a.csv", "abc123", read=10, accepted=7, rejected=2, seconds=0.1, run_id="r1")
