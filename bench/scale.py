"""Time and memory of one whole pass of the platform at a given size, stage by stage.

    python bench/scale.py --series 200 --days 365                      # small chain, one year
    python bench/scale.py --series 1000 --days 730                     # mid-size, two years
    python bench/scale.py --series 5000 --days 730 --formats parquet   # large, Parquet landing
    python bench/scale.py --lines 2000000 [--days 730]                 # size given as order lines

Generates order lines, inventory snapshots and the promotion calendar with the project's
generator (demo profile; series = stores x products with stores = max(1, series // 100);
--days days are landed, the profile's holdout comes on top), then runs `nexgen run` as a
subprocess in a clean environment, so ingestion, cleaning, daily tables, features, every
model, the backtest, the forecast, the marts and the exports all run as in production.
Landed files are back-dated so the landing settle wait is not timed.

While it runs, the resident memory of the CLI process and all its descendants (the Spark
JVM and Python workers included) is summed about every 0.5 s from /proc, as PSS so that
pages shared by forked processes count once; the peak is reported. Afterwards the
Dagster event log of the run's instance gives, per stage summed over the per-file runs,
the step wall seconds and the rows the stage's main assets report (the last column names
the metadata counted). Time inside runs but outside steps (resource and Spark session
setup) and time outside runs (interpreter start, imports, planning) are shown apart.
"""

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dagster as dg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nexgen_assets.demo.generator import PROFILES, GeneratorConfig, generate  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
SAMPLE_SECONDS = 0.5

STAGES: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    ("ingest sales", ("raw_sales",), (("raw_sales", "rows_read"),)),
    ("ingest inventory", ("raw_inventory", "raw_promotions"),
     (("raw_inventory", "rows_read"), ("raw_promotions", "rows_read"))),
    ("clean", ("clean_sales", "ingestion_audit"), (("clean_sales", "rows_read"),)),
    ("daily tables", ("daily_sales",), (("daily_sales", "rows"),)),
    ("features", ("sales_features",), (("sales_features", "rows"),)),
    ("schema checks", (), ()),
    ("backtest", ("backtest_results", "model_leaderboard", "champion_model"), (("backtest_results", "scored_points"),)),
    ("forecast", ("sales_forecast", "sales_forecast_levels", "inventory_plan", "forecast_accuracy"),
     (("sales_forecast", "rows"),)),
    ("marts/publish", ("fact_sales_daily", "dim_date", "dim_product", "dim_store", "dashboard_views"),
     (("fact_sales_daily", "rows_written"), ("dim_date", "rows_written"), ("dim_product", "rows_written"),
      ("dim_store", "rows_written"))),
    ("exports", ("powerbi_exports", "sales_dashboard", "powerbi_semantic_model"), (("powerbi_exports", "rows"),)),
)
STEP_STAGE = {step: name for name, steps, _ in STAGES for step in steps}
COUNTED = {name: counted for name, _, counted in STAGES}
ROW_COUNT_KEYS = ("dagster/partition_row_count", "dagster/row_count")
TRAIN_BEFORE = "backtest"


@dataclass
class Stage:
    name: str
    steps: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    rows: int | None = None
    counted: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.rows is not None and self.seconds > 0 else None


class TreeMemory(threading.Thread):
    """Samples the resident memory of a process and all its descendants; keeps the peaks.

    The main figure sums PSS (/proc/PID/smaps_rollup: each shared page split between the
    processes mapping it), so a child forked from the JVM or a Python worker is not counted
    twice; the summed RSS peak is kept beside it. Samples are at least `interval` apart and
    never take more than a fifth of the time.
    """

    def __init__(self, root: int, interval: float = SAMPLE_SECONDS):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_bytes = self.peak_rss_bytes = 0
        self.peak_by_name: dict[str, int] = {}
        self.samples = 0
        self._done = threading.Event()

    @staticmethod
    def _children() -> dict[int, list[int]]:
        children: dict[int, list[int]] = defaultdict(list)
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path("/proc", entry.name, "stat").read_text()
            except OSError:
                continue
            children[int(stat.rpartition(")")[2].split()[1])].append(int(entry.name))
        return children

    @staticmethod
    def _resident(pid: int) -> tuple[str, int, int]:
        """Name, PSS and RSS in bytes (PSS = RSS where smaps_rollup is missing)."""
        proc = Path("/proc", str(pid))
        rss = int((proc / "statm").read_text().split()[1]) * PAGE
        try:
            rollup = (proc / "smaps_rollup").read_text()
            pss = next(int(line.split()[1]) * 1024 for line in rollup.splitlines() if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pss = rss
        return (proc / "comm").read_text().strip(), pss, rss

    def sample(self) -> int:
        children, todo = self._children(), [self.root]
        by_name: dict[str, int] = defaultdict(int)
        rss_total = 0
        while todo:
            pid = todo.pop()
            todo.extend(children.get(pid, ()))
            try:
                name, pss, rss = self._resident(pid)
            except (OSError, IndexError, ValueError):
                continue
            by_name[name] += pss
            rss_total += rss
        total = sum(by_name.values())
        self.samples += 1
        self.peak_rss_bytes = max(self.peak_rss_bytes, rss_total)
        if total > self.peak_bytes:
            self.peak_bytes, self.peak_by_name = total, dict(by_name)
        return total

    def run(self) -> None:
        while not self._done.is_set():
            started = time.perf_counter()
            self.sample()
            self._done.wait(max(self.interval, 5 * (time.perf_counter() - started)))

    def stop(self) -> None:
        self._done.set()
        self.join()


def split_series(series: int) -> tuple[int, int]:
    """Stores x products for about `series` series: a store per 100 series."""
    stores = max(1, series // 100)
    return stores, max(1, round(series / stores))


def config_for(series: int, days: int, fmt: str) -> GeneratorConfig:
    """The demo profile at this size; `days` are landed, the profile's holdout comes on top."""
    stores, products = split_series(series)
    holdout = PROFILES["demo"].holdout_days
    return GeneratorConfig.for_profile("demo", stores=stores, products=products, days=days + holdout, formats=(fmt,))


def series_for_lines(lines: int, days: int, fmt: str) -> int:
    """How many series give about `lines` landed order lines over `days`, from a small generated sample."""
    probe_series = 200
    with tempfile.TemporaryDirectory(prefix="nexgen-scale-probe-") as probe:
        sample = sum(generate(Path(probe), config_for(probe_series, days, fmt)).lines_per_file.values())
    return max(1, math.ceil(lines * probe_series / max(sample, 1)))


def _metadata_rows(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, dict):
        return sum(int(v) for v in value.values() if isinstance(v, int | float))
    return None


def _counted(stage: str) -> tuple[tuple[str, str], ...]:
    """(asset, metadata key) pairs whose sum is the stage's rows; a model's training rows for its training."""
    if stage.startswith("train "):
        return ((f"{stage.removeprefix('train ')}_model", "training_rows"),)
    return COUNTED.get(stage, ())


def _row_key(rows_by_asset: dict, asset: str, key: str) -> tuple[str, str] | None:
    """The (asset, key) to count: the named key, else Dagster's standard row count if the asset reports one."""
    for candidate in (key, *ROW_COUNT_KEYS):
        if (asset, candidate) in rows_by_asset:
            return asset, candidate
    return None


def _stage_of(step: str, check_only: bool) -> str:
    if step in STEP_STAGE:
        return STEP_STAGE[step]
    if check_only:
        return "schema checks"
    if step.endswith("_model"):
        return f"train {step.removesuffix('_model')}"
    return "other"


def read_event_log(dagster_home: Path) -> dict:
    """Per-stage step seconds and rows, summed over every run in the instance, plus time outside steps."""
    stages: dict[str, Stage] = {}
    rows_by_asset: dict[tuple[str, str], int] = defaultdict(int)
    run_seconds = step_seconds = 0.0
    runs = 0
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for record in instance.get_run_records():
            runs += 1
            if record.start_time and record.end_time:
                run_seconds += record.end_time - record.start_time
            opened: dict[str, float] = {}
            seconds: dict[str, float] = defaultdict(float)
            executions: dict[str, int] = defaultdict(int)
            materialized: set[str] = set()
            for entry in instance.all_logs(record.dagster_run.run_id):
                event = entry.dagster_event
                if event is None or event.step_key is None:
                    continue
                kind = event.event_type_value
                if kind in ("STEP_START", "STEP_RESTARTED"):
                    opened[event.step_key] = entry.timestamp
                    executions[event.step_key] += 1
                elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY") and event.step_key in opened:
                    seconds[event.step_key] += entry.timestamp - opened.pop(event.step_key)
                elif kind == "ASSET_MATERIALIZATION":
                    materialized.add(event.step_key)
                    materialization = entry.asset_materialization
                    asset = materialization.asset_key.to_user_string()
                    for key, value in materialization.metadata.items():
                        rows = _metadata_rows(value.value)
                        if rows is not None:
                            rows_by_asset[(asset, key)] += rows
            for step, spent in seconds.items():
                name = _stage_of(step, step not in materialized)
                stage = stages.setdefault(name, Stage(name))
                stage.steps += executions[step]
                stage.seconds += spent
                stage.slowest = max(stage.slowest, spent)
                step_seconds += spent
    for stage in stages.values():
        found = [pair for asset, key in _counted(stage.name) if (pair := _row_key(rows_by_asset, asset, key))]
        stage.counted = [f"{asset}.{key}" for asset, key in found]
        stage.rows = sum(rows_by_asset[k] for k in found) if found else None
    return {"stages": _ordered(stages), "runs": runs, "run_seconds": run_seconds, "step_seconds": step_seconds}


def _ordered(stages: dict[str, Stage]) -> list[Stage]:
    order = [name for name, _, _ in STAGES]
    at = order.index(TRAIN_BEFORE)
    order[at:at] = sorted(name for name in stages if name.startswith("train "))
    order.append("other")
    return [stages[name] for name in order if name in stages]


def clean_environment(dagster_home: Path, settings: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without inherited NEXGEN_*/DAGSTER_* settings, with the run's own DAGSTER_HOME and the
    NEXGEN_* `settings` the command line asked for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}
    env["DAGSTER_HOME"] = str(dagster_home)
    env.update(settings or {})
    return env


def run_cli(home: Path, log: Path, settings: dict[str, str]) -> tuple[int, float, TreeMemory]:
    """`nexgen run --home home` in a subprocess; returns its exit code, wall seconds and memory sampler."""
    command = [sys.executable, "-m", "nexgen_assets.cli", "run", "--home", str(home)]
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=clean_environment(home / "dagster_home", settings), cwd=REPO,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        memory = TreeMemory(process.pid)
        memory.start()
        try:
            code = process.wait()
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        finally:
            memory.stop()
        return code, time.perf_counter() - started, memory


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report(figures: dict) -> str:
    """The printed table."""
    size = figures["size"]
    width = max(len("runs, not steps"), *(len(stage["name"]) for stage in figures["stages"]))
    stores = f"{size['stores']} store{'s' if size['stores'] > 1 else ''}"
    lines = [
        f"NEX GEN scale: {size['series']:,} series ({stores} x {size['products']} products), "
        f"{size['days']} days landed, {size['format']} files; {figures['input_order_lines']:,} input order lines "
        f"in {size['sales_files']} sales files; {figures['runs']} Dagster runs",
        *([" ".join(f"{k}={v}" for k, v in figures["settings"].items())] if figures.get("settings") else []),
        "",
        f"{'stage':<{width}} {'steps':>5} {'wall s':>9} {'max s':>7} {'rows':>12} {'rows/s':>10}  rows counted",
    ]
    for stage in figures["stages"]:
        lines.append(
            f"{stage['name']:<{width}} {stage['steps']:>5} {stage['seconds']:>9.1f} {stage['slowest']:>7.1f} "
            f"{_number(stage['rows']):>12} "
            f"{_number(stage['rows_per_second']):>10}  {', '.join(stage['counted'])}".rstrip()
        )
    timing = figures["timing"]
    memory = figures["memory"]
    parts = ", ".join(f"{name} {mib:,.0f}" for name, mib in memory["peak_mib_by_process"].items() if mib >= 0.5)
    lines += [
        f"{'all steps':<{width}} {'':>5} {timing['steps_seconds']:>9.1f}",
        f"{'runs, not steps':<{width}} {'':>5} {timing['runs_outside_steps_seconds']:>9.1f}  "
        "resource init (the Spark driver starts in the first run), run bookkeeping",
        f"{'outside runs':<{width}} {'':>5} {timing['outside_runs_seconds']:>9.1f}  "
        "interpreter start, imports, planning the pass",
        f"{'end to end':<{width}} {'':>5} {timing['end_to_end_seconds']:>9.1f}  "
        f"{figures['input_order_lines'] / timing['end_to_end_seconds']:,.0f} input order lines/s",
        "",
        f"peak memory of the process tree: {memory['peak_mib']:,.0f} MiB PSS (at the peak: {parts}); "
        f"summed RSS peaked at {memory['peak_rss_sum_mib']:,.0f} MiB; {memory['samples']} samples",
        f"input order lines: {figures['input_order_lines']:,}",
    ]
    etl = figures["etl_comparison"]
    lines.append(
        f"clean and aggregate to daily rows: platform ({' + '.join(SPARK_ETL_STAGES)}, all files) "
        f"{etl['spark_seconds']:,.1f} s; DuckDB on the same files {etl['duckdb_seconds']:,.1f} s "
        f"({etl['duckdb_rows']:,} daily rows): ratio {etl['spark_over_duckdb']:,.1f}x"
    )
    return "\n".join(lines)


SPARK_ETL_STAGES = ("ingest sales", "clean", "daily tables")
"""The platform's stages that do what the DuckDB query does: read the sales files, apply the contract, drop lines
landed twice and sum them to a zero-filled daily table."""

DUCKDB_DAILY = """
WITH raw AS (SELECT * FROM {reader}),
typed AS (
    SELECT NULLIF(TRIM(CAST(order_id AS VARCHAR)), '') AS order_id,
           TRY_CAST(order_ts AS TIMESTAMP) AS order_ts,
           COALESCE(NULLIF(TRIM(CAST(store_id AS VARCHAR)), ''), 'ONLINE') AS store_id,
           NULLIF(TRIM(CAST(product_id AS VARCHAR)), '') AS product_id,
           TRY_CAST(quantity AS DOUBLE) AS quantity,
           TRY_CAST(unit_price AS DOUBLE) AS unit_price,
           COALESCE(TRY_CAST(promo AS INTEGER), 0) AS promo
    FROM raw),
accepted AS (
    SELECT DISTINCT order_id, order_ts, store_id, product_id, quantity, unit_price, promo
    FROM typed
    WHERE order_id IS NOT NULL AND product_id IS NOT NULL AND order_ts >= DATE '1990-01-01'
      AND quantity IS NOT NULL AND quantity <> 0 AND abs(quantity) <= 1e6
      AND unit_price IS NOT NULL AND unit_price >= 0 AND unit_price <= 1e7),
days AS (
    SELECT store_id, product_id, CAST(order_ts AS DATE) AS date, sum(quantity) AS quantity,
           sum(quantity * unit_price) AS revenue, max(promo) AS promo,
           sum(CASE WHEN quantity > 0 THEN quantity * unit_price END) / nullif(sum(greatest(quantity, 0)), 0) AS price
    FROM accepted GROUP BY ALL),
spans AS (SELECT store_id, product_id, min(date) AS first_date FROM days GROUP BY ALL),
grid AS (
    SELECT store_id, product_id, unnest(generate_series(first_date, (SELECT max(date) FROM days), INTERVAL 1 DAY)) AS date
    FROM spans)
SELECT g.store_id, g.product_id, CAST(g.date AS DATE) AS date, coalesce(d.quantity, 0) AS quantity,
       coalesce(d.revenue, 0) AS revenue, coalesce(d.promo, 0) AS promo,
       last_value(d.price IGNORE NULLS) OVER (PARTITION BY g.store_id, g.product_id ORDER BY g.date) AS avg_price
FROM grid g LEFT JOIN days d ON d.store_id = g.store_id AND d.product_id = g.product_id AND d.date = CAST(g.date AS DATE)
"""


def duckdb_daily(files: list[Path], fmt: str, out: Path) -> dict:
    """The clean-and-aggregate step in DuckDB on the same landed sales files, written to Parquet: seconds and rows."""
    import duckdb

    names = ", ".join(f"'{path}'" for path in files)
    reader = f"read_parquet([{names}], union_by_name = true)" if fmt == "parquet" else (
        f"read_csv([{names}], union_by_name = true, all_varchar = true, ignore_errors = true)"
    )
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute(f"COPY ({DUCKDB_DAILY.format(reader=reader)}) TO '{out}' (FORMAT parquet)")
        rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
    return {"seconds": time.perf_counter() - started, "rows": rows}


def benchmark(home: Path, config: GeneratorConfig, fmt: str, settings: dict[str, str]) -> dict:
    """Generate into home, run the CLI once, and gather the figures."""
    started = time.perf_counter()
    generated = generate(home, config)
    past = time.time() - 60
    for path in generated.incoming.iterdir():
        os.utime(path, (past, past))
    lines = sum(generated.lines_per_file.values())
    print(f"generated {lines:,} order lines in {len(generated.sales_files)} {fmt} files "
          f"({time.perf_counter() - started:.1f}s); running nexgen run ...", flush=True)
    log = home / "scale_run.log"
    code, wall, memory = run_cli(home, log, settings)
    if code != 0:
        tail = log.read_text().splitlines()[-40:]
        raise SystemExit("nexgen run failed (exit {}); last lines of {}:\n{}".format(code, log, "\n".join(tail)))
    events = read_event_log(home / "dagster_home")
    stages = [{**asdict(s), "rows_per_second": s.rows_per_second} for s in events["stages"]]
    spark_etl = sum(stage["seconds"] for stage in stages if stage["name"] in SPARK_ETL_STAGES)
    duckdb = duckdb_daily(generated.sales_files, fmt, home / "duckdb_daily.parquet")
    return {
        "etl_comparison": {"spark_seconds": spark_etl, "duckdb_seconds": duckdb["seconds"], "duckdb_rows": duckdb["rows"],
                           "spark_over_duckdb": spark_etl / duckdb["seconds"] if duckdb["seconds"] else None},
        "size": {"series": config.stores * config.products, "stores": config.stores, "products": config.products,
                 "days": config.days - config.holdout_days, "holdout_days": config.holdout_days, "format": fmt,
                 "sales_files": len(generated.sales_files), "inventory_files": len(generated.inventory_files)},
        "input_order_lines": lines,
        "settings": settings,
        "runs": events["runs"],
        "stages": stages,
        "timing": {
            "end_to_end_seconds": wall,
            "steps_seconds": events["step_seconds"],
            "runs_outside_steps_seconds": events["run_seconds"] - events["step_seconds"],
            "outside_runs_seconds": wall - events["run_seconds"],
        },
        "memory": {
            "peak_mib": memory.peak_bytes / MIB,
            "peak_rss_sum_mib": memory.peak_rss_bytes / MIB,
            "peak_mib_by_process": {name: b / MIB for name, b in
                                    sorted(memory.peak_by_name.items(), key=lambda item: -item[1])},
            "samples": memory.samples,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--series", type=int, help="store x product series (default 200)")
    size.add_argument("--lines", type=int, help="about this many landed order lines instead of --series")
    parser.add_argument("--days", type=int, help="days landed (default 365, or 730 with --lines)")
    parser.add_argument("--formats", choices=("csv", "parquet"), default="csv", help="sales file format (default csv)")
    parser.add_argument("--home", type=Path, help="empty folder for NEXGEN_HOME (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temp home (a --home or a failed run's home is always kept)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    parser.add_argument("--backtest-max-series", type=int, metavar="N",
                        help="NEXGEN_BACKTEST_MAX_SERIES for the run: backtest a fixed sample of N series (default: all)")
    args = parser.parse_args()

    days = args.days or (730 if args.lines else 365)
    series = args.series or 200
    if args.lines:
        series = series_for_lines(args.lines, days, args.formats)
        print(f"--lines {args.lines:,}: {series:,} series over {days} days (estimated from a 200-series sample)")
    if args.home:
        home = args.home.resolve()
        if home.exists() and any(home.iterdir()):
            parser.error(f"--home {home} is not empty")
    else:
        home = Path(tempfile.mkdtemp(prefix="nexgen-scale-"))
    try:
        settings = {} if args.backtest_max_series is None else {"NEXGEN_BACKTEST_MAX_SERIES": str(args.backtest_max_series)}
        figures = benchmark(home, config_for(series, days, args.formats), args.formats, settings)
    except BaseException:
        print(f"home left for inspection: {home}", file=sys.stderr)
        raise
    if args.home is None and not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    print(report(figures))
    if args.home or args.keep:
        print(f"home kept: {home} (CLI output in scale_run.log)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
