"""Parquet exports and the Power BI data source file."""

import datetime as dt
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from nexgen_assets.lib.marts.exports import pbids, sql_server_address, write_parquet_exports, write_pbids
from nexgen_assets.lib.storage import warehouse as wh
from nexgen_assets_tests.conftest import pg_url


def test_sql_server_address_from_warehouse_urls():
    assert sql_server_address("mssql+pyodbc://u:p@sql01/nexgen?driver=ODBC+Driver+18+for+SQL+Server") == ("sql01", "nexgen")
    assert sql_server_address("mssql+pyodbc://u:p@sql01:14330/sales") == ("sql01,14330", "sales")
    assert sql_server_address("postgresql+psycopg2://u@host/db") is None
    assert sql_server_address("sqlite:///x.db") is None


def test_pbids_opens_the_database_in_power_bi(tmp_path):
    path = write_pbids(tmp_path / "exports" / "nexgen.pbids", "sql01,14330", "nexgen", "DirectQuery")
    spec = json.loads(path.read_text())
    connection = spec["connections"][0]
    assert spec["version"] == "0.1" and connection["mode"] == "DirectQuery"
    assert connection["details"] == {"protocol": "tds", "address": {"server": "sql01,14330", "database": "nexgen"}}
    assert [p.name for p in path.parent.iterdir()] == ["nexgen.pbids"]
    with pytest.raises(ValueError, match="Import or DirectQuery"):
        pbids("sql01", "nexgen", "Live")


def _frames(tables: dict[str, pd.DataFrame]):
    def open_table(name):
        table = pa.Table.from_pandas(tables[name], preserve_index=False)
        return table.schema, table.to_batches(max_chunksize=2)

    return open_table


def test_exports_are_complete_files_or_the_previous_ones(tmp_path):
    tables = {"dim_store": pd.DataFrame({"store_id": ["S1", "S2"]}), "fact_x": pd.DataFrame({"q": [1.0, 2.0, 3.0]})}
    rows = write_parquet_exports(tmp_path, tables, _frames(tables))
    assert rows == {"dim_store": 2, "fact_x": 3}
    assert json.loads((tmp_path / "manifest.json").read_text())["rows"] == rows
    assert pd.read_parquet(tmp_path / "fact_x.parquet")["q"].tolist() == [1.0, 2.0, 3.0]

    def failing(table):
        if table == "fact_x":
            raise RuntimeError("warehouse went away")
        return _frames(tables)(table)

    with pytest.raises(RuntimeError, match="went away"):
        write_parquet_exports(tmp_path, tables, failing)
    assert len(pd.read_parquet(tmp_path / "dim_store.parquet")) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dim_store.parquet", "fact_x.parquet", "manifest.json"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_empty_table_exports_with_the_types_it_has_when_full_streamed_in_batches(tmp_path, backend, request):
    schema = request.getfixturevalue("pg_schema") if backend == "postgresql" else None
    engine = wh.make_engine(pg_url(schema) if schema else f"sqlite:///{tmp_path / 'w.db'}")
    full = pd.DataFrame({
        "date": pd.Series([dt.date(2025, 1, d) for d in range(1, 6)]).astype("date32[pyarrow]"),
        "forecast_run_id": ["r1"] * 5,
        "horizon": [1, 2, 3, 4, 5],
        "p50": [1.5, 2.0, None, 4.0, 5.25],
        "inside_interval": [True, False, True, True, False],
        "created_at": [dt.datetime(2025, 1, 6, 5, 0, 1)] * 5,
    })
    wh.replace_table(engine, "fact_forecast_accuracy", full.head(0), schema=schema)
    empty_rows = write_parquet_exports(tmp_path / "empty", ["fact_forecast_accuracy"],
                                       lambda t: wh.table_batches(engine, t, schema))
    wh.replace_table(engine, "fact_forecast_accuracy", full, schema=schema)
    batches = []

    def counted(table):
        arrow_schema, stream = wh.table_batches(engine, table, schema, rows=2)
        return arrow_schema, (batches.append(b.num_rows) or b for b in stream)

    full_rows = write_parquet_exports(tmp_path / "full", ["fact_forecast_accuracy"], counted)

    empty_schema = pq.read_schema(tmp_path / "empty" / "fact_forecast_accuracy.parquet")
    full_table = pq.read_table(tmp_path / "full" / "fact_forecast_accuracy.parquet")
    assert (empty_rows, full_rows) == ({"fact_forecast_accuracy": 0}, {"fact_forecast_accuracy": 5})
    assert empty_schema.remove_metadata() == full_table.schema.remove_metadata()
    assert [str(t) for t in empty_schema.types] == ["date32[day]", "string", "int64", "double", "bool", "timestamp[us]"]
    assert batches == [2, 2, 1], "streamed from the server two rows at a time"
    assert full_table.column("p50").to_pylist() == [1.5, 2.0, None, 4.0, 5.25]


def test_a_value_that_does_not_fit_its_column_type_is_not_exported_as_another_number(tmp_path):
    engine = wh.make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE fact_x (units INTEGER)"))
        conn.execute(sa.text("INSERT INTO fact_x VALUES (3), (2.5)"))
    with pytest.raises(ValueError, match="fact_x: a value does not fit its column's type.*truncated"):
        write_parquet_exports(tmp_path / "out", ["fact_x"], lambda t: wh.table_batches(engine, t))
    assert not (tmp_path / "out" / "fact_x.parquet").exists()
