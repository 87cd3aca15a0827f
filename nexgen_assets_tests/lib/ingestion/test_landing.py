"""What in the landing folder is new, rewritten, a copy, or not ready yet; the state survives as a cursor."""

import hashlib
import os
import time

from nexgen_assets.lib.ingestion.landing import LandingState, content_hash, plan_landing
from nexgen_assets_tests.conftest import ONE_LINE_SALES, land

LINES = ONE_LINE_SALES


def test_a_file_still_being_written_waits_for_the_next_scan(tmp_path):
    state = LandingState()
    land(tmp_path, "sales_a.csv", LINES, age=0.0)
    assert plan_landing(tmp_path, state).to_ingest == []
    assert plan_landing(tmp_path, state, now=time.time() + 5).to_ingest == ["sales_a.csv"]


def test_content_hash_is_the_sha256_of_the_bytes(tmp_path):
    path = land(tmp_path, "sales_a.csv", LINES)
    assert content_hash(path) == hashlib.sha256(LINES.encode()).hexdigest()


def test_only_finished_data_files_are_planned(tmp_path):
    for name in ("sales_a.csv", "inventory_a.csv", "notes.txt", ".sales_b.csv", "_sales_c.csv", "sales_d.csv.tmp"):
        land(tmp_path, name, f"{LINES}# {name}\n")
    (tmp_path / "sales_folder.csv").mkdir()

    plan = plan_landing(tmp_path, LandingState())

    assert plan.new == ["inventory_a.csv", "sales_a.csv"] and plan.rewritten == [] and plan.duplicates == {}
    assert plan.hashes["sales_a.csv"] == content_hash(tmp_path / "sales_a.csv")
    assert plan_landing(tmp_path / "missing", LandingState()).to_ingest == []


def test_rewrites_copies_and_touches_are_told_apart(tmp_path):
    state = LandingState()
    land(tmp_path, "sales_a.csv", LINES)
    assert plan_landing(tmp_path, state).new == ["sales_a.csv"]

    land(tmp_path, "sales_a.csv", LINES, age=30.0)
    touched = plan_landing(tmp_path, state)
    assert touched.to_ingest == [] and touched.duplicates == {}

    land(tmp_path, "sales_copy.csv", LINES)
    copied = plan_landing(tmp_path, state)
    assert copied.to_ingest == [] and copied.duplicates == {"sales_copy.csv": "sales_a.csv"}
    assert plan_landing(tmp_path, state).duplicates == {}, "a known copy is not reported again"

    land(tmp_path, "sales_a.csv", LINES + "A2,2025-01-02,P1,3,2.0\n", age=20.0)
    rewritten = plan_landing(tmp_path, state)
    assert rewritten.rewritten == ["sales_a.csv"] and rewritten.new == []


def test_state_round_trips_through_the_cursor(tmp_path):
    state = LandingState()
    land(tmp_path, "sales_a.csv", LINES)
    plan_landing(tmp_path, state)

    restored = LandingState.from_cursor(state.to_cursor())

    assert restored.files == state.files and restored.owner_of(content_hash(tmp_path / "sales_a.csv")) == "sales_a.csv"
    assert restored.owner_of("no-such-hash") is None
    assert LandingState.from_cursor(None).files == {}


def test_links_folders_workbooks_and_undecodable_names_are_refused_with_a_reason(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = land(outside, "secret.csv", LINES)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    land(incoming, "sales_good.csv", LINES)
    (incoming / "sales_link.csv").symlink_to(secret)
    os.link(secret, incoming / "sales_hard.csv")
    (incoming / "sales_dir.csv").mkdir()
    land(incoming, "Report.XLSX", "PK")
    os.close(os.open(os.fsencode(incoming) + b"/sales_\xff.csv", os.O_CREAT | os.O_WRONLY))

    state = LandingState()
    plan = plan_landing(incoming, state)

    assert plan.new == ["sales_good.csv"]
    assert set(plan.refused) == {"sales_link.csv", "sales_hard.csv", "sales_dir.csv", "Report.XLSX", "sales_\\xff.csv"}
    assert plan.refused["sales_link.csv"].startswith("is a symbolic link")
    assert plan.refused["sales_hard.csv"].startswith("has 2 hard links")
    assert plan.refused["sales_dir.csv"] == "is not a regular file"
    assert "Excel workbook" in plan.refused["Report.XLSX"]
    assert "not valid UTF-8" in plan.refused["sales_\\xff.csv"]
    assert plan_landing(incoming, state).refused == {}, "a refusal is reported once, not on every scan"
    assert LandingState.from_cursor(state.to_cursor()).refused == state.refused


def test_a_burst_is_planned_in_bounded_slices(tmp_path):
    for i in range(5):
        land(tmp_path, f"sales_{i}.csv", f"{LINES}# {i}\n")
    state = LandingState()

    first = plan_landing(tmp_path, state, max_files=2)
    second = plan_landing(tmp_path, state, max_files=2)
    third = plan_landing(tmp_path, state, max_files=2)

    assert (first.new, first.deferred) == (["sales_0.csv", "sales_1.csv"], 3)
    assert (second.new, second.deferred) == (["sales_2.csv", "sales_3.csv"], 1)
    assert (third.new, third.deferred) == (["sales_4.csv"], 0)
    assert plan_landing(tmp_path, state, max_bytes=1).to_ingest == []


def test_restoring_earlier_bytes_is_a_new_ingestion_with_its_own_run_key(tmp_path):
    state = LandingState()
    land(tmp_path, "sales_a.csv", LINES)
    first = plan_landing(tmp_path, state)
    land(tmp_path, "sales_a.csv", LINES + "A2,2025-01-02,P1,3,2.0\n", age=40.0)
    changed = plan_landing(tmp_path, state)
    land(tmp_path, "sales_a.csv", LINES, age=20.0)
    restored = plan_landing(tmp_path, state)

    assert restored.rewritten == ["sales_a.csv"]
    keys = [first.run_key("sales_a.csv"), changed.run_key("sales_a.csv"), restored.run_key("sales_a.csv")]
    assert len(set(keys)) == 3 and keys[0].rsplit(":", 1)[0] == keys[2].rsplit(":", 1)[0]
