"""powerbi_semantic_model on a published SQLite warehouse: the project in exports/powerbi/ holds exactly the tables
and columns the warehouse has, opens on the configured server, and is replaced whole on the next run."""

import dagster as dg
import sqlalchemy as sa

from nexgen_assets.resources import build_resources
from nexgen_assets_tests.defs.conftest import by_key
from nexgen_assets_tests.lib.conftest import publish_known_marts
from nexgen_assets_tests.lib.marts.test_semantic_model import column_types, read_model


def _resources(home, monkeypatch):
    monkeypatch.delenv("NEXGEN_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("NEXGEN_POWERBI_SERVER", "sql01,14330")
    monkeypatch.setenv("NEXGEN_POWERBI_DATABASE", "sales")
    return build_resources(home)


def _materialize(resources, raise_on_error=True):
    return dg.materialize(by_key(["powerbi_semantic_model"]), resources=resources,
                          instance=dg.DagsterInstance.ephemeral(), raise_on_error=raise_on_error)


def test_the_project_in_exports_matches_the_published_warehouse(home, monkeypatch):
    resources = _resources(home, monkeypatch)
    engine = resources["warehouse"].engine
    publish_known_marts(engine)

    result = _materialize(resources)

    (event,) = result.get_asset_materialization_events()
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    folder = home / "exports" / "powerbi"
    assert metadata["project"] == str(folder / "NEXGEN.pbip") and (folder / "NEXGEN.pbip").is_file()
    published = ["dim_date", "dim_product", "fact_sales_daily", "fact_forecast", "fact_forecast_levels",
                 "fact_forecast_accuracy", "fact_inventory_plan"]
    assert metadata["tables"] == ", ".join(published) and metadata["table_count"] == 7
    assert metadata["relationships"] == 8 and metadata["skipped_columns"] == "none"

    model = read_model(folder)
    inspector = sa.inspect(engine)
    live = {(t, c["name"]) for t in inspector.get_table_names() for c in inspector.get_columns(t)}
    assert set(column_types(model)) <= live
    assert sorted(model.tables) == sorted(published)
    assert len(model.relationships) == 8
    measures = {m.name for t in model.tables.values() for m in t.objects("measure")}
    assert metadata["measures"] == len(measures)
    assert "Stockout Risk Count" in measures and "Days of Cover" not in measures, "the plan was published with status only"
    assert model.expressions["Server"].text.startswith('expression Server = "sql01,14330" meta [')
    assert model.expressions["Database"].text.startswith('expression Database = "sales" meta [')

    (folder / "leftover.txt").write_text("from an earlier run")
    _materialize(resources)
    assert not (folder / "leftover.txt").exists()
    assert sorted(p.name for p in (home / "exports").iterdir()) == ["powerbi"]


def test_without_published_tables_the_asset_fails_and_says_why(home, monkeypatch):
    result = _materialize(_resources(home, monkeypatch), raise_on_error=False)

    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "none of the model's tables is in the warehouse yet" in failure.step_failure_data.error.message
    assert not (home / "exports" / "powerbi").exists()
