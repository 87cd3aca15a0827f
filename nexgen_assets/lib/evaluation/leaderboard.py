"""The leaderboard: metrics per model over all folds and per horizon bucket, and a text chart of it."""

from __future__ import annotations

import json

import pandas as pd

from nexgen_assets.lib.evaluation.metrics import summarize


def leaderboard_chart(board: pd.DataFrame, metric: str, width: int = 40) -> str:
    """One bar per model, longest for the worst; lower is better."""
    worst = float(board[metric].max()) or 1.0
    lines = [f"**{metric.upper()} by model (lower is better)**", "", "```"]
    for _, row in board.sort_values(metric).iterrows():
        bar = "█" * max(1, round(width * float(row[metric]) / worst))
        lines.append(f"{row['model']:<15} {bar} {row[metric]:.3f}")
    lines.append("```")
    return "\n".join(lines)


def candidate_weights(weight_table: pd.DataFrame) -> pd.DataFrame:
    """Per candidate: its weights as JSON text ({segment: {model: weight}}) and its component models."""
    rows = []
    for model, part in weight_table.groupby("model", sort=False):
        weights: dict[str, dict[str, float]] = {}
        for row in part.itertuples():
            weights.setdefault(row.segment, {})[row.component] = float(row.weight)
        rows.append({"model": model, "weights": json.dumps(weights, sort_keys=True),
                     "components": ", ".join(sorted(part["component"].unique()))})
    return pd.DataFrame(rows, columns=["model", "weights", "components"])


def build_leaderboard(sums: pd.DataFrame, timings: pd.DataFrame, weight_table: pd.DataFrame) -> pd.DataFrame:
    """One row per candidate and scope ("all", then each horizon bucket), ranked by MASE within the scope.

    A candidate's fit time per fold is that of its component models together.
    """
    overall = summarize(sums, ["model", "model_version"]).assign(scope="all")
    by_bucket = summarize(sums, ["model", "model_version", "horizon_bucket"])
    by_bucket["scope"] = by_bucket.pop("horizon_bucket")
    board = pd.concat([overall, by_bucket], ignore_index=True)
    per_model = timings.groupby("model")["seconds"].mean()
    weights = candidate_weights(weight_table)
    weights["fit_seconds_per_fold"] = [
        round(sum(per_model.get(m.strip(), 0.0) for m in comps.split(",")), 2) for comps in weights["components"]
    ]
    board = board.merge(weights, on="model", how="left")
    board["rank"] = board.groupby("scope")["mase"].rank(method="first").astype(int)
    return board.sort_values(["scope", "rank"]).reset_index(drop=True)
