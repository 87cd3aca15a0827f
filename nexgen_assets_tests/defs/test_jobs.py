"""The asset jobs: what each one selects."""


def test_the_quick_refresh_job_never_retrains():
    from nexgen_assets.definitions import defs

    job = defs.resolve_job_def("sales_file_refresh_job")
    selected = {key.path[-1] for key in job.asset_layer.selected_asset_keys}
    assert {"raw_sales", "clean_sales", "daily_sales", "fact_sales_daily", "sales_forecast", "inventory_plan",
            "dim_product", "dim_store", "sales_dashboard"} <= selected
    assert not selected & {"xgboost_model", "lstm_model", "random_forest_model", "seasonal_naive_model",
                           "champion_model", "backtest_results", "model_leaderboard", "raw_inventory"}


def test_the_lists_refresh_job_reads_the_lists_and_refreshes_the_dimensions_only():
    from nexgen_assets.definitions import defs

    job = defs.resolve_job_def("reference_lists_refresh_job")
    selected = {key.path[-1] for key in job.asset_layer.selected_asset_keys}
    assert {"raw_stores", "store_rejects", "raw_products", "product_rejects", "dim_store", "dim_product",
            "powerbi_exports"} <= selected
    assert not selected & {"raw_sales", "clean_sales", "sales_features", "sales_forecast", "xgboost_model"}
