import re
import subprocess
import sys
from pathlib import Path

import dagster as dg

import nexgen_assets.defs
from nexgen_assets.definitions import defs

GROUPS = {
    "raw_sales": "ingestion", "raw_inventory": "ingestion", "inventory_rejects": "ingestion",
    "clean_sales": "cleaning", "sales_rejects": "cleaning", "daily_sales": "cleaning",
    "ingestion_log": "cleaning", "warehouse_sales_rejects": "cleaning",
    "backtest_interval_quantiles": "evaluation", "backtest_timings": "evaluation", "backtest_candidate_weights": "evaluation",
    "sales_forecast_levels": "forecasts", "raw_promotions": "ingestion", "promotion_rejects": "ingestion",
    "raw_stores": "ingestion", "store_rejects": "ingestion", "raw_products": "ingestion", "product_rejects": "ingestion",
    "sales_features": "features", "seasonal_naive_model": "models", "xgboost_model": "models",
    "random_forest_model": "models", "lstm_model": "models", "champion_model": "models",
    "ets_model": "models", "theta_model": "models", "croston_model": "models",
    "backtest_results": "evaluation", "model_leaderboard": "evaluation", "sales_forecast": "forecasts",
    "dim_product": "marts", "dim_store": "marts", "dim_date": "marts", "fact_sales_daily": "marts",
    "dashboard_views": "marts", "inventory_plan": "forecasts", "forecast_accuracy": "evaluation",
    "powerbi_exports": "marts", "sales_dashboard": "marts", "powerbi_semantic_model": "marts",
}


def test_every_asset_is_in_its_domain_group_with_kinds():
    graph = defs.resolve_asset_graph()
    for key, group in GROUPS.items():
        node = graph.get(dg.AssetKey(key))
        assert node.group_name == group, key
        assert node.kinds, key
    assert {k.path[-1] for k in graph.get_all_asset_keys()} == set(GROUPS)


def test_lineage_runs_from_raw_files_to_the_forecast():
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("champion_model") in graph.get(dg.AssetKey("sales_forecast")).parent_keys
    assert dg.AssetKey("model_leaderboard") in graph.get(dg.AssetKey("champion_model")).parent_keys
    backtest_inputs = graph.get(dg.AssetKey("backtest_results")).parent_keys
    for model in ("seasonal_naive_model", "xgboost_model", "random_forest_model", "lstm_model"):
        assert dg.AssetKey(model) in backtest_inputs
    assert dg.AssetKey("raw_sales") in graph.get(dg.AssetKey("clean_sales")).parent_keys


def test_location_loads_without_deprecation_warnings():
    code = (
        "import warnings; warnings.simplefilter('error', DeprecationWarning); "
        "import dagster as dg; from nexgen_assets.definitions import defs; "
        "dg.Definitions.validate_loadable(defs); print(len(defs.resolve_all_asset_keys()))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == str(len(GROUPS))


def test_every_asset_module_under_defs_is_loaded():
    in_modules = {key for a in dg.load_assets_from_package_module(nexgen_assets.defs) for key in a.keys}
    assert in_modules == set(defs.resolve_asset_graph().get_all_asset_keys())


def test_every_table_written_is_an_asset_in_the_graph():
    """Lake and warehouse tables written by name in defs/ are asset keys or an asset's `table` metadata."""
    graph = defs.resolve_asset_graph()
    shown = {k.path[-1] for k in graph.get_all_asset_keys()}
    for key in graph.get_all_asset_keys():
        shown.add(str((graph.get(key).metadata or {}).get("table", "")))
    writes = re.compile(r"\.(?:write|write_frame|replace_rows|replace_table|delete_rows)\(\s*(?:\w+,\s*)?\"(\w+)\"")
    folder = Path(nexgen_assets.defs.__file__).parent
    written = {name for path in folder.rglob("*.py") for name in writes.findall(path.read_text())}
    assert written, "no table writes found: the pattern no longer matches the code"
    assert written <= shown, written - shown


def test_run_config_cannot_point_a_folder_resource_elsewhere(home, resources, tmp_path_factory):
    from nexgen_assets.definitions import build_definitions

    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (home / "incoming" / "promotions_a.csv").write_text("store_id,product_id,start_date,end_date,discount\n")
    job = build_definitions(resources).resolve_job_def("promotions_refresh_job")
    override = {"resources": {
        "lake": {"config": {"root": str(elsewhere)}},
        "landing": {"config": {"incoming_dir": str(elsewhere)}},
    }}

    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=override, raise_on_error=False,
        asset_selection=[dg.AssetKey("raw_promotions"), dg.AssetKey("promotion_rejects")],
    )

    assert result.success
    assert (home / "lake" / "promotions" / "data.parquet").exists()
    assert list(elsewhere.iterdir()) == []
