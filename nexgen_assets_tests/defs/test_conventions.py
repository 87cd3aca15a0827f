"""Catalog conventions on every asset: table names and Pandera-derived column schemas, row counts, owners, tags,
freshness of the 05:00 promise, and links to the code."""

import dagster as dg
import pytest

from nexgen_assets.definitions import (
    FRESH_ASSETS,
    GROUP_CONVENTIONS,
    LAKE_TABLES,
    WAREHOUSE_TABLES,
    build_definitions,
    defs,
    with_conventions,
)
from nexgen_assets.defs.policies import WAREHOUSE_POOL
from nexgen_assets.settings import Settings
from nexgen_assets_tests.defs.conftest import by_key

NOT_TABLES = {"dashboard_views", "powerbi_exports"}
"""Assets with a parquet or sql kind that are no table: SQL views, and Parquet copies of the marts for Power BI."""


def _nodes():
    graph = defs.resolve_asset_graph()
    return {key.path[-1]: graph.get(key) for key in graph.get_all_asset_keys()}


def test_every_table_asset_is_listed_with_a_table_name():
    nodes = _nodes()
    storing = {name for name, node in nodes.items() if set(node.kinds) & {"parquet", "sql"}} - NOT_TABLES
    assert storing == set(LAKE_TABLES) | set(WAREHOUSE_TABLES)
    for name, (folder, _) in LAKE_TABLES.items():
        assert nodes[name].metadata["dagster/table_name"] == f"lake.{folder}", name
    assert nodes["sales_forecast"].metadata["dagster/table_name"] == "fact_forecast"
    assert nodes["warehouse_sales_rejects"].metadata["dagster/table_name"] == "sales_rejects"
    assert nodes["dim_date"].metadata["dagster/table_name"] == "dim_date"
    assert nodes["raw_promotions"].metadata["dagster/table_name"] == "lake.promotions"
    assert all("dagster/table_name" not in nodes[name].metadata for name in nodes.keys() - storing)


def test_every_table_with_a_pandera_model_shows_exactly_its_columns():
    nodes = _nodes()
    models = {**{name: model for name, (_, model) in LAKE_TABLES.items()}, **WAREHOUSE_TABLES}
    described = {name for name, model in models.items() if model is not None}
    assert {"clean_sales", "daily_sales", "sales_features", "fact_sales_daily", "sales_forecast", "dim_date"} <= described
    for name in described:
        schema = nodes[name].metadata["dagster/column_schema"]
        assert isinstance(schema, dg.TableSchema), name
        assert [c.name for c in schema.columns] == list(models[name].to_schema().columns), name
    for name in models.keys() - described:
        assert "dagster/column_schema" not in nodes[name].metadata, name


def test_column_schemas_carry_types_and_constraints():
    columns = {c.name: c for c in _nodes()["daily_sales"].metadata["dagster/column_schema"].columns}
    assert columns["date"].type == "date" and not columns["date"].constraints.nullable
    assert columns["stock_on_hand"].constraints.nullable and columns["stock_on_hand"].constraints.other == [">= 0"]
    forecast = _nodes()["sales_forecast"].metadata["dagster/column_schema"]
    assert "unique (forecast_run_id, store_id, product_id, date)" in forecast.constraints.other


def test_every_asset_has_its_group_owner_and_domain_and_layer_tags():
    for name, node in _nodes().items():
        owner, layer = GROUP_CONVENTIONS[node.group_name]
        assert owner in node.owners, name
        assert node.tags["domain"] == node.group_name and node.tags["layer"] == layer, name
    assert _nodes()["sales_forecast"].owners == ["team:forecasting"]
    assert _nodes()["fact_sales_daily"].tags["layer"] == "mart"


def test_an_asset_in_a_group_without_conventions_is_refused():
    with pytest.raises(ValueError, match="group 'misc', which has no owner"):
        with_conventions(dg.AssetSpec("stray", group_name="misc"), Settings())


def test_the_daily_sales_and_forecast_are_due_by_five_in_the_configured_time_zone():
    nodes = _nodes()
    assert set(FRESH_ASSETS) == {"fact_sales_daily", "sales_forecast"}
    for name in FRESH_ASSETS:
        policy = nodes[name].freshness_policy
        assert type(policy).__name__ == "CronFreshnessPolicy", name
        assert policy.deadline_cron == "0 5 * * *" and policy.lower_bound_delta.total_seconds() == 24 * 3600
    assert {n for n, node in nodes.items() if node.freshness_policy is not None} == set(FRESH_ASSETS)
    berlin = build_definitions(settings=Settings(timezone="Europe/Berlin")).resolve_asset_graph()
    assert berlin.get(dg.AssetKey("sales_forecast")).freshness_policy.timezone == "Europe/Berlin"


def _code_references(definitions: dg.Definitions) -> dict:
    graph = definitions.resolve_asset_graph()
    return {key.path[-1]: graph.get(key).metadata["dagster/code_references"].code_references
            for key in graph.get_all_asset_keys()}


def test_every_asset_links_to_the_file_that_defines_it():
    references = _code_references(defs)
    assert set(references) == set(_nodes())
    for name, (reference,) in references.items():
        assert "/nexgen_assets/defs/" in reference.file_path and reference.line_number, name
    assert references["champion_model"][0].file_path.endswith("nexgen_assets/defs/models/champion.py")


def test_with_a_repository_url_the_links_point_at_its_branch():
    settings = Settings(code_repository_url="https://github.com/acme/nexgen/", code_repository_branch="release")
    references = _code_references(build_definitions(settings=settings))
    (forecast,) = references["sales_forecast"]
    assert forecast.url.startswith("https://github.com/acme/nexgen/tree/release/nexgen_assets/defs/forecasts/assets.py#L")
    assert all(ref.url.startswith("https://github.com/acme/nexgen/tree/release/") for refs in references.values()
               for ref in refs)
    with pytest.raises(ValueError, match="NEXGEN_CODE_REPOSITORY_URL='https://git.example.com/nexgen'"):
        build_definitions(settings=Settings(code_repository_url="https://git.example.com/nexgen"))


def test_a_materialized_table_reports_its_row_count(home, resources):
    header = "store_id,product_id,start_date,end_date,discount\n"
    rows = "S1,P1,2025-02-01,2025-02-03,0.2\nS1,P2,2025-02-05,2025-02-01,0.1\nS2,P1,2025-03-01,2025-03-02,0.3\n"
    (home / "incoming" / "promotions_a.csv").write_text(header + rows)

    result = dg.materialize(by_key(["raw_promotions"]), resources=resources, instance=dg.DagsterInstance.ephemeral())

    promotions = result.asset_materializations_for_node("raw_promotions")
    metadata = {m.asset_key.path[-1]: m.metadata for m in promotions}
    assert metadata["raw_promotions"]["dagster/row_count"].value == metadata["raw_promotions"]["promotions"].value == 2
    assert metadata["promotion_rejects"]["dagster/row_count"].value == metadata["promotion_rejects"]["rows"].value == 1


def test_a_file_partition_reports_its_rows_and_the_tables_below_their_row_counts(home, resources, spark):
    name = "sales_small.csv"
    lines = "".join(f"A{i},2025-01-0{1 + i % 3}T10:00:00,S1,P{i % 2},{1 + i},2.50,0,web\n" for i in range(6))
    (home / "incoming" / name).write_text("order_id,order_ts,store_id,product_id,quantity,unit_price,promo,channel\n"
                                          + lines + "A9,2025-01-02T10:00:00,S1,P1,0,2.50,0,web\n")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sales_files", [name])

    per_file = dg.materialize(by_key(["raw_sales", "clean_sales", "ingestion_log"]), resources=resources,
                              instance=instance, partition_key=name)
    tables = dg.materialize(by_key(["daily_sales", "fact_sales_daily"]), resources=resources, instance=instance,
                            selection=["daily_sales", "fact_sales_daily"])

    found = {e.asset_key.path[-1]: e.materialization.metadata
             for result in (per_file, tables) for e in result.get_asset_materialization_events()}
    partition_rows = {k: found[k]["dagster/partition_row_count"].value
                      for k in ("raw_sales", "clean_sales", "sales_rejects", "ingestion_log", "warehouse_sales_rejects")}
    assert partition_rows == {"raw_sales": 7, "clean_sales": 6, "sales_rejects": 1, "ingestion_log": 1,
                              "warehouse_sales_rejects": 1}
    assert found["daily_sales"]["dagster/row_count"].value == found["daily_sales"]["rows"].value
    assert found["fact_sales_daily"]["dagster/row_count"].value == found["fact_sales_daily"]["rows_written"].value > 0


def test_every_asset_that_writes_the_warehouse_holds_the_warehouse_pool():
    nodes = _nodes()
    writers = set(WAREHOUSE_TABLES) | {"dashboard_views"}
    assert {name for name in writers if nodes[name].pools != {WAREHOUSE_POOL}} == set()
