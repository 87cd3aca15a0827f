"""Landed files are copied into private staging before Spark reads them: links, patterns, bombs and disguises refused."""

import gzip
import hashlib
import os
import re
import stat

import pytest

from nexgen_assets.lib.ingestion.contract import SALES_REQUIRED, ContractError
from nexgen_assets.lib.ingestion.reader import read_landed_file
from nexgen_assets.lib.ingestion.staging import SizeLimits, stage_landed_file, staged
from nexgen_assets_tests.conftest import ONE_LINE_SALES

HEADER = "order_id,order_ts,product_id,quantity,unit_price\n"


@pytest.fixture
def folders(tmp_path):
    incoming, staging = tmp_path / "incoming", tmp_path / "staging"
    incoming.mkdir()
    return incoming, staging


def test_the_copy_is_private_hashed_and_removed_after_use(folders):
    incoming, staging = folders
    (incoming / "sales_a.csv").write_text(ONE_LINE_SALES)
    with staged(incoming, "sales_a.csv", staging) as copy:
        assert copy.path.parent == staging and copy.path.read_text() == ONE_LINE_SALES
        assert copy.sha256 == hashlib.sha256(ONE_LINE_SALES.encode()).hexdigest()
        assert stat.S_IMODE(copy.path.stat().st_mode) == 0o600 and stat.S_IMODE(staging.stat().st_mode) == 0o700
    assert list(staging.iterdir()) == []


@pytest.mark.parametrize("name", ["../sales_a.csv", "/etc/passwd", "sub/sales_a.csv", "", "..", "sales_a.txt", "a\x00.csv"])
def test_a_key_that_is_not_a_plain_landed_file_name_is_refused_before_any_read(folders, name):
    incoming, staging = folders
    with pytest.raises(ContractError, match="not the name of a data file in the landing folder"):
        stage_landed_file(incoming, name, staging)
    assert not staging.exists()


def test_links_are_never_followed(folders, tmp_path):
    incoming, staging = folders
    secret = tmp_path / "secret.csv"
    secret.write_text(HEADER + "SECRET,2025-01-01,P,1,1\n")
    (incoming / "sales_link.csv").symlink_to(secret)
    os.link(secret, incoming / "sales_hard.csv")

    with pytest.raises(ContractError, match="sales_link.csv: is a symbolic link"):
        stage_landed_file(incoming, "sales_link.csv", staging)
    with pytest.raises(ContractError, match="sales_hard.csv: has 2 hard links"):
        stage_landed_file(incoming, "sales_hard.csv", staging)
    assert list(staging.iterdir()) == []


def test_names_with_pattern_characters_are_read_literally(spark, folders):
    incoming, staging = folders
    names = {"sales_*.csv": "STAR", "sales_[1].csv": "BRACKET", "sales_1.csv": "ONE", "sales_{a,b}.csv": "BRACE"}
    for name, order in names.items():
        (incoming / name).write_text(HEADER + f"{order},2025-01-01,P,1,1\n")

    for name, order in names.items():
        with staged(incoming, name, staging) as copy:
            rows = read_landed_file(spark, copy.path, SALES_REQUIRED, name=name).collect()
        assert [(r["order_id"], r["source_file"]) for r in rows] == [(order, name)]


def test_size_limits_stop_a_gzip_bomb_and_an_oversized_file(folders):
    incoming, staging = folders
    (incoming / "sales_bomb.csv.gz").write_bytes(gzip.compress(HEADER.encode() + b"0" * 200_000))
    (incoming / "sales_big.csv").write_text(HEADER + "A,2025-01-01,P,1,1\n" * 100)
    limits = SizeLimits(max_file_bytes=1_000, max_expanded_bytes=10_000)

    with pytest.raises(ContractError, match=r"sales_bomb.csv.gz: the decompressed content is above the limit of 10,000 bytes"):
        stage_landed_file(incoming, "sales_bomb.csv.gz", staging, limits)
    with pytest.raises(ContractError, match=r"sales_big.csv: is 1,949 bytes, above the limit of 1,000 bytes per file"):
        stage_landed_file(incoming, "sales_big.csv", staging, limits)
    assert list(staging.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("sales_book.csv", b"PK\x03\x04\x14\x00\x06\x00rest-of-an-xlsx", "is a ZIP archive"),
        ("sales_old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "is an Excel 97-2003 workbook"),
        ("sales_text.parquet", (HEADER + "A,2025-01-01,P,1,1\n").encode(), "is not a complete Parquet file"),
        ("sales_plain.csv.gz", (HEADER + "A,2025-01-01,P,1,1\n").encode(), "is not gzip-compressed"),
        ("sales_double.csv.gz", gzip.compress(gzip.compress(HEADER.encode())), "is gzip-compressed, not CSV"),
        ("sales_cut.parquet", b"PAR1\x15\x04", "is not a complete Parquet file (it looks like truncated Parquet)"),
    ],
)
def test_content_that_is_not_what_its_name_says_fails_naming_the_file(folders, name, content, message):
    incoming, staging = folders
    (incoming / name).write_bytes(content)
    with pytest.raises(ContractError, match=f"^{re.escape(name)}: {re.escape(message)}"):
        stage_landed_file(incoming, name, staging)


def test_a_copy_left_by_a_killed_run_is_removed_when_the_next_file_is_staged(folders):
    incoming, staging = folders
    staging.mkdir(mode=0o700)
    abandoned, recent = staging / "abandoned.csv", staging / "in_use.csv"
    for path in (abandoned, recent):
        path.write_text(ONE_LINE_SALES)
    two_days_ago = abandoned.stat().st_mtime - 2 * 24 * 3600
    os.utime(abandoned, (two_days_ago, two_days_ago))
    (incoming / "sales_a.csv").write_text(ONE_LINE_SALES)

    with staged(incoming, "sales_a.csv", staging):
        assert not abandoned.exists() and recent.exists()
