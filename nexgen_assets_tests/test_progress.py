"""What a person sees during `nexgen run`: a line per file and per step; the chatter goes to a log file."""

import io
import subprocess
import sys
import textwrap

import dagster as dg
import pytest

from nexgen_assets.progress import FileResult, Progress, new_log_file


def test_a_file_line_gives_its_counter_rows_rejects_and_seconds():
    out = io.StringIO()
    progress = Progress(out, "info", interactive=False)

    progress.file_done(12, 48, FileResult("sales_2024-12.csv", 4.06, rows_read=21207, rows_rejected=14))
    progress.file_done(13, 48, FileResult("sales_bad.csv", 0.5, failed="raw_sales [sales_bad.csv]: line 1: no header"))

    assert out.getvalue().splitlines() == [
        "[12/48] sales_2024-12.csv  21,207 rows, 14 rejected, 4.1 s",
        "[13/48] sales_bad.csv  FAILED raw_sales [sales_bad.csv]: line 1: no header  (0.5 s)",
    ]


def test_warning_level_shows_only_problems_and_a_bad_level_is_named():
    out = io.StringIO()
    progress = Progress(out, "warning", interactive=False)
    progress.file_done(1, 2, FileResult("sales_a.csv", 1.0, rows_read=3, rows_rejected=0))
    progress.file_done(2, 2, FileResult("sales_b.csv", 1.0, failed="clean_sales: boom"))
    assert out.getvalue().splitlines() == ["[2/2] sales_b.csv  FAILED clean_sales: boom  (1.0 s)"]
    with pytest.raises(ValueError, match="'chatty' is not one of debug, info, warning, error"):
        Progress(out, "chatty")


def test_each_step_of_a_real_run_is_reported_as_it_ends():
    @dg.asset
    def daily_sales() -> int:
        return 1

    @dg.asset
    def sales_features(daily_sales: int) -> int:
        return daily_sales + 1

    @dg.asset
    def broken_model(sales_features: int) -> int:
        raise ValueError("no rows")

    job = dg.Definitions(assets=[daily_sales, sales_features, broken_model]).resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral()
    out = io.StringIO()
    run_id = "3f2c8f7e-0000-4000-8000-000000000001"
    instance.add_event_listener(run_id, Progress(out, "info", interactive=False).step_listener("refresh", 3))

    job.execute_in_process(instance=instance, run_id=run_id, raise_on_error=False)

    lines = out.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "refresh [1/3] daily_sales done", "refresh [2/3] sales_features done", "refresh [3/3] broken_model FAILED",
    ]
    assert all(line.endswith(" s") for line in lines)


def test_spark_and_library_output_goes_to_the_log_file_and_progress_to_the_terminal(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, subprocess, sys
        from pathlib import Path
        from nexgen_assets.progress import chatter_to
        with chatter_to(Path({str(tmp_path / "run.log")!r})) as (out, err):
            print("DEBUG dagster event")
            os.write(2, b"WARN NativeCodeLoader from the JVM\\n")
            subprocess.run(["sh", "-c", "echo child banner >&2"])
            print("[1/1] sales_a.csv  3 rows, 0 rejected, 0.1 s", file=out)
            print("FAILED nothing", file=err)
        print("after")
        """
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)

    assert shown.stdout.splitlines() == ["[1/1] sales_a.csv  3 rows, 0 rejected, 0.1 s", "after"]
    assert shown.stderr.splitlines() == ["FAILED nothing"]
    logged = (tmp_path / "run.log").read_text().splitlines()
    assert logged == ["DEBUG dagster event", "WARN NativeCodeLoader from the JVM", "child banner"]


def test_old_log_files_are_pruned_to_the_newest(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(25):
        (logs / f"nexgen-run-20260101-0000{i:02d}-000000.log").write_text("x")
    fresh = new_log_file(tmp_path)
    kept = sorted(p.name for p in logs.glob("nexgen-run-*.log"))
    assert len(kept) == 19 and kept[0] == "nexgen-run-20260101-000006-000000.log"
    assert not fresh.exists() and fresh.parent == logs
