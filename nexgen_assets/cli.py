"""The `nexgen` command: generate demo data, run the platform once, summarise what it produced."""

import argparse
import datetime as dt
import os
import sys
import textwrap
import time
from importlib.metadata import version as package_version
from pathlib import Path

from nexgen_assets.demo.generator import FILE_FORMATS, HOLIDAY_NAMES, PROFILES, GeneratorConfig, generate
from nexgen_assets.lib.storage.atomic import atomic_path
from nexgen_assets.progress import LEVELS
from nexgen_assets.settings import DAGSTER_STORAGE_URL_VARIABLE, Settings, current

GENERATED_MARK = "# Written by `nexgen` and rewritten when its settings change; delete this line to keep your own edits.\n"

INSTANCE_CONFIG = """\
# Runs start within a second of being requested (a landed file should not wait for a
# dequeue tick), and at most two run at once: each holds a Spark driver. Runs that
# refresh the shared tables (tag nexgen/refresh) go one at a time, in order. Steps in a
# pool (warehouse: every step that publishes to the warehouse) hold one slot each, so
# two runs never publish at once. A run whose process died (killed, out of memory) is
# detected by run monitoring and retried twice, and the pool slots it held are freed 10 s
# after it ended (else the next publish would wait for them forever); a step that failed
# on a transient error has its own retry policy.
run_queue:
  dequeue_interval_seconds: 1
concurrency:
  runs:
    max_concurrent_runs: 2
    tag_concurrency_limits:
      - key: nexgen/refresh
        limit: 1
  pools:
    default_limit: 1
run_retries:
  enabled: true
  max_retries: 2
  retry_on_asset_or_op_failure: false
run_monitoring:
  enabled: true
  poll_interval_seconds: 15
  free_slots_after_run_end_seconds: 10
"""


POSTGRES_STORAGE = f"""\
# Runs, events and schedules in PostgreSQL; the URL is read from the environment at run time.
storage:
  postgres:
    postgres_url:
      env: {DAGSTER_STORAGE_URL_VARIABLE}
"""


def instance_config(settings: Settings) -> str:
    """NEX GEN's dagster.yaml: the concurrency and retry settings, and PostgreSQL storage when configured."""
    return GENERATED_MARK + INSTANCE_CONFIG + (POSTGRES_STORAGE if settings.dagster_storage_url else "")


def ensure_dagster_home(path: Path, settings: Settings | None = None) -> Path:
    """Create the Dagster home shared by `nexgen run` and `dagster dev`, with NEX GEN's instance settings.

    A dagster.yaml this command wrote is rewritten when the settings change it; one whose
    first line was removed is the operator's own and is left alone.
    """
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    wanted = instance_config(settings or Settings.from_env())
    present = config.read_text() if config.exists() else ""
    if present != wanted and (not present.strip() or present.startswith(GENERATED_MARK)):
        with atomic_path(config) as partial:
            partial.write_text(wanted)
    return path


def _home(args) -> Path:
    """NEXGEN_HOME from --home or the settings; exported so runs and `dagster dev` see the same one."""
    home = Path(args.home).resolve() if args.home else Settings.from_env().home
    os.environ["NEXGEN_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_HOME", str(home / "dagster_home"))
    ensure_dagster_home(Path(os.environ["DAGSTER_HOME"]))
    return home


GENERATE_OVERRIDES = (
    "stores",
    "products",
    "days",
    "holdout_days",
    "seed",
    "start",
    "defect_rate",
    "formats",
    "slow_mover_share",
    "demand_scale",
    "closed_days",
)


def _comma_separated(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _profile_values(field_name: str) -> str:
    """The profiles' value of one config field ("demo 10, shop 1", or "28" if all agree) for help texts."""

    def shown(value) -> str:
        if isinstance(value, tuple):
            return ",".join(value) or "none"
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    values = {name: shown(getattr(config, field_name)) for name, config in PROFILES.items()}
    if len(set(values.values())) == 1:
        return next(iter(values.values()))
    return ", ".join(f"{name} {value}" for name, value in values.items())


def cmd_generate(args) -> int:
    """Generate from a profile; only the options given on the command line replace the profile's values."""
    overrides = {name: getattr(args, name) for name in GENERATE_OVERRIDES if getattr(args, name) is not None}
    try:
        config = GeneratorConfig.for_profile(args.profile, **overrides)
    except ValueError as error:
        print(f"nexgen generate: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    out = generate(Path(args.out), config)
    lines = sum(out.lines_per_file.values())
    defects = sum(sum(d.values()) for d in out.defects_per_file.values())
    print(
        f"generated {len(out.sales_files)} sales files ({lines} order lines, {defects} injected defects), "
        f"{len(out.inventory_files)} inventory files, the promotion calendar "
        f"{', '.join(p.name for p in out.promotion_files)} and the store and product lists "
        f"{', '.join(p.name for p in out.reference_files)} in {out.incoming}; truth in {out.truth} "
        f"(profile {args.profile}: stores={config.stores}, products={config.products}, days={config.days}; "
        f"{time.perf_counter() - started:.1f}s)"
    )
    return 0


def exported_files(folder: Path) -> list[str]:
    """What the exports folder really holds: the Parquet marts, and the .pbids file and dashboard if written."""
    marts = len(list(folder.glob("*.parquet"))) if folder.is_dir() else 0
    shown = [f"{marts} Parquet marts"]
    shown += [name for name in ("nexgen.pbids", "dashboard.html") if (folder / name).is_file()]
    return shown


def summary_lines(home: Path) -> list[str]:
    """Rows per warehouse table, the model, and where outputs are."""
    import dagster as dg

    from nexgen_assets.lib.evaluation.champion import serving_champion
    from nexgen_assets.lib.marts.exports import MART_TABLES
    from nexgen_assets.resources import build_resources

    resources = build_resources(home)
    warehouse = resources["warehouse"]
    lines = [f"warehouse ({warehouse.dialect}):"]
    for table in MART_TABLES:
        try:
            lines.append(f"  {table:<22} {warehouse.row_count(table):>10,} rows")
        except Exception as error:
            lines.append(f"  {table:<22} missing ({type(error).__name__})")
    try:
        board = warehouse.read_table("model_metrics")
        board = board[board["scope"] == "all"].sort_values("mase")
        lines.append("backtest (all folds):   model           MASE    RMSE     MAE    WAPE  p10-p90  fit s/fold")
        for _, r in board.iterrows():
            lines.append(
                f"                        {r['model']:<14} {r['mase']:6.3f} {r['rmse']:7.3f} {r['mae']:7.3f} "
                f"{r['wape']:7.3f} {r['coverage_p10_p90']:8.3f} {r['fit_seconds_per_fold']:10.1f}"
            )
        champion = serving_champion(warehouse.read_table("model_registry"))
        lines.append(f"champion: {champion['model_name']} {champion['model_version']} (MASE {champion['mase']:.3f} "
                     f"vs seasonal naive {champion['baseline_mase']:.3f})")
    except Exception as error:
        lines.append(f"models: not evaluated yet ({type(error).__name__})")
    instance = dg.DagsterInstance.get()
    forecast = instance.get_latest_materialization_event(dg.AssetKey("sales_forecast"))
    if forecast and forecast.asset_materialization:
        meta = forecast.asset_materialization.metadata
        shown = ("forecast_run_id", "series", "rows", "first_date", "last_date")
        lines.append("forecast: " + ", ".join(f"{k}={meta[k].value}" for k in shown if k in meta))
    lines.append(f"lake: {resources['lake'].root}")
    lines.append(f"models: {resources['model_store'].root}")
    lines.append(f"exports: {resources['exports'].folder} ({', '.join(exported_files(Path(resources['exports'].folder)))})")
    from nexgen_assets.lib.storage.warehouse import masked_url

    lines.append(f"warehouse url: {masked_url(warehouse.engine.url)}")
    return lines


def cmd_run(args) -> int:
    """One pass: check the set-up, ingest new files with a line each, refresh, report."""
    from nexgen_assets import preflight
    from nexgen_assets.progress import Progress, chatter_to, new_log_file

    home = _home(args)
    settings = Settings.from_env()
    level = (args.log_level or settings.log_level).lower()
    if level not in LEVELS:
        print(f"nexgen run: NEXGEN_LOG_LEVEL={level!r}: expected one of {', '.join(LEVELS)}", file=sys.stderr)
        return 2
    problems = preflight.problems(settings)
    for problem in problems:
        print(f"nexgen run: {problem}", file=sys.stderr)
    if problems:
        return 2
    if level == "debug":
        return _run_pass(home, args, Progress(sys.stdout, level), sys.stdout, sys.stderr, None)
    log_file = new_log_file(home)
    with chatter_to(log_file) as (out, err):
        return _run_pass(home, args, Progress(out, level), out, err, log_file)


def _run_pass(home: Path, args, progress, out, err, log_file: Path | None) -> int:
    import dagster as dg

    from nexgen_assets.definitions import defs
    from nexgen_assets.runner import run_pass

    started = time.perf_counter()
    outcome = run_pass(defs, dg.DagsterInstance.get(), home / "incoming", progress)
    elapsed = time.perf_counter() - started
    for name, reason in outcome.refused.items():
        print(f"REFUSED {name}: {reason}", file=err)
    for copy, original in outcome.duplicates.items():
        progress.say(f"{copy}: same content as {original}; not ingested again")
    for name in outcome.waiting:
        progress.say(f"{name}: still being written; left for the next run")
    print(
        f"registered {len(outcome.registered)} new file(s), ingested {len(outcome.ingested)}, "
        f"downstream {'refreshed' if outcome.refreshed else 'unchanged'} in {elapsed:.1f}s",
        file=out,
    )
    if args.summary:
        print("\n".join(summary_lines(home)), file=out)
    for failure in outcome.failures:
        print(f"FAILED {failure}", file=err)
    if outcome.failures and log_file is not None:
        print(f"full log: {log_file} (and the runs in `nexgen dev`)", file=err)
    return 0 if outcome.ok else 1


def cmd_retract(args) -> int:
    """Take a landed file's rows back out of the lake and the warehouse, then refresh what was built from them."""
    home = _home(args)
    import dagster as dg

    from nexgen_assets.definitions import defs
    from nexgen_assets.resources import build_resources
    from nexgen_assets.runner import refresh, retract_file

    instance = dg.DagsterInstance.get()
    try:
        retraction = retract_file(defs, instance, build_resources(home), args.file)
    except ValueError as error:
        print(f"nexgen retract: {error}", file=sys.stderr)
        return 2
    removed = ", ".join(retraction.lake_partitions) or "nothing"
    print(f"retracted {args.file}: lake partitions of {removed}; warehouse rows {retraction.warehouse_rows}")
    failures = refresh(defs, instance)
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    print("downstream refreshed" if not failures else "downstream refresh failed")
    return 1 if failures else 0


def cmd_summary(args) -> int:
    """Print the summary; exit 1 when the warehouse cannot be reached (nothing could be summarised)."""
    home = _home(args)
    from nexgen_assets.lib.storage.warehouse import masked_url
    from nexgen_assets.resources import build_resources

    warehouse = build_resources(home)["warehouse"]
    try:
        with warehouse.engine.connect():
            pass
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"nexgen summary: cannot reach the warehouse {masked_url(warehouse.engine.url)}: {reason}", file=sys.stderr)
        return 1
    print("\n".join(summary_lines(home)))
    return 0


def cmd_dev(args) -> int:
    """`dagster dev` on this code location, with one warm Spark Connect server for all runs; both are kept up.

    The server admits only clients holding its per-start token, which the runs inherit through
    the environment of `dagster dev`; it stops with this process, even if this process is killed.
    """
    from nexgen_assets import dev_services, preflight, spark_connect

    home = _home(args)
    settings = current()
    problems = preflight.problems(settings, need_files=False)
    for problem in problems:
        print(f"nexgen dev: {problem}", file=sys.stderr)
    if problems:
        return 2
    env = dict(os.environ)
    spark = None
    if args.spark_connect and not env.get("NEXGEN_SPARK_MASTER"):
        state, host, port = home / "spark", settings.spark_connect_host, settings.spark_connect_port
        env["NEXGEN_SPARK_MASTER"] = spark_connect.start(state, port=port, host=host)
        client = spark_connect.running_server(state).client_environment
        env.update(client)
        spark = dev_services.SparkServerSpec(state, port, host, client[spark_connect.TOKEN_VARIABLE])
        print(f"Spark Connect server at {env['NEXGEN_SPARK_MASTER']} (bound to {host}; logs in {state / 'logs'})",
              flush=True)
    target = ["-w", "workspace.yaml"] if Path("workspace.yaml").exists() else ["-m", "nexgen_assets.definitions"]
    command = [sys.executable, "-m", "dagster", "dev", *target]
    if args.port:
        command += ["-p", str(args.port)]
    services = dev_services.DevServices(command, env, spark, lambda text: print(f"nexgen dev: {text}", flush=True))
    try:
        return services.run()
    finally:
        if spark is not None:
            spark_connect.stop(spark.state_dir)


def _settings_epilog() -> str:
    """Every NEXGEN_* environment variable and what it sets, from the settings' own docs."""
    from nexgen_assets.settings import variables

    lines = ["environment variables:"]
    for variable, doc in variables().items():
        lines.append(f"  {variable}")
        lines.extend(textwrap.wrap(doc, width=88, initial_indent="      ", subsequent_indent="      "))
    return "\n".join(lines)


def _paragraph(text: str) -> str:
    """A description wrapped for the terminal (the raw formatter keeps the epilog's layout, so wrap here)."""
    return textwrap.fill(text, width=88)


def _command(sub, name: str, summary: str, *description: str) -> argparse.ArgumentParser:
    """A subcommand with its description, `--home`, and the environment variables it reads as epilog."""
    command = sub.add_parser(
        name, help=summary, description=_paragraph("".join(description)), epilog=_settings_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument(
        "--home", help="NEXGEN_HOME: landing zone, lake, warehouse, models (default: $NEXGEN_HOME, else ./data)"
    )
    return command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nexgen",
        description="NEX GEN sales forecasting platform: land sales files, get forecasts and Power BI tables.",
        epilog="Start with `nexgen generate` (demo data) and `nexgen run`; `nexgen <command> --help` lists "
        "each command's options and the environment variables it reads.",
    )
    parser.add_argument("--version", action="version", version=f"nexgen {package_version('nexgen-assets')}")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser(
        "generate",
        help="write synthetic order lines, inventory, promotion calendar, store and product lists and truth files",
        description="Write synthetic retail data from a profile. Options left out take the profile's value; "
        "each default below names it per profile.",
    )
    gen.add_argument(
        "--home", "--out", dest="out", default="data", metavar="FOLDER",
        help="NEXGEN_HOME that receives incoming/ and truth/ (--out is the same option; default: data)",
    )
    gen.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="demo",
        help="demo: a chain of stores over two years; shop: one small store, ~90 mostly slow-moving products, "
        "one year plus the holdout, closed on some holidays (default: demo)",
    )
    gen.add_argument("--stores", type=int, metavar="N", help=f"number of stores (default: {_profile_values('stores')})")
    gen.add_argument("--products", type=int, metavar="N", help=f"number of products (default: {_profile_values('products')})")
    gen.add_argument(
        "--days", type=int, metavar="N", help=f"days generated, holdout included (default: {_profile_values('days')})"
    )
    gen.add_argument(
        "--holdout-days",
        type=int,
        metavar="N",
        help=f"last days kept out of incoming/ and written to truth/ (default: {_profile_values('holdout_days')})",
    )
    gen.add_argument(
        "--seed", type=int, metavar="N", help=f"random seed; same seed, same files (default: {_profile_values('seed')})"
    )
    gen.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        metavar="DATE",
        help=f"first day, ISO date (default: {_profile_values('start')})",
    )
    gen.add_argument(
        "--defect-rate",
        type=float,
        metavar="SHARE",
        help=f"share of order lines corrupted on purpose (default: {_profile_values('defect_rate')})",
    )
    gen.add_argument(
        "--formats",
        type=_comma_separated,
        metavar="LIST",
        help=f"comma-separated sales file formats to rotate through, of {','.join(FILE_FORMATS)} "
        f"(default: {_profile_values('formats')})",
    )
    gen.add_argument(
        "--slow-mover-share",
        type=float,
        metavar="SHARE",
        help=f"share of products that sell rarely (default: {_profile_values('slow_mover_share')})",
    )
    gen.add_argument(
        "--demand-scale",
        type=float,
        metavar="FACTOR",
        help=f"multiplier on every expected demand (default: {_profile_values('demand_scale')})",
    )
    gen.add_argument(
        "--closed-days",
        type=_comma_separated,
        metavar="NAMES",
        help=f"comma-separated holidays on which stores are shut and sell nothing, of {','.join(HOLIDAY_NAMES)}; "
        f"'' for none (default: {_profile_values('closed_days')})",
    )
    gen.set_defaults(func=cmd_generate)

    run = _command(
        sub, "run", "ingest new files and materialize every missing or stale asset",
        "One pass over the platform: check the set-up (files, warehouse, source database, Java, disk), "
        "ingest every new or rewritten file in incoming/ (a line per file), then rebuild the daily tables, "
        "features, models, forecasts and warehouse tables that are stale (a line per step). Exits 0 when "
        "everything was done, 1 when a file or step failed, 2 when the set-up is wrong."
    )
    run.add_argument("--summary", action="store_true", help="print rows per table and the model afterwards")
    run.add_argument(
        "--log-level", choices=LEVELS, type=str.lower,
        help="info: a line per file and step (default, or $NEXGEN_LOG_LEVEL); warning/error: only problems; "
        "debug: also Dagster's events and Spark's and TensorFlow's output, which otherwise go to NEXGEN_HOME/logs",
    )
    run.set_defaults(func=cmd_run)

    retract = _command(
        sub, "retract", "take a landed file's data back out (after moving the file out of incoming/)",
        "Remove a file's rows from the lake and the warehouse, forget its partition, and refresh "
        "the daily tables, models' inputs and forecasts without it. Move the file out of incoming/ first."
    )
    retract.add_argument("file", help="the file name as it was landed, e.g. sales_2024-12.csv")
    retract.set_defaults(func=cmd_retract)

    dev = _command(
        sub, "dev", "run `dagster dev` (UI, sensors, schedules) with a warm Spark Connect server",
        "Start the Dagster UI, daemon, sensors and schedules on this code location, with one Spark "
        "Connect server (loopback only, per-start token) shared by every run. Stops cleanly on Ctrl-C or SIGTERM."
    )
    dev.add_argument("--port", type=int, help="UI port (default: 3000); the UI binds 127.0.0.1")
    dev.add_argument("--no-spark-connect", dest="spark_connect", action="store_false",
                     help="let every run start its own Spark driver instead (default: share one server)")
    dev.set_defaults(func=cmd_dev)

    summary = _command(
        sub, "summary", "print rows per warehouse table and the latest model",
        "Rows per warehouse table, the serving model and where the lake, models and exports are. "
        "Exits 1 when the warehouse cannot be reached."
    )
    summary.set_defaults(func=cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        Settings.from_env()
    except ValueError as error:
        print(f"nexgen {args.command}: {error}", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
