"""Parquet exports and the Power BI data source file."""

import json

import pandas as pd
import pytest

from nexgen_assets.lib.marts.exports import pbids, sql_server_address, write_parquet_exports, write_pbids


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


def test_exports_are_complete_files_or_the_previous_ones(tmp_path):
    tables = {"dim_store": pd.DataFrame({"store_id": ["S1", "S2"]}), "fact_x": pd.DataFrame({"q": [1.0, 2.0, 3.0]})}
    rows = write_parquet_exports(tmp_path, tables, tables.__getitem__)
    assert rows == {"dim_store": 2, "fact_x": 3}
    assert json.loads((tmp_path / "manifest.json").read_text())["rows"] == rows
    assert pd.read_parquet(tmp_path / "fact_x.parquet")["q"].tolist() == [1.0, 2.0, 3.0]

    def failing(table):
        if table == "fact_x":
            raise RuntimeError("warehouse went away")
        return tables[table].head(1)

    with pytest.raises(RuntimeError, match="went away"):
        write_parquet_exports(tmp_path, tables, failing)
    assert len(pd.read_parquet(tmp_path / "dim_store.parquet")) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dim_store.parquet", "fact_x.parquet", "manifest.json"]
