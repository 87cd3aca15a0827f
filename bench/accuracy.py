"""Forecast accuracy on held-out days against the generator's truth, one row per model.

    python bench/accuracy.py                 # generate the demo data, run the graph, score
    python bench/accuracy.py --home DIR      # score an already materialized NEXGEN_HOME

Each stored model (latest version) forecasts the 28 held-out days from the same
history; intervals come from that model's backtest residuals. RMSE is also divided by
the RMSE of the oracle (the generator's expected demand) on the same days: 1.00 means
as good as knowing the true demand curve.
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

from nexgen_assets.demo.generator import GeneratorConfig, generate  # noqa: E402
from nexgen_assets.lib.evaluation.intervals import series_scale  # noqa: E402
from nexgen_assets.lib.evaluation.metrics import error_sums, summarize  # noqa: E402
from nexgen_assets.lib.forecasts.forecast_frame import forecast_with_intervals  # noqa: E402
from nexgen_assets.lib.models.catalog import MODELS  # noqa: E402
from nexgen_assets.lib.models.inputs import future_of, history_of  # noqa: E402
from nexgen_assets.lib.models.store import list_versions, load_model, model_metadata  # noqa: E402

SERIES = ["store_id", "product_id"]


def materialize(home: Path) -> float:
    """Generate the demo data into home and run every asset once; returns seconds."""
    import dagster as dg

    os.environ["NEXGEN_HOME"] = str(home)
    os.environ.pop("NEXGEN_WAREHOUSE_URL", None)
    from nexgen_assets.definitions import build_definitions
    from nexgen_assets.resources import build_resources
    from nexgen_assets.runner import run_pass

    generate(home, GeneratorConfig())
    started = time.perf_counter()
    outcome = run_pass(build_definitions(build_resources(home)), dg.DagsterInstance.ephemeral(), home / "incoming")
    if not outcome.ok:
        raise SystemExit("pipeline failed: " + "; ".join(str(f) for f in outcome.failures))
    return time.perf_counter() - started


def score(home: Path) -> pd.DataFrame:
    features = pd.read_parquet(home / "lake" / "sales_features")
    features["date"] = pd.to_datetime(features["date"]).dt.date
    history, future = history_of(features), future_of(features)
    truth = pd.read_csv(home / "truth" / "holdout_actuals.csv", parse_dates=["date"])
    truth["date"] = truth["date"].dt.date
    quantiles = pd.read_parquet(home / "lake" / "backtest_interval_quantiles" / "data.parquet")
    timings = pd.read_parquet(home / "lake" / "backtest_timings" / "data.parquet")
    scale = series_scale(history)
    rows = []
    for name in MODELS:
        version = list_versions(home / "models", name)[-1]
        model = load_model(home / "models", name, version)
        forecast = forecast_with_intervals(model, history, future, quantiles[quantiles["model"] == name])
        scored = forecast.merge(truth, on=[*SERIES, "date"], how="inner").rename(columns={"quantity": "actual"})
        scored = scored.merge(scale, on=SERIES, how="left").assign(model=name)
        metrics = summarize(error_sums(scored, ["model"]), ["model"]).iloc[0]
        oracle_rmse = ((scored["expected_demand"] - scored["actual"]) ** 2).mean() ** 0.5
        meta = model_metadata(home / "models", name, version)
        rows.append(
            {
                "model": name,
                "MAE": metrics["mae"],
                "RMSE": metrics["rmse"],
                "MASE": metrics["mase"],
                "WAPE": metrics["wape"],
                "p10-p90 coverage": metrics["coverage_p10_p90"],
                "RMSE / oracle": metrics["rmse"] / oracle_rmse,
                "train s": meta["training_seconds"],
                "backtest s": timings.loc[timings["model"] == name, "seconds"].sum(),
                "points": int(metrics["n"]),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="an already materialized NEXGEN_HOME to score")
    args = parser.parse_args()
    if args.home:
        home, seconds = args.home.resolve(), None
    else:
        home = Path(tempfile.mkdtemp(prefix="nexgen-accuracy-"))
        seconds = materialize(home)
    table = score(home)
    manifest = json.loads((home / "truth" / "manifest.json").read_text())
    config = manifest["config"]
    print(f"data: {config['stores']} stores x {config['products']} products x {config['days']} days, "
          f"seed {config['seed']}, holdout {config['holdout_days']} days from {manifest['holdout_start']}")
    if seconds is not None:
        print(f"graph materialized in {seconds:.0f}s")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    oracle_note = "RMSE / oracle: model RMSE over the RMSE of the generator's expected demand on the same days"
    print(oracle_note)


if __name__ == "__main__":
    main()
