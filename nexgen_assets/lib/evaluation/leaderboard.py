"""The leaderboard: metrics per model over all folds and per horizon bucket, and a text chart of it."""

from __future__ import annotations

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


def build_leaderboard(sums: pd.DataFrame, timings: pd.DataFrame) -> pd.DataFrame:
    """One row per model and scope ("all", then each horizon bucket), ranked by MASE within the scope."""
    overall = summarize(sums, ["model", "model_version"]).assign(scope="all")
    by_bucket = summarize(sums, ["model", "model_version", "horizon_bucket"])
    by_bucket["scope"] = by_bucket.pop("horizon_bucket")
    board = pd.concat([overall, by_bucket], ignore_index=True)
    fit = timings.groupby("model")["seconds"].mean().rename("fit_seconds_per_fold").reset_index()
    board = board.merge(fit, on="model", how="left")
    board["rank"] = board.groupby("scope")["mase"].rank(method="first").astype(int)
    return board.sort_values(["scope", "rank"]).reset_index(drop=True)
