"""The model registry: which model version serves forecasts, and why it was promoted."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pandas as pd

from nexgen_assets.lib.models.catalog import BASELINE


@dataclass(frozen=True)
class ChampionDecision:
    """The best learned model by MASE and whether it beats the baseline."""

    model: str
    mase: float
    baseline_mase: float
    promoted: bool

    @property
    def reason(self) -> str:
        verdict = "beats" if self.promoted else "does not beat"
        return f"{self.model} MASE {self.mase:.4f} {verdict} {BASELINE} MASE {self.baseline_mase:.4f}"


def choose_champion(leaderboard: pd.DataFrame) -> ChampionDecision:
    """Pick the learned model with the lowest overall MASE; it is promoted only if it beats the baseline."""
    overall = leaderboard[leaderboard["scope"] == "all"].set_index("model")
    if BASELINE not in overall.index:
        raise ValueError(f"leaderboard has no {BASELINE} row; the baseline must be backtested with the others")
    learned = overall.drop(index=BASELINE)
    if learned.empty:
        raise ValueError("leaderboard has no learned model to promote")
    best = learned["mase"].astype(float).idxmin()
    mase, baseline = float(learned.loc[best, "mase"]), float(overall.loc[BASELINE, "mase"])
    return ChampionDecision(model=best, mase=mase, baseline_mase=baseline, promoted=mase < baseline)


def registry_row(
    decision: ChampionDecision,
    version: str,
    artifact_path: str,
    metrics: pd.Series,
    quantiles: pd.DataFrame,
    run_id: str,
) -> pd.DataFrame:
    """One model_registry row: the promoted version, its metrics and its interval quantiles."""
    return pd.DataFrame(
        [
            {
                "registry_id": run_id,
                "model_name": decision.model,
                "model_version": version,
                "artifact_path": artifact_path,
                "mase": float(metrics["mase"]),
                "rmse": float(metrics["rmse"]),
                "mae": float(metrics["mae"]),
                "wape": float(metrics["wape"]),
                "coverage_p10_p90": float(metrics["coverage_p10_p90"]),
                "baseline_mase": decision.baseline_mase,
                "interval_quantiles": quantiles[["horizon", "q10", "q90"]].to_json(orient="records"),
                "promoted_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
            }
        ]
    )


def serving_champion(registry: pd.DataFrame) -> pd.Series:
    """The most recently promoted row; LookupError when nothing has been promoted yet."""
    if registry.empty:
        raise LookupError("no model has been promoted yet: materialize champion_model first")
    return registry.sort_values(["promoted_at", "registry_id"]).iloc[-1]


def interval_quantiles(row: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(json.loads(row["interval_quantiles"]))
