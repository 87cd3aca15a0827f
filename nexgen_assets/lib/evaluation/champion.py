"""The model registry: which candidate serves forecasts, its weights and quantiles, and why it was promoted.

A candidate is one model or a blend of stored model versions (see blends.py); the
registry row names each component version and the sha256 of its manifest (the store's
metadata.json, which holds the sha256 of every artifact file), so serving never depends on
"the latest" file in the model store and loads only the exact files that were promoted.
Both live in the `components` JSON, one entry per component, so the registry needs no new
column and a blend of every model still fits.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pandas as pd

from nexgen_assets.lib.evaluation.blends import Weights, components, single
from nexgen_assets.lib.models.catalog import BASELINE


@dataclass(frozen=True)
class ChampionDecision:
    """The best candidate other than the baseline by MASE, and whether it beats the baseline."""

    model: str
    mase: float
    baseline_mase: float
    promoted: bool

    @property
    def reason(self) -> str:
        verdict = "beats" if self.promoted else "does not beat"
        return f"{self.model} MASE {self.mase:.4f} {verdict} {BASELINE} MASE {self.baseline_mase:.4f}"


def choose_champion(leaderboard: pd.DataFrame) -> ChampionDecision:
    """Pick the candidate with the lowest overall MASE; it is promoted only if it beats the baseline."""
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
    component_versions: dict[str, str],
    manifests: dict[str, str],
    weights: Weights,
    artifact_paths: list[str],
    metrics: pd.Series,
    quantiles: pd.DataFrame,
    run_id: str,
) -> pd.DataFrame:
    """One model_registry row: the promoted candidate, its component versions and manifest hashes, weights, metrics
    and quantiles."""
    used = components(weights)
    unhashed = sorted(m for m in used if not manifests.get(m))
    if unhashed:
        raise ValueError(f"no manifest sha256 for {unhashed}: a component is registered only with the hash it is served by")
    entries = {m: {"version": component_versions[m], "manifest_sha256": manifests[m]} for m in used}
    return pd.DataFrame(
        [
            {
                "registry_id": run_id,
                "model_name": decision.model,
                "model_version": version,
                "artifact_path": "; ".join(artifact_paths),
                "components": json.dumps(entries, sort_keys=True),
                "weights": json.dumps(weights, sort_keys=True),
                "mase": float(metrics["mase"]),
                "rmse": float(metrics["rmse"]),
                "mae": float(metrics["mae"]),
                "wape": float(metrics["wape"]),
                "coverage_p10_p90": float(metrics["coverage_p10_p90"]),
                "baseline_mase": decision.baseline_mase,
                "interval_quantiles": quantiles.drop(columns=["model"], errors="ignore").to_json(orient="records"),
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
    """The champion's calibration quantiles per level, segment and horizon bucket."""
    return pd.DataFrame(json.loads(row["interval_quantiles"])).assign(model=row["model_name"])


def _has_components(row: pd.Series) -> bool:
    return isinstance(row.get("components"), str) and bool(row["components"])


def _component_entries(row: pd.Series) -> dict[str, object]:
    """Per component: {"version", "manifest_sha256"}, or a bare version in rows promoted before manifests were hashed."""
    return json.loads(row["components"]) if _has_components(row) else {row["model_name"]: row["model_version"]}


def champion_components(row: pd.Series) -> tuple[dict[str, str], Weights]:
    """The stored model versions a champion reads and its weights (a registry row of one model: that model alone)."""
    versions = {m: e["version"] if isinstance(e, dict) else e for m, e in _component_entries(row).items()}
    return versions, json.loads(row["weights"]) if _has_components(row) else single(row["model_name"])


def champion_manifests(row: pd.Series) -> dict[str, str]:
    """The manifest sha256 the registry recorded per component; LookupError for a row promoted without them."""
    entries = _component_entries(row)
    missing = sorted(m for m, e in entries.items() if not (isinstance(e, dict) and e.get("manifest_sha256")))
    if missing:
        raise LookupError(
            f"model_registry row {row.get('registry_id')} records no manifest sha256 for {missing}, so its artifacts "
            "cannot be verified; retrain the models and materialize champion_model again"
        )
    return {m: e["manifest_sha256"] for m, e in entries.items()}
