"""A text chart of the leaderboard that renders anywhere Markdown does (the Dagster UI included)."""

from __future__ import annotations

import pandas as pd


def leaderboard_chart(board: pd.DataFrame, metric: str, width: int = 40) -> str:
    """One bar per model, longest for the worst; lower is better."""
    worst = float(board[metric].max()) or 1.0
    lines = [f"**{metric.upper()} by model (lower is better)**", "", "```"]
    for _, row in board.sort_values(metric).iterrows():
        bar = "█" * max(1, round(width * float(row[metric]) / worst))
        lines.append(f"{row['model']:<15} {bar} {row[metric]:.3f}")
    lines.append("```")
    return "\n".join(lines)
