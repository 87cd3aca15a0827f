"""Promotion: the best backtested candidate (a model or a blend) becomes champion only if it beats the seasonal-naive
baseline. Not promoting is a normal outcome of a retrain: the step succeeds and the serving champion keeps serving."""

import json

import dagster as dg
import pandas as pd

from nexgen_assets.defs.policies import TRANSIENT_RETRY, WAREHOUSE_POOL
from nexgen_assets.lib.evaluation.blends import components
from nexgen_assets.lib.evaluation.champion import ChampionDecision, choose_champion, registry_row, serving_champion
from nexgen_assets.lib.models.catalog import BASELINE
from nexgen_assets.lib.models.store import UntrustedArtifactError
from nexgen_assets.resources import LakeResource, ModelStoreResource, WarehouseResource

beats_seasonal_naive = dg.AssetCheckSpec(
    "beats_seasonal_naive",
    asset="champion_model",
    description="The best candidate's backtest MASE is lower than the seasonal-naive baseline's. A loss warns without "
    "blocking: nothing is promoted and the serving champion keeps serving (the baseline, when nothing served yet).",
)


@dg.asset(
    group_name="models",
    kinds={"sql"},
    deps=["backtest_interval_quantiles", "backtest_candidate_weights"],
    check_specs=[beats_seasonal_naive],
    metadata={"table": "model_registry"},
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
)
def champion_model(
    context: dg.AssetExecutionContext,
    model_leaderboard: pd.DataFrame,
    lake: LakeResource,
    model_store: ModelStoreResource,
    warehouse: WarehouseResource,
):
    """Register the best candidate in model_registry if it beats the baseline, or keep the previous champion serving.

    With no champion at all yet, the baseline itself is registered, so the forecast has a model from the first run.
    Each component's stored files are verified against its manifest here, and the manifest's sha256 goes into the
    registry row: serving loads nothing that differs from what was promoted."""
    decision = choose_champion(model_leaderboard)
    overall = model_leaderboard[model_leaderboard["scope"] == "all"].set_index("model")
    metadata = {
        "candidate": decision.model,
        "candidate_mase": decision.mase,
        "baseline_mase": decision.baseline_mase,
        "decision": decision.reason,
    }
    previous = _serving(warehouse)
    if decision.promoted:
        serving = _register(context, decision, overall, lake, model_store, warehouse)
        weights = json.loads(overall.loc[decision.model, "weights"])
        metadata.update({"serving": serving, "promoted": True, "registered": serving, "reason": decision.reason,
                         "weights": dg.MetadataValue.json(weights)})
    elif previous is None:
        baseline = ChampionDecision(BASELINE, decision.baseline_mase, decision.baseline_mase, promoted=False)
        serving = _register(context, baseline, overall, lake, model_store, warehouse)
        metadata.update({"serving": serving, "promoted": False, "registered": serving,
                         "reason": f"{decision.reason}; nothing served yet, so the baseline serves until a candidate "
                                   "beats it"})
    else:
        metadata.update({"serving": previous, "promoted": False, "kept_champion": previous,
                         "reason": f"{decision.reason}; {previous} keeps serving"})
    metadata["dagster/row_count"] = warehouse.row_count("model_registry") if warehouse.has_table("model_registry") else 0
    yield dg.MaterializeResult(metadata=metadata)
    yield dg.AssetCheckResult(
        passed=decision.promoted,
        severity=dg.AssetCheckSeverity.WARN,
        description=metadata["reason"],
        metadata={"candidate_mase": decision.mase, "baseline_mase": decision.baseline_mase, "serving": metadata["serving"]},
    )


def _register(
    context: dg.AssetExecutionContext,
    decision: ChampionDecision,
    overall: pd.DataFrame,
    lake: LakeResource,
    model_store: ModelStoreResource,
    warehouse: WarehouseResource,
) -> str:
    """Write the registry row of `decision.model` (components verified against their manifests); returns
    "<name> <version>"."""
    chosen = overall.loc[decision.model]
    weights = json.loads(chosen["weights"])
    versions = {m: str(overall.loc[m, "model_version"]) for m in components(weights)}
    paths = [str(model_store.path_of(m, v)) for m, v in versions.items()]
    try:
        manifests = {m: model_store.manifest_sha256(m, v) for m, v in versions.items()}
    except (UntrustedArtifactError, FileNotFoundError) as error:
        raise dg.Failure(f"{decision.model} is not registered: {error}", allow_retries=False) from error
    quantiles = lake.read_frame("backtest_interval_quantiles")
    quantiles = quantiles[quantiles["model"] == decision.model]
    row = registry_row(decision, str(chosen["model_version"]), versions, manifests, weights, paths, chosen, quantiles,
                       context.run.run_id)
    warehouse.replace_rows("model_registry", row, ["registry_id"], primary_key=("registry_id",))
    return f"{decision.model} {chosen['model_version']}"


def _serving(warehouse: WarehouseResource) -> str | None:
    """The champion serving now ("<name> <version>"), by the same rule forecasts use; None when nothing was promoted."""
    if not warehouse.has_table("model_registry"):
        return None
    try:
        row = serving_champion(warehouse.read_table("model_registry"))
    except LookupError:
        return None
    return f"{row['model_name']} {row['model_version']}"
