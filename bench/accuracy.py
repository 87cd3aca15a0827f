"""Forecast accuracy on held-out days against the generator's truth: every candidate, the champion and the peers.

    python bench/accuracy.py --profile demo      # generate, run the whole graph, score (default)
    python bench/accuracy.py --profile shop      # one small store: 90 products, a year, low volume, closed days
    python bench/accuracy.py --home DIR          # score an already materialized NEXGEN_HOME
    python bench/accuracy.py --training-groups store   # models per store (NEXGEN_TRAINING_GROUPS) instead of global

Every candidate the backtest ranked (each stored model and each blend, with the weights
and calibration quantiles the backtest gave it) forecasts the held-out days from the same
history, as the champion would if promoted. Rows: MAE and MASE of p50 (the median), RMSE
of `mean` (the expected value), p10-p90 coverage, and RMSE over the oracle's (the
generator's expected demand; 1.00 = as good as knowing the true demand curve). "ets" is
statsforecast's AutoETS per series with a weekly season, with this platform's calibrated
quantiles; "AutoETS (point)" is the same fit scored on its own point forecast, as a team
would use it without this platform: the statistical peer. The last lines give the
champion's ratios to it, its error by horizon bucket and the coverage of its total-level
interval.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nexgen_assets.demo.generator import PROFILES, GeneratorConfig, generate  # noqa: E402
from nexgen_assets.lib.evaluation.champion import champion_components, interval_quantiles, serving_champion  # noqa: E402
from nexgen_assets.lib.evaluation.intervals import series_scale  # noqa: E402
from nexgen_assets.lib.evaluation.metrics import error_sums, summarize  # noqa: E402
from nexgen_assets.lib.forecasts.forecast_frame import forecast_with_intervals  # noqa: E402
from nexgen_assets.lib.forecasts.levels import level_forecasts  # noqa: E402
from nexgen_assets.lib.models.grouped import GLOBAL, parse_training_groups  # noqa: E402
from nexgen_assets.lib.models.inputs import future_of, history_of  # noqa: E402
from nexgen_assets.lib.models.store import load_model  # noqa: E402
from nexgen_assets.lib.storage.warehouse import make_engine, read_table  # noqa: E402

SERIES = ["store_id", "product_id"]
PEER = "ets"


def materialize(home: Path, config: GeneratorConfig) -> float:
    """Generate the data into home and run every asset once; returns seconds."""
    import dagster as dg

    os.environ["NEXGEN_HOME"] = str(home)
    os.environ.pop("NEXGEN_WAREHOUSE_URL", None)
    from nexgen_assets.definitions import build_definitions
    from nexgen_assets.resources import build_resources
    from nexgen_assets.runner import run_pass

    generate(home, config)
    started = time.perf_counter()
    outcome = run_pass(build_definitions(build_resources(home)), dg.DagsterInstance.ephemeral(), home / "incoming")
    if not outcome.ok:
        raise SystemExit("pipeline failed: " + "; ".join(str(f) for f in outcome.failures))
    return time.perf_counter() - started


def _metrics(scored: pd.DataFrame, label: str, oracle_rmse: float) -> dict:
    m = summarize(error_sums(scored.assign(model=label), ["model"]), ["model"]).iloc[0]
    return {"candidate": label, "MAE": m["mae"], "RMSE": m["rmse"], "MASE": m["mase"], "WAPE": m["wape"],
            "p10-p90 coverage": m["coverage_p10_p90"], "RMSE / oracle": m["rmse"] / oracle_rmse, "points": int(m["n"])}


def score(home: Path) -> tuple[pd.DataFrame, dict]:
    features = pd.read_parquet(home / "lake" / "sales_features")
    features["date"] = pd.to_datetime(features["date"]).dt.date
    history, future = history_of(features), future_of(features)
    truth = pd.read_csv(home / "truth" / "holdout_actuals.csv", parse_dates=["date"])
    truth["date"] = truth["date"].dt.date
    quantiles = pd.read_parquet(home / "lake" / "backtest_interval_quantiles")
    weights = pd.read_parquet(home / "lake" / "backtest_candidate_weights")
    board = read_table(make_engine(f"sqlite:///{home / 'warehouse' / 'nexgen.db'}"), "model_metrics")
    overall = board[board["scope"] == "all"].set_index("model")
    scale = series_scale(history)
    oracle = truth.assign(err=(truth["expected_demand"] - truth["quantity"]) ** 2)
    oracle_rmse = oracle["err"].mean() ** 0.5
    loaded = {}
    rows, scored_by = [], {}
    for candidate in overall.index:
        part = weights[weights["model"] == candidate]
        spec: dict = {}
        for r in part.itertuples():
            spec.setdefault(r.segment, {})[r.component] = float(r.weight)
        for component in {c for parts in spec.values() for c in parts}:
            if component not in loaded:
                loaded[component] = load_model(home / "models", component, str(overall.loc[component, "model_version"]))
        models = {c: loaded[c] for c in {c for parts in spec.values() for c in parts}}
        forecast = forecast_with_intervals(models, spec, history, future, quantiles[quantiles["model"] == candidate], candidate)
        scored = forecast.merge(truth, on=[*SERIES, "date"], how="inner").rename(columns={"quantity": "actual"})
        scored = scored.merge(scale, on=SERIES, how="left")
        scored_by[candidate] = scored
        rows.append(_metrics(scored, candidate, oracle_rmse) | {"backtest MASE": overall.loc[candidate, "mase"]})
    if PEER in scored_by:
        raw = scored_by[PEER].assign(p50=scored_by[PEER]["mean"]).drop(columns=["p10", "p90"])
        rows.append(_metrics(raw, "AutoETS (point)", oracle_rmse))
    table = pd.DataFrame(rows).sort_values("MASE").reset_index(drop=True)

    registry = read_table(make_engine(f"sqlite:///{home / 'warehouse' / 'nexgen.db'}"), "model_registry")
    summary: dict = {}
    if not registry.empty:
        champion = serving_champion(registry)
        name = champion["model_name"]
        versions, _ = champion_components(champion)
        scored = scored_by[name]
        by_bucket = summarize(error_sums(scored.assign(model=name), ["model", "horizon_bucket"]), ["horizon_bucket"])
        products = features[["product_id", "category"]].drop_duplicates("product_id")
        levels = level_forecasts(scored[[*SERIES, "date", "horizon", "mean"]].merge(products, on="product_id"),
                                 interval_quantiles(champion), name)
        total = levels[levels["level"] == "total"].merge(truth.groupby("date", as_index=False)["quantity"].sum(), on="date")
        by_name = table.set_index("candidate")
        champ = by_name.loc[name]
        summary = {
            "champion": f"{name} ({', '.join(f'{k} {v}' for k, v in versions.items())})",
            "MAE / AutoETS (point)": champ["MAE"] / by_name.loc["AutoETS (point)", "MAE"],
            "MAE / ets (calibrated)": champ["MAE"] / by_name.loc[PEER, "MAE"],
            "RMSE / oracle": champ["RMSE / oracle"],
            "series coverage": champ["p10-p90 coverage"],
            "total coverage": float(((total["quantity"] >= total["p10"]) & (total["quantity"] <= total["p90"])).mean()),
            "MAE by horizon bucket": by_bucket.set_index("horizon_bucket")["mae"].round(3).to_dict(),
        }
    return table, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="demo", help="generator profile (default demo)")
    parser.add_argument("--home", type=Path, help="an already materialized NEXGEN_HOME to score")
    parser.add_argument(
        "--training-groups", default=os.environ.get("NEXGEN_TRAINING_GROUPS", GLOBAL),
        help="NEXGEN_TRAINING_GROUPS for the run: global (default), store or store_groups:N",
    )
    args = parser.parse_args()
    try:
        parse_training_groups(args.training_groups)
    except ValueError as error:
        parser.error(str(error))
    if args.home and args.training_groups != os.environ.get("NEXGEN_TRAINING_GROUPS", GLOBAL):
        parser.error("--training-groups sets how a run trains; --home scores a run already made")
    os.environ["NEXGEN_TRAINING_GROUPS"] = args.training_groups
    if args.home:
        home, seconds = args.home.resolve(), None
    else:
        home = Path(tempfile.mkdtemp(prefix=f"nexgen-accuracy-{args.profile}-"))
        seconds = materialize(home, GeneratorConfig.for_profile(args.profile))
    table, summary = score(home)
    manifest = json.loads((home / "truth" / "manifest.json").read_text())
    config = manifest["config"]
    print(f"home: {home}")
    if not args.home:
        print(f"training groups: {args.training_groups}")
    print(f"data: {config['stores']} stores x {config['products']} products x {config['days']} days, "
          f"seed {config['seed']}, holdout {config['holdout_days']} days from {manifest['holdout_start']}")
    if seconds is not None:
        print(f"graph materialized in {seconds:.0f}s")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for key, value in summary.items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")


if __name__ == "__main__":
    main()
