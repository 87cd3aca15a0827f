"""Promotion: the best backtested candidate (a model or a blend) becomes champion only if it beats the seasonal-naive baseline."""

import json

import dagster as dg
import pandas as pd

from nexgen_assets.lib.evaluation.blends import components
from nexgen_assets.lib.evaluation.champion import choose_champion, registry_row, serving_champion
from nexgen_assets.resources import LakeResource, ModelStoreResource, WarehouseResource

beats_seasonal_naive = dg.AssetCheckSpec(
    "beats_seasonal_naive",
    asset="champion_model",
    blocking=True,
    description="The champion's backtest MASE is lower than the seasonal-naive baseline's.",
)


@dg.asset(
    group_name="models",
    kinds={"sql"},
    deps=["backtest_interval_quantiles", "backtest_candidate_weights"],
    check_specs=[beats_seasonal_naive],
    metadata={"table": "model_registry"},
)
def champion_model(
    context: dg.AssetExecutionContext,
    model_leaderboard: pd.DataFrame,
    lake: LakeResource,
    model_store: ModelStoreResource,
    warehouse: WarehouseResource,
):
    """Register the best candidate in model_registry, or keep the previous champion serving.

    Each component's stored files are verified against its manifest here, and the manifest's
    sha256 goes into the registry row: serving loads nothing that differs from what was promoted."""
    decision = choose_champion(model_leaderboard)
    overall = model_leaderboard[model_leaderboard["scope"] == "all"].set_index("model")
    metadata = {
        "candidate": decision.model,
        "candidate_mase": decision.mase,
        "baseline_mase": decision.baseline_mase,
        "decision": decision.reason,
    }
    if decision.promoted:
        chosen = overall.loc[decision.model]
        weights = json.loads(chosen["weights"])
        versions = {m: str(overall.loc[m, "model_version"]) for m in components(weights)}
        paths = [str(model_store.path_of(m, v)) for m, v in versions.items()]
        manifests = {m: model_store.manifest_sha256(m, v) for m, v in versions.items()}
        quantiles = lake.read_frame("backtest_interval_quantiles")
        quantiles = quantiles[quantiles["model"] == decision.model]
        row = registry_row(decision, str(chosen["model_version"]), versions, manifests, weights, paths, chosen, quantiles,
                           context.run.run_id)
        warehouse.replace_rows("model_registry", row, ["registry_id"], primary_key=("registry_id",))
        metadata.update({"serving": f"{decision.model} {chosen['model_version']}", "promoted": True,
                         "weights": dg.MetadataValue.json(weights)})
    else:
        metadata.update({"serving": _serving(warehouse), "promoted": False})
    yield dg.MaterializeResult(metadata=metadata)
    yield dg.AssetCheckResult(
        passed=decision.promoted,
        severity=dg.AssetCheckSeverity.ERROR,
        description=decision.reason,
        metadata={"candidate_mase": decision.mase, "baseline_mase": decision.baseline_mase},
    )


def _serving(warehouse: WarehouseResource) -> str:
    """The model that keeps serving when nothing is promoted, by the same rule forecasts use."""
    if not warehouse.has_table("model_registry"):
        return "nothing promoted yet"
    try:
        row = serving_champion(warehouse.read_table("model_registry"))
    except LookupError:
        return "nothing promoted yet"
    return f"{row['model_name']} {row['model_version']}"
