"""The Power BI project generated from the warehouse's tables: TMDL that parses by its indentation rules, every
table, column, relationship and DAX reference backed by a real published warehouse (SQLite and PostgreSQL), the
marked date table, and the versioned powerbi/ folder equal to what the DDL gives."""

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.champion import choose_champion, registry_row
from nexgen_assets.lib.evaluation.leaderboard import build_leaderboard
from nexgen_assets.lib.evaluation.metrics import error_sums
from nexgen_assets.lib.forecasts.inventory_plan import STATUSES, plan_inventory
from nexgen_assets.lib.marts.dimensions import product_dimension, product_table, store_dimension, store_table
from nexgen_assets.lib.marts.semantic_model import (
    DDL,
    MODEL_TABLES,
    STOCKOUT_RISK,
    Connection,
    SourceColumn,
    SourceTable,
    connection_for,
    dax_references,
    ddl_tables,
    power_bi_type,
    project_files,
    semantic_model,
    warehouse_tables,
    write_project,
)
from nexgen_assets.lib.storage import warehouse as wh
from nexgen_assets_tests.lib.conftest import D0, publish_known_marts

VERSIONED = Path(__file__).resolve().parents[3] / "powerbi"
DATA_TYPES = {"int64", "double", "decimal", "dateTime", "string", "boolean"}
M_TYPES = {"type date": "dateTime", "type datetime": "dateTime", "Int64.Type": "int64", "type number": "double",
           "Currency.Type": "decimal", "type text": "string", "type logical": "boolean"}


@dataclass
class Node:
    """One TMDL line with what it owns: child objects or properties, and a multi-line expression."""

    depth: int
    text: str
    expression: list[str] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)

    @property
    def keyword(self) -> str:
        return self.text.split()[0]

    @property
    def name(self) -> str:
        found = re.match(r"\S+ ('(?:[^']|'')*'|[^\s=]+)", self.text)
        name = found.group(1) if found else ""
        return name[1:-1].replace("''", "'") if name.startswith("'") else name

    @property
    def default(self) -> str:
        """What follows `=` on the declaration line, else the multi-line expression."""
        inline = self.text.partition(" = ")[2].strip()
        return inline or "\n".join(self.expression)

    def props(self) -> dict[str, str]:
        out = {}
        for child in self.children:
            key, colon, value = child.text.partition(": ")
            if colon:
                out[key] = value
            elif not child.children and " " not in child.text:
                out[child.text] = "true"
        return out

    def objects(self, keyword: str) -> list["Node"]:
        return [c for c in self.children if c.keyword == keyword]


def parse_tmdl(text: str) -> list[Node]:
    """The objects of a TMDL document as a tree, asserting its rules on the way: tab indentation one level per
    nesting, multi-line expressions one level below the properties of their object, no whitespace-only lines."""
    roots: list[Node] = []
    stack: list[Node] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            assert line == "", f"line {i}: whitespace on an empty line"
            continue
        depth = len(line) - len(line.lstrip("\t"))
        assert not line[depth].isspace(), f"line {i}: indented with spaces: {line!r}"
        while stack and stack[-1].depth >= depth:
            stack.pop()
        expected = stack[-1].depth + 1 if stack else 0
        assert depth == expected, f"line {i}: depth {depth}, expected {expected}: {line!r}"
        node = Node(depth, line[depth:].rstrip())
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
        if node.text.endswith(" =") or node.text == "source =":
            declares = node.keyword in ("measure", "expression", "column", "table")
            inner = depth + (2 if declares else 1)
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip("\t")) >= inner):
                node.expression.append(lines[i][inner:])
                i += 1
            while node.expression and not node.expression[-1]:
                node.expression.pop()
            assert node.expression, f"line {i}: {node.text} has no expression"
            assert not node.expression[0].startswith("\t"), f"{node.text}: expression indented too deep"
    return roots


@dataclass
class Model:
    tables: dict[str, Node]
    relationships: list[Node]
    expressions: dict[str, Node]
    model: Node


def read_model(folder: Path, name: str = "NEXGEN") -> Model:
    """The semantic model of a generated PBIP folder, every TMDL file parsed."""
    definition = folder / f"{name}.SemanticModel" / "definition"
    tables = {}
    for path in sorted((definition / "tables").glob("*.tmdl")):
        (table,) = [n for n in parse_tmdl(path.read_text()) if n.keyword == "table"]
        assert path.stem == table.name
        tables[table.name] = table
    relationships = [n for n in parse_tmdl((definition / "relationships.tmdl").read_text()) if n.keyword == "relationship"]
    expressions = {n.name: n for n in parse_tmdl((definition / "expressions.tmdl").read_text()) if n.keyword == "expression"}
    (model,) = [n for n in parse_tmdl((definition / "model.tmdl").read_text()) if n.keyword == "model"]
    (database,) = parse_tmdl((definition / "database.tmdl").read_text())
    assert database.keyword == "database" and int(database.props()["compatibilityLevel"]) >= 1550
    return Model(tables, relationships, expressions, model)


def column_types(model: Model) -> dict[tuple[str, str], str]:
    return {(t, c.name): c.props()["dataType"] for t, table in model.tables.items() for c in table.objects("column")}


def _reference(text: str) -> tuple[str, str]:
    table, column = re.fullmatch(r"('(?:[^']|'')*'|\w+)\.('(?:[^']|'')*'|\w+)", text).groups()
    return tuple(p[1:-1].replace("''", "'") if p.startswith("'") else p for p in (table, column))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """The project the DDL gives, written to a fresh folder."""
    return write_project(tmp_path_factory.mktemp("pbip") / "powerbi", project_files(semantic_model(ddl_tables())))


def test_the_versioned_powerbi_folder_is_what_the_ddl_generates(generated):
    def files(folder):
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    expected, versioned = files(generated), files(VERSIONED)
    assert sorted(versioned) == sorted(expected), "regenerate: python -m nexgen_assets.lib.marts.semantic_model powerbi"
    assert [p for p in expected if versioned[p] != expected[p]] == [], "powerbi/ drifted from the generator"


def test_every_tmdl_table_has_typed_columns_and_one_import_partition(generated):
    model = read_model(generated)
    parsed = parse_tmdl((generated / "NEXGEN.SemanticModel/definition/model.tmdl").read_text())
    refs = [n.text.removeprefix("ref table ") for n in parsed if n.text.startswith("ref table ")]
    assert refs == list(MODEL_TABLES) and sorted(model.tables) == sorted(MODEL_TABLES)
    for name, table in model.tables.items():
        columns = table.objects("column")
        assert columns, name
        (partition,) = table.objects("partition")
        assert partition.text.endswith(" = m") and partition.props()["mode"] == "import", name
        (source,) = [c for c in partition.children if c.text == "source ="]
        assert source.expression[0] == "let" and source.expression[-2:] == ["in", "\tTyped"], name
        names = [c.name for c in columns]
        for column in columns:
            props = column.props()
            assert props["dataType"] in DATA_TYPES and props["sourceColumn"] == column.name, (name, column.name)
            assert props["summarizeBy"] in ("none", "sum"), (name, column.name)
            if "sortByColumn" in props:
                assert props["sortByColumn"] in names, (name, column.name)
            if column.name.endswith("_id") or column.name == "date":
                assert props["summarizeBy"] == "none", (name, column.name)
        assert len(names) == len(set(names)), name


def test_the_date_table_is_marked_and_months_and_weekdays_sort_by_number(generated):
    dates = read_model(generated).tables["dim_date"]
    assert dates.props()["dataCategory"] == "Time"
    keys = [c for c in dates.objects("column") if "isKey" in c.props()]
    assert [c.name for c in keys] == ["date"] and keys[0].props()["dataType"] == "dateTime"
    sorts = {c.name: c.props().get("sortByColumn") for c in dates.objects("column")}
    assert sorts["month_name"] == "month" and sorts["day_name"] == "day_of_week"
    others = [t for t, table in read_model(generated).tables.items() if table.props().get("dataCategory") == "Time"]
    assert others == ["dim_date"]


def test_relationships_run_many_to_one_from_the_facts_to_existing_dimension_keys(generated):
    model = read_model(generated)
    types = column_types(model)
    pairs = set()
    for relationship in model.relationships:
        props = relationship.props()
        source, target = _reference(props["fromColumn"]), _reference(props["toColumn"])
        assert source in types and target in types, relationship.name
        assert types[source] == types[target], relationship.name
        assert props["fromCardinality"] == "many" and props["toCardinality"] == "one"
        assert props["crossFilteringBehavior"] == "oneDirection"
        assert source[0].startswith("fact_") and target[0].startswith("dim_")
        key = [c for c in model.tables[target[0]].objects("column") if c.name == target[1]][0]
        assert "isKey" in key.props()
        pairs.add((source[0], target[0]))
    for fact in ("fact_sales_daily", "fact_forecast", "fact_forecast_accuracy"):
        assert {(fact, "dim_date"), (fact, "dim_product"), (fact, "dim_store")} <= pairs
    assert {(f, d) for f, d in pairs if f == "fact_forecast_levels"} == {("fact_forecast_levels", "dim_date")}
    assert {(f, d) for f, d in pairs if f == "fact_inventory_plan"} == {("fact_inventory_plan", "dim_product"),
                                                                     ("fact_inventory_plan", "dim_store")}
    assert len(pairs) == len(model.relationships)


def test_the_sql_server_script_declares_every_relationship_of_the_model_as_a_foreign_key(generated):
    script = DDL.read_text()
    declared = set(re.findall(
        r"ALTER TABLE dbo\.(\w+) WITH NOCHECK\s+ADD CONSTRAINT (\w+) FOREIGN KEY \(\[?(\w+)\]?\) "
        r"REFERENCES dbo\.(\w+) \(\[?(\w+)\]?\);", script,
    ))
    disabled = set(re.findall(r"ALTER TABLE dbo\.(\w+) NOCHECK CONSTRAINT (\w+);", script))
    modelled = {(r.from_table, r.from_column, r.to_table, r.to_column) for r in semantic_model(ddl_tables()).relationships}

    assert {(table, column, target, key) for table, _, column, target, key in declared} == modelled
    assert {(table, name) for table, name, *_ in declared} == disabled, "declared for tools, never enforced"
    assert len(modelled) == len(read_model(generated).relationships) == 12


def test_every_dax_reference_is_an_existing_column_or_measure(generated):
    model = read_model(generated)
    types = column_types(model)
    measures = {m.name: (t, m) for t, table in model.tables.items() for m in table.objects("measure")}
    assert len(measures) == sum(len(t.objects("measure")) for t in model.tables.values()), "measure names must be unique"
    for name, (_, measure) in measures.items():
        columns, referenced = dax_references(measure.default)
        assert columns <= set(types), (name, columns - set(types))
        assert referenced <= set(measures), (name, referenced - set(measures))
        assert measure.props()["displayFolder"], name
    wanted = {"Sales Qty", "Revenue", "Units Returned", "Forecast P10", "Forecast P50", "Forecast P90", "WAPE", "Bias",
              "Interval Coverage", "Days of Cover", "Stockout Risk Count", "Sales Growth vs Previous Period %",
              "Sales vs Last Year", "Revenue YoY %"}
    assert wanted <= set(measures)
    assert "SAMEPERIODLASTYEAR('dim_date'[date])" in measures["Sales Qty Last Year"][1].default
    assert "DATEADD('dim_date'[date]" in measures["Sales Qty Previous Period"][1].default
    assert measures["WAPE"][1].props()["formatString"] == "0.0%"
    assert f'"{STOCKOUT_RISK}"' in measures["Stockout Risk Count"][1].default and STOCKOUT_RISK in STATUSES


def test_partitions_load_their_own_columns_through_the_shared_parameters(generated):
    model = read_model(generated)
    assert {"Server", "Database", "SourceKind", "WarehouseSchema", "Warehouse", "LatestForecastRun"} == set(model.expressions)
    for name in ("Server", "Database", "SourceKind", "WarehouseSchema"):
        assert "IsParameterQuery=true" in model.expressions[name].text, name
    source = model.expressions["Warehouse"].default
    assert "Sql.Database(Server, Database)" in source and "PostgreSQL.Database(Server, Database)" in source
    assert model.expressions["Server"].text.startswith('expression Server = "localhost" meta [')
    assert model.expressions["Database"].text.startswith('expression Database = "nexgen" meta [')
    for name, table in model.tables.items():
        (partition,) = table.objects("partition")
        m = partition.children[-1].expression
        text = "\n".join(m)
        assert f'Item = "{name}"]}}[Data]' in text, name
        selected = re.search(r"Table\.SelectColumns\(\w+, \{(.*?)\}, MissingField\.UseNull\)", text).group(1)
        columns = {c.name: c.props()["dataType"] for c in table.objects("column")}
        assert re.findall(r'"([^"]+)"', selected) == list(columns), name
        typed = re.findall(r'\{"([^"]+)", ([\w. ]+)\}', re.search(r"TransformColumnTypes\((.*)\)", text).group(1))
        assert {c: M_TYPES[t] for c, t in typed} == columns, name
        filtered = "each [forecast_run_id] = LatestForecastRun" in text
        assert filtered == (name in ("fact_forecast", "fact_forecast_levels")), name


def test_the_pbip_opens_the_report_which_points_at_the_model_by_relative_path(generated):
    pbip = json.loads((generated / "NEXGEN.pbip").read_text())
    (artifact,) = pbip["artifacts"]
    report = generated / artifact["report"]["path"]
    pbir = json.loads((report / "definition.pbir").read_text())
    assert pbir["version"] == "4.0" and set(pbir) == {"$schema", "version", "datasetReference"}
    model_folder = (report / pbir["datasetReference"]["byPath"]["path"]).resolve()
    assert model_folder == (generated / "NEXGEN.SemanticModel").resolve()
    pbism = json.loads((model_folder / "definition.pbism").read_text())
    assert float(pbism["version"]) >= 4.0, "TMDL needs definition.pbism version 4.0 or above"
    version = json.loads((report / "definition/version.json").read_text())
    assert version["version"] == "2.0.0"
    pages = json.loads((report / "definition/pages/pages.json").read_text())
    for page in pages["pageOrder"]:
        spec = json.loads((report / "definition/pages" / page / "page.json").read_text())
        assert spec["name"] == page and {"displayName", "displayOption", "width", "height"} <= set(spec)
    report_spec = json.loads((report / "definition/report.json").read_text())
    assert {"$schema", "themeCollection", "layoutOptimization"} <= set(report_spec)
    for path in generated.rglob("*"):
        if path.is_file():
            assert not path.read_bytes().startswith(b"\xef\xbb\xbf"), f"{path}: UTF-8 without BOM"


def test_sql_types_of_every_dialect_map_to_power_bi_types():
    cases = {
        "NVARCHAR(128)": "string", "NVARCHAR(max)": "string", "VARCHAR(400)": "string", "TEXT": "string",
        "FLOAT(53)": "double", "FLOAT": "double", "DOUBLE PRECISION": "double", "REAL": "double",
        "DECIMAL(19, 4)": "decimal", "NUMERIC(19, 4)": "decimal", "NUMERIC": "double", "NUMERIC(10, 0)": "int64",
        "INT": "int64", "INTEGER": "int64", "BIGINT": "int64", "SMALLINT": "int64",
        "BIT": "boolean", "BOOLEAN": "boolean", "DATE": "dateTime", "DATETIME": "dateTime", "DATETIME2": "dateTime",
        "TIMESTAMP WITHOUT TIME ZONE": "dateTime", "TIMESTAMP": "dateTime",
    }
    assert {sql: power_bi_type(sql)[0] for sql in cases} == cases
    assert power_bi_type("DATE")[1] == "type date" and power_bi_type("DATETIME2")[1] == "type datetime"
    assert power_bi_type("VARBINARY(MAX)") is None and power_bi_type("XML") is None


def test_columns_without_a_power_bi_type_are_left_out_and_named():
    tables = [SourceTable("dim_store", (SourceColumn("store_id", "NVARCHAR(128)"), SourceColumn("logo", "VARBINARY(MAX)")))]
    model = semantic_model(tables)
    assert [c.name for c in model.table("dim_store").columns] == ["store_id"]
    assert model.skipped == ("dim_store.logo (VARBINARY(MAX))",)


def test_measures_follow_the_columns_the_warehouse_has():
    full = {t.name: t for t in ddl_tables()}
    sales = full["fact_sales_daily"]
    without_returns = SourceTable("fact_sales_daily", tuple(c for c in sales.columns if c.name != "units_returned"))
    model = semantic_model([without_returns, full["dim_product"]])
    measures = {m.name: m for m in model.measures}
    assert measures["Units Returned"].expression.startswith("-CALCULATE(SUM('fact_sales_daily'[quantity])")
    assert "Sales Qty Last Year" not in measures and "Revenue YoY %" not in measures, "no date table, no time intelligence"
    assert "Average Price" in measures and "Sales Qty" in measures
    assert [r.to_table for r in model.relationships] == ["dim_product"]
    assert not any(c.is_hidden for c in model.table("fact_sales_daily").columns if c.name in ("store_id", "date"))
    with pytest.raises(ValueError, match="none of the model's tables"):
        semantic_model([SourceTable("ingestion_log", (SourceColumn("source_file", "NVARCHAR(255)"),))])


def test_dax_references_are_parsed_quoted_and_bare():
    columns, measures = dax_references("DIVIDE(SUM('fact x'[a b]) + fact_y[c], [M 1]) - 'it''s'[d] + [Other]")
    assert columns == {("fact x", "a b"), ("fact_y", "c"), ("it's", "d")}
    assert measures == {"M 1", "Other"}


def test_connection_defaults_come_from_the_settings_else_the_warehouse_else_placeholders():
    assert connection_for("sqlite:///x.db") == Connection("localhost", "nexgen", "SQL Server", "dbo")
    assert connection_for("sqlite:///x.db", "sql01,14330", "sales") == Connection("sql01,14330", "sales", "SQL Server", "dbo")
    assert connection_for("mssql+pyodbc://u:p@sql01:14330/wh") == Connection("sql01,14330", "wh", "SQL Server", "dbo")
    assert connection_for("postgresql+psycopg2://u:secret@pg01:6432/wh", schema="marts") == Connection(
        "pg01:6432", "wh", "PostgreSQL", "marts")
    assert connection_for("postgresql://u@pg01/wh") == Connection("pg01", "wh", "PostgreSQL", "public")
    with pytest.raises(ValueError, match="SQL Server or PostgreSQL"):
        Connection(kind="Oracle")


def test_a_regenerated_project_replaces_the_previous_folder_whole(tmp_path):
    model = semantic_model(ddl_tables(), Connection("sql01", "sales"))
    folder = write_project(tmp_path / "powerbi", project_files(model))
    (folder / "NEXGEN.SemanticModel/definition/tables/stale.tmdl").write_text("table stale\n")
    write_project(folder, project_files(model))
    assert not (folder / "NEXGEN.SemanticModel/definition/tables/stale.tmdl").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["powerbi"]
    assert 'expression Server = "sql01" meta' in (folder / "NEXGEN.SemanticModel/definition/expressions.tmdl").read_text()


def _publish_every_model_table(engine, spark) -> None:
    """The model's ten tables as the pipeline publishes them: frames from the platform's own functions, written by
    the warehouse publisher (the known small star of the other mart tests, then the rest)."""
    publish_known_marts(engine)
    lines = pd.DataFrame({
        "order_id": ["O1", "O2", "O3"], "order_ts": pd.to_datetime(["2025-01-03 10:00", "2025-01-05 11:00",
                                                                    "2025-01-06 12:00"]),
        "store_id": ["S1", "S1", "ONLINE"], "product_id": ["P1", "P2", "P1"], "product_name": ["Tea", "Soap", None],
        "category": ["grocery", "household", None], "quantity": [2.0, 1.0, 3.0], "unit_price": [1.5, 0.99, 2.0],
    })
    lines["order_date"] = lines["order_ts"].dt.date
    lines["revenue"] = lines["quantity"] * lines["unit_price"]
    clean = spark.createDataFrame(lines)
    sold_products, sold_stores = (
        wh.to_python_dates(frame.toPandas(), ["first_sale_date", "last_sale_date"])
        for frame in (product_dimension(clean), store_dimension(clean))
    )
    wh.replace_table(engine, "dim_product", product_table(sold_products, None), ("product_id",))
    wh.replace_table(engine, "dim_store", store_table(sold_stores, None), ("store_id",))

    forecast = wh.read_rows(engine, "fact_forecast", {"forecast_run_id": "r1"},
                            ["store_id", "product_id", "date", "p10", "p50", "p90"])
    forecast["date"] = pd.to_datetime(forecast["date"]).dt.date
    stock = pd.DataFrame({"store_id": ["S1", "S1"], "product_id": ["P1", "P2"], "as_of": D0 + dt.timedelta(days=49),
                          "stock_on_hand": [30.0, 0.0], "lead_time_days": [None, 3]})
    wh.replace_table(engine, "fact_inventory_plan", plan_inventory(stock, forecast), ("store_id", "product_id"))

    scored = pd.DataFrame([{"model": m, "model_version": f"{m}-v1", "fold": 1, "store_id": "S1", "product_id": "P1",
                            "horizon": h, "actual": 10.0, "forecast": 10.0 + miss, "scale": 1.0, "p10": 8.0, "p90": 12.0}
                           for m, miss in (("seasonal_naive", 2.0), ("xgboost", 1.0)) for h in (1, 8)])
    sums = error_sums(scored, ["model", "model_version", "fold", "store_id", "product_id", "horizon_bucket"])
    board = build_leaderboard(
        sums, pd.DataFrame({"model": ["seasonal_naive", "xgboost"], "seconds": [0.5, 2.0]}),
        pd.DataFrame({"model": ["seasonal_naive", "xgboost"], "segment": "all", "component": ["seasonal_naive", "xgboost"],
                      "weight": 1.0}),
    )
    wh.replace_table(engine, "model_metrics", board, ("model", "scope"))
    decision = choose_champion(board)
    overall = board[board["scope"] == "all"].set_index("model")
    quantiles = pd.DataFrame({"level": "series", "segment": "fast", "horizon_bucket": ["h01-07"],
                              "q10": [-1.0], "q50": [0.0], "q90": [1.0]})
    row = registry_row(decision, "xgboost-v1", {"xgboost": "xgboost-v1"}, {"xgboost": "0" * 64},
                       {"all": {"xgboost": 1.0}}, ["/models/xgboost/xgboost-v1"], overall.loc[decision.model], quantiles,
                       "run-1")
    wh.replace_rows(engine, "model_registry", row, ["registry_id"], primary_key=("registry_id",))


def test_every_table_and_column_of_the_versioned_model_exists_in_a_published_warehouse(engine, spark):
    _publish_every_model_table(engine, spark)
    live = {t.name: t for t in warehouse_tables(engine)}
    assert set(live) == set(MODEL_TABLES)
    live_types = {(t.name, c.name): power_bi_type(c.sql_type)[0] for t in live.values() for c in t.columns}

    versioned = column_types(read_model(VERSIONED))
    assert set(versioned) <= set(live_types), sorted(set(versioned) - set(live_types))
    assert {k: v for k, v in versioned.items() if live_types[k] != v} == {}, "data types differ from the warehouse's"
    assert set(live_types) <= set(versioned), sorted(set(live_types) - set(versioned))

    from_live = semantic_model(live.values())
    assert not from_live.skipped
    assert {(t.name, c.name, c.data_type) for t in from_live.tables for c in t.columns} == {
        (t, c, v) for (t, c), v in versioned.items()}
    assert {m.name for m in from_live.measures} == {m.name for m in semantic_model(ddl_tables()).measures}
    assert len(from_live.relationships) == len(read_model(VERSIONED).relationships)
