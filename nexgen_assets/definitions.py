"""The NEX GEN code location: every definition found under defs/, with the resources, the executor and the
catalog conventions (table schemas, owners, tags, freshness, source links) applied to every asset in one place."""

import datetime as dt
import warnings
from pathlib import Path

import dagster as dg

from nexgen_assets.lib.quality.schemas import (
    CleanSalesSchema,
    DailySalesSchema,
    DimDateSchema,
    DimProductSchema,
    DimStoreSchema,
    ForecastLevelsSchema,
    ForecastSchema,
    InventorySchema,
    ProductListSchema,
    RawSalesSchema,
    RejectsSchema,
    SalesFeaturesSchema,
    StoreListSchema,
)
from nexgen_assets.lib.quality.table_metadata import TableDescription, describe_table
from nexgen_assets.resources import build_resources, pin_folders
from nexgen_assets.settings import Settings, current

LAKE_TABLES = {
    "raw_sales": ("raw_sales", RawSalesSchema),
    "raw_inventory": ("raw_inventory", InventorySchema),
    "inventory_rejects": ("inventory_rejects", RejectsSchema),
    "raw_promotions": ("promotions", None),
    "promotion_rejects": ("promotion_rejects", None),
    "raw_stores": ("stores", StoreListSchema),
    "store_rejects": ("store_rejects", RejectsSchema),
    "raw_products": ("products", ProductListSchema),
    "product_rejects": ("product_rejects", RejectsSchema),
    "clean_sales": ("clean_sales", CleanSalesSchema),
    "sales_rejects": ("sales_rejects", RejectsSchema),
    "daily_sales": ("daily_sales", DailySalesSchema),
    "sales_features": ("sales_features", SalesFeaturesSchema),
    "backtest_results": ("backtest_results", None),
    "backtest_interval_quantiles": ("backtest_interval_quantiles", None),
    "backtest_candidate_weights": ("backtest_candidate_weights", None),
    "backtest_timings": ("backtest_timings", None),
}
"""Asset -> (folder under the lake root, Pandera model of its rows or None where no model describes them)."""

WAREHOUSE_TABLES = {
    "ingestion_log": None,
    "warehouse_sales_rejects": RejectsSchema,
    "model_leaderboard": None,
    "champion_model": None,
    "forecast_accuracy": None,
    "sales_forecast": ForecastSchema,
    "sales_forecast_levels": ForecastLevelsSchema,
    "inventory_plan": None,
    "dim_product": DimProductSchema,
    "dim_store": DimStoreSchema,
    "dim_date": DimDateSchema,
    "fact_sales_daily": DailySalesSchema,
}
"""Asset -> Pandera model of its warehouse table; the table is the spec's `table` metadata, else the asset name
(the warehouse IO manager's rule)."""

GROUP_CONVENTIONS = {
    "ingestion": ("team:data-platform", "raw"),
    "cleaning": ("team:data-platform", "clean"),
    "features": ("team:data-platform", "feature"),
    "models": ("team:forecasting", "model"),
    "evaluation": ("team:forecasting", "evaluation"),
    "forecasts": ("team:forecasting", "forecast"),
    "marts": ("team:analytics", "mart"),
}
"""Group -> (owner, layer tag); every asset is tagged domain=<group> and layer=<layer>."""

FRESH_BY_CRON = "0 5 * * *"
"""The business promise "forecast by 05:00": each asset in FRESH_ASSETS is materialized within the 24 hours before
every 05:00 (NEXGEN_TIMEZONE), else it shows as failing freshness until it materializes again."""
FRESH_ASSETS = ("fact_sales_daily", "sales_forecast")


def column_schema(description: TableDescription) -> dg.TableSchema:
    """A Pandera-derived table description as the `dagster/column_schema` the catalog shows."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=column.type,
                description=column.description,
                constraints=dg.TableColumnConstraints(
                    nullable=column.nullable, unique=column.unique, other=list(column.constraints)
                ),
            )
            for column in description.columns
        ],
        constraints=dg.TableConstraints(other=list(description.constraints)),
    )


def freshness_policy(settings: Settings) -> dg.FreshnessPolicy:
    """Fresh when materialized in the 24 hours before each 05:00 deadline; failing freshness shows on the asset."""
    return dg.FreshnessPolicy.cron(
        deadline_cron=FRESH_BY_CRON, lower_bound_delta=dt.timedelta(hours=24), timezone=settings.timezone
    )


def _table_metadata(spec: dg.AssetSpec) -> dict:
    name = spec.key.path[-1]
    if name in LAKE_TABLES:
        folder, model = LAKE_TABLES[name]
        table = f"lake.{folder}"
    elif name in WAREHOUSE_TABLES:
        model = WAREHOUSE_TABLES[name]
        table = str(spec.metadata.get("table") or name)
    else:
        return {}
    metadata = {"dagster/table_name": table}
    if model is not None:
        metadata["dagster/column_schema"] = column_schema(describe_table(model))
    return metadata


def with_conventions(spec: dg.AssetSpec, settings: Settings) -> dg.AssetSpec:
    """One asset's spec with its table name and column schema, owner, domain and layer tags, and freshness policy."""
    if spec.group_name not in GROUP_CONVENTIONS:
        raise ValueError(f"asset {spec.key.to_user_string()} is in group {spec.group_name!r}, which has no owner or "
                         f"layer in GROUP_CONVENTIONS ({', '.join(GROUP_CONVENTIONS)})")
    owner, layer = GROUP_CONVENTIONS[spec.group_name]
    spec = spec.merge_attributes(
        metadata=_table_metadata(spec),
        owners=[] if owner in spec.owners else [owner],
        tags={"domain": spec.group_name, "layer": layer},
    )
    if spec.key.path[-1] in FRESH_ASSETS:
        spec = spec.replace_attributes(freshness_policy=freshness_policy(settings))
    return spec


def with_source_links(assets: list, settings: Settings) -> list:
    """Assets whose catalog page links to the code that defines them: the local file, or the git repository when
    NEXGEN_CODE_REPOSITORY_URL is set. These two Dagster functions are beta; their warning is expected here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        linked = dg.with_source_code_references(assets)
        if not settings.code_repository_url:
            return list(linked)
        try:
            return list(
                dg.link_code_references_to_git(
                    linked,
                    git_url=settings.code_repository_url.rstrip("/"),
                    git_branch=settings.code_repository_branch,
                    file_path_mapping=dg.AnchorBasedFilePathMapping(
                        local_file_anchor=Path(__file__), file_anchor_path_in_repository="nexgen_assets/definitions.py"
                    ),
                )
            )
        except ValueError as error:
            raise ValueError(f"NEXGEN_CODE_REPOSITORY_URL={settings.code_repository_url!r}: {error}") from None


def build_definitions(resources: dict | None = None, settings: Settings | None = None) -> dg.Definitions:
    """Definitions from the defs/ folder, with the given resources (tests) or the ones the settings describe.

    A module added under defs/ is picked up without being listed anywhere, and gets the catalog conventions
    above. Runs execute their steps in one process: one Spark session (one JVM) per run instead of one per
    step, which is what keeps a file's refresh fast on a small machine.
    """
    settings = settings or current()
    found = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    assets = dg.map_asset_specs(lambda spec: with_conventions(spec, settings), found.assets or [])
    wiring = dg.Definitions(
        resources=pin_folders(resources if resources is not None else build_resources()),
        executor=dg.in_process_executor,
    )
    return dg.Definitions.merge(_with_assets(found, with_source_links(list(assets), settings)), wiring)


def _with_assets(found: dg.Definitions, assets: list) -> dg.Definitions:
    """`found` with its assets swapped for the given ones (Definitions has no public replace)."""
    return dg.Definitions(
        assets=assets,
        asset_checks=found.asset_checks,
        schedules=found.schedules,
        sensors=found.sensors,
        jobs=found.jobs,
        resources=found.resources,
        executor=found.executor,
        loggers=found.loggers,
        metadata=found.metadata,
        component_tree=found.component_tree,
    )


defs = build_definitions()
all_assets = list(defs.assets or [])
all_asset_checks = list(defs.asset_checks or [])
