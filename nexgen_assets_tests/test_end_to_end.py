"""The whole graph on a small generated dataset, published to a live PostgreSQL warehouse."""

import json
import re
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from nexgen_assets.definitions import build_definitions
from nexgen_assets.lib.ingestion.contract import landing_kind
from nexgen_assets.resources import build_resources
from nexgen_assets.runner import run_pass
from nexgen_assets_tests.conftest import SMALL, copy_incoming, pg_url


def test_landed_files_become_a_published_forecast(small_dataset, home, spark, pg_schema, monkeypatch):
    monkeypatch.setenv("NEXGEN_SPARK_MASTER", "local[2]")
    monkeypatch.setenv("NEXGEN_WAREHOUSE_URL", pg_url(pg_schema))
    monkeypatch.setenv("NEXGEN_POWERBI_SERVER", "sql01,14330")
    resources = build_resources(home)
    assert resources["warehouse"].dialect == "postgresql"
    defs = build_definitions(resources)
    instance = dg.DagsterInstance.ephemeral()
    landed = copy_incoming(small_dataset, home)

    outcome = run_pass(defs, instance, home / "incoming")

    assert outcome.ok, [str(f) for f in outcome.failures]
    read_whole = [n for n in landed if landing_kind(n) != "data"]
    assert sorted(read_whole) == ["products.csv", "promotions_2024.csv", "stores.csv"]
    assert sorted(outcome.registered) == sorted(set(landed) - set(read_whole)) and outcome.refreshed
    assert len(resources["lake"].read_frame("promotions")) > 0
    warehouse = resources["warehouse"]
    forecast = warehouse.read_table("fact_forecast")
    oracle = pd.read_parquet(small_dataset / "truth" / "oracle.parquet")
    manifest = json.loads((small_dataset / "truth" / "manifest.json").read_text())
    last_landed = pd.Timestamp(manifest["last_landed_date"]).date()
    sold = oracle[(oracle["date"] <= last_landed)].groupby(["store_id", "product_id"])["sales_units"].sum()
    assert forecast.groupby(["store_id", "product_id"]).ngroups == int((sold > 0).sum())
    assert forecast["horizon"].min() == 1 and forecast["horizon"].max() == 28
    assert pd.to_datetime(forecast["date"]).min().date() == pd.Timestamp(manifest["holdout_start"]).date()
    assert ((forecast["p10"] <= forecast["p50"]) & (forecast["p50"] <= forecast["p90"])).all()
    assert (forecast["mean"] >= 0).all() and forecast["mean"].sum() > 0
    assert (forecast["p10"] >= 0).all() and forecast["forecast_run_id"].nunique() == 1
    assert forecast["p50"].sum() > 0

    daily = warehouse.read_table("fact_sales_daily")
    landed_oracle = oracle[oracle["date"] <= last_landed]
    by_day = daily.groupby(pd.to_datetime(daily["date"]).dt.date)["quantity"].sum()
    truth_by_day = landed_oracle.groupby("date")["quantity"].sum()
    injected = sum(sum(d.values()) for d in manifest["defects_per_file"].values())
    assert abs(by_day.sum() - truth_by_day.sum()) <= injected * 10
    assert warehouse.row_count("dim_product") == SMALL.products
    stores = warehouse.read_table("dim_store")
    assert len(stores) == SMALL.stores and stores["store_name"].notna().all() and stores["has_sales"].all()

    rejects = resources["lake"].read(spark, "sales_rejects")
    assert rejects.count() == injected
    assert {r["reason"] for r in rejects.select("reason").distinct().collect()} <= {
        "duplicate_line", "missing_order_id", "missing_product_id", "negative_price", "unparseable_date"
    }

    registry = warehouse.read_table("model_registry")
    metrics = warehouse.read_table("model_metrics")
    candidates = set(metrics.loc[metrics["scope"] == "all", "model"])
    assert candidates == {"seasonal_naive", "xgboost", "random_forest", "lstm", "ets", "theta", "croston",
                          "blend", "segment_choice", "segment_blend"}
    assert len(registry) == 1 and registry["model_name"].iat[0] in candidates - {"seasonal_naive"}
    assert registry["mase"].iat[0] < registry["baseline_mase"].iat[0]
    assert set(json.loads(registry["components"].iat[0])) <= candidates
    assert set(forecast["model_name"]) == set(registry["model_name"])
    assert set(forecast["model_version"]) == set(registry["model_version"])

    levels = warehouse.read_table("fact_forecast_levels")
    assert set(levels["level"]) == {"total", "store", "category", "store_category"}
    total = levels[levels["level"] == "total"]
    assert len(total) == 28 and total["mean"].sum() == pytest.approx(forecast["mean"].sum(), rel=1e-6)
    assert ((total["p10"] <= total["p50"]) & (total["p50"] <= total["p90"])).all()
    summed_width = forecast.groupby("date")["p90"].sum() - forecast.groupby("date")["p10"].sum()
    assert (total.set_index(pd.to_datetime(total["date"]).dt.date)["p90"] - total.set_index(
        pd.to_datetime(total["date"]).dt.date)["p10"]).mean() < summed_width.mean()

    plan = warehouse.read_table("fact_inventory_plan")
    assert len(plan) == forecast.groupby(["store_id", "product_id"]).ngroups
    assert set(plan["status"]) <= {"ok", "reorder", "stockout risk", "overstock"}
    assert (plan["reorder_point"] >= plan["safety_stock"]).all() and (plan["suggested_order"] >= 0).all()

    assert ddl_columns() == published_columns(warehouse.engine)
    assert set(warehouse.read_table("fact_forecast_accuracy").columns) >= {"actual", "abs_error", "in_interval"}
    exports = home / "exports"
    assert {p.name for p in exports.glob("*.parquet")} >= {"fact_sales_daily.parquet", "fact_forecast.parquet"}
    assert len(pd.read_parquet(exports / "fact_sales_daily.parquet")) == len(daily)
    assert 'data-chart="forecast_vs_actual"' in (exports / "dashboard.html").read_text()
    address = json.loads((exports / "nexgen.pbids").read_text())["connections"][0]["details"]["address"]
    assert address == {"server": "sql01,14330", "database": "nexgen"}

    second = run_pass(defs, instance, home / "incoming")
    assert second.ok and not second.registered and not second.ingested and not second.refreshed

    (home / "incoming" / "sales_broken.csv").write_text("order_id;order_ts;product_id\nA;2024-01-01;P\n")
    extra = home / "incoming" / "sales_extra.csv"
    extra.write_text(
        "order_id,order_ts,store_id,product_id,quantity,unit_price\n"
        f"X1,{last_landed}T12:00:00,S001,P00001,400,1.0\n"
    )
    third = run_pass(defs, instance, home / "incoming")
    assert [f.partition for f in third.failures] == ["sales_broken.csv"]
    assert "sales_broken.csv" in third.failures[0].message and "unit_price" in third.failures[0].message
    assert third.failures[0].step == "raw_sales"
    assert third.ingested == ["sales_extra.csv"] and third.refreshed
    assert warehouse.read_table("fact_forecast")["forecast_run_id"].nunique() == 2


def ddl_columns() -> dict[str, set[str]]:
    """Columns per table in the SQL Server DDL script."""
    script = (Path(__file__).resolve().parents[1] / "sql" / "mssql" / "001_star_schema.sql").read_text()
    tables = {}
    for name, body in re.findall(r"CREATE TABLE dbo\.(\w+) \((.*?)\n\);", script, flags=re.DOTALL):
        lines = [line.strip() for line in body.strip().splitlines()]
        tables[name] = {line.split()[0].strip("[]") for line in lines if line and not line.startswith("CONSTRAINT")}
    return tables


def published_columns(engine) -> dict[str, set[str]]:
    """Columns per table the pipeline published (views and the ingestion tables of other tests aside)."""
    inspector = sa.inspect(engine)
    return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}
