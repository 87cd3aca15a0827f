import datetime as dt
import subprocess
import sys

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql
from sqlalchemy.schema import CreateTable

from nexgen_assets.lib.storage import warehouse as wh
from nexgen_assets_tests.conftest import POSTGRES_URL


def _frame(n: int, value: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store_id": [f"S{i % 3}" for i in range(n)],
            "product_id": [f"P{i}" for i in range(n)],
            "date": [dt.date(2024, 1, 1) + dt.timedelta(days=i % 5) for i in range(n)],
            "quantity": [value] * n,
            "units": list(range(n)),
            "promo": [i % 2 == 0 for i in range(n)],
        }
    )


def test_replace_then_replace_again(engine):
    assert wh.replace_table(engine, "fact_x", _frame(10, 1.0), primary_key=("product_id",)) == 10
    assert wh.replace_table(engine, "fact_x", _frame(4, 2.0), primary_key=("product_id",)) == 4
    out = wh.read_table(engine, "fact_x")
    assert len(out) == 4 and set(out["quantity"]) == {2.0}
    assert pd.to_datetime(out["date"]).min() == pd.Timestamp("2024-01-01")


def test_failed_publish_leaves_the_old_table(engine):
    wh.replace_table(engine, "fact_y", _frame(6, 1.0))

    def broken_batches():
        yield _frame(3, 9.0)
        raise RuntimeError("source died mid-publish")

    with pytest.raises(RuntimeError, match="mid-publish"):
        wh.replace_table(engine, "fact_y", broken_batches())
    out = wh.read_table(engine, "fact_y")
    assert len(out) == 6 and set(out["quantity"]) == {1.0}
    leftovers = [t for t in sa.inspect(engine).get_table_names() if "staging" in t]
    assert leftovers == []


def test_replace_rows_is_idempotent_per_key(engine):
    run_a = _frame(5, 1.0).assign(forecast_run_id="a")
    run_b = _frame(3, 2.0).assign(forecast_run_id="b")
    wh.replace_rows(engine, "fact_forecast", run_a, ["forecast_run_id"])
    wh.replace_rows(engine, "fact_forecast", run_b, ["forecast_run_id"])
    wh.replace_rows(engine, "fact_forecast", run_a, ["forecast_run_id"])
    out = wh.read_table(engine, "fact_forecast")
    assert out.groupby("forecast_run_id").size().to_dict() == {"a": 5, "b": 3}


def sql_server_2022():
    """The mssql dialect as it is after connecting to SQL Server 2022 (version 16)."""
    dialect = mssql.dialect()
    dialect.server_version_info = (16,)
    return dialect


def test_sql_server_ddl_and_insert_compile():
    table = wh.table_for("fact_sales_daily", _frame(3, 1.0), primary_key=("store_id", "product_id", "date"))
    ddl = str(CreateTable(table).compile(dialect=sql_server_2022()))
    assert "store_id NVARCHAR(128) NOT NULL" in ddl
    assert "date DATE NOT NULL" in ddl
    assert "quantity FLOAT(53)" in ddl and "units BIGINT" in ddl and "promo BIT" in ddl
    assert "PRIMARY KEY (store_id, product_id, date)" in ddl
    insert = str(table.insert().compile(dialect=sql_server_2022()))
    assert insert.startswith("INSERT INTO fact_sales_daily (store_id, product_id, date")
    swap = str(
        table.insert().from_select(["store_id"], sa.select(sa.table("fact_sales_daily__staging", sa.column("store_id"))))
        .compile(dialect=sql_server_2022())
    )
    assert "SELECT fact_sales_daily__staging.store_id" in swap


def test_sql_server_engine_uses_fast_executemany_and_only_it_loads_pyodbc():
    code = (
        "import sys; from nexgen_assets.lib.storage import warehouse as wh; "
        "wh.make_engine('sqlite://'); assert 'pyodbc' not in sys.modules, 'pyodbc loaded for sqlite'; "
        "e = wh.make_engine('mssql+pyodbc://u:p@host/db?driver=ODBC+Driver+18+for+SQL+Server'); "
        "assert e.dialect.fast_executemany is True; assert 'pyodbc' in sys.modules; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_awkward_values_survive_the_bulk_path(engine):
    frame = pd.DataFrame(
        {
            "name": ['comma, inside', 'quote " inside', "new\nline", None],
            "amount": [1.5, None, -2.25, 1e12],
            "flag": [True, False, True, False],
            "day": [dt.date(2024, 2, 29), dt.date(2024, 3, 1), None, dt.date(2025, 1, 1)],
        }
    )
    wh.replace_table(engine, "awkward", frame)
    out = wh.read_table(engine, "awkward")
    assert out["name"].tolist()[:3] == ['comma, inside', 'quote " inside', "new\nline"]
    assert pd.isna(out["name"].iat[3]) and pd.isna(out["amount"].iat[1]) and pd.isna(out["day"].iat[2])
    assert out["amount"].iat[3] == 1e12 and [bool(v) for v in out["flag"]] == [True, False, True, False]


def test_money_is_decimal_and_ids_are_nvarchar_on_sql_server():
    frame = _frame(3, 1.0).assign(revenue=[1.5, 2.25, 3.0], avg_price=[0.5, 0.75, 1.0], week=pd.array([1, 2, 3], "int32"))
    table = wh.table_for("fact_sales_daily", frame, ("store_id", "product_id", "date"), indexes=[("date",)])
    ddl = str(CreateTable(table).compile(dialect=sql_server_2022()))
    assert "revenue NUMERIC(19, 4)" in ddl and "avg_price NUMERIC(19, 4)" in ddl
    assert "quantity FLOAT(53)" in ddl and "week INTEGER" in ddl and "units BIGINT" in ddl
    assert "product_id NVARCHAR(128) NOT NULL" in ddl
    index = str(sa.schema.CreateIndex(next(iter(table.indexes))).compile(dialect=sql_server_2022()))
    assert index == "CREATE INDEX ix_fact_sales_daily_date ON fact_sales_daily (date)"


def test_reload_keeps_primary_key_and_indexes_including_a_dbas_own(engine):
    frame = _frame(20, 1.0).assign(revenue=2.5)
    key = ("store_id", "product_id", "date")
    wh.replace_table(engine, "fact_k", frame, key, indexes=[("date",)])
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE INDEX ix_dba_product ON fact_k (product_id, store_id)"))
    wh.replace_table(engine, "fact_k", _frame(20, 3.0).assign(revenue=1.25), key, indexes=[("date",)])
    inspector = sa.inspect(engine)
    assert inspector.get_pk_constraint("fact_k")["constrained_columns"] == list(key)
    assert {i["name"] for i in inspector.get_indexes("fact_k")} >= {"ix_fact_k_date", "ix_dba_product"}
    out = wh.read_table(engine, "fact_k")
    assert len(out) == 20 and set(out["quantity"]) == {3.0} and out["revenue"].tolist() == [1.25] * 20
    with pytest.raises(sa.exc.IntegrityError):
        wh.replace_table(engine, "fact_k", pd.concat([frame, frame.head(1)]), key, indexes=[("date",)])
    assert set(wh.read_table(engine, "fact_k")["quantity"]) == {3.0}


def test_string_widths_do_not_depend_on_the_first_rows_seen():
    frame = pd.DataFrame({"source_file": ["a.csv"], "store_id": ["S1"], "reason": ["bad"], "record": ["x"]})
    table = wh.table_for("sales_rejects", frame, primary_key=("source_file",))
    ddl = str(CreateTable(table).compile(dialect=sql_server_2022()))
    assert "source_file NVARCHAR(255) NOT NULL" in ddl and "store_id NVARCHAR(128)" in ddl
    assert "reason NVARCHAR(400)" in ddl and "record NVARCHAR(max)" in ddl
    long_note = pd.DataFrame({"note": ["y" * 500]})
    assert wh.sql_type(long_note["note"]).length is None


def test_printed_urls_hide_every_password_including_odbc_connect():
    assert wh.masked_url("postgresql://nexgen:s3cret@db:5432/wh") == "postgresql://nexgen:***@db:5432/wh"
    odbc = "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC+Driver+18%7D%3BSERVER%3Dsql01%3BUID%3Dsa%3BPWD%3Ds3cret%3BEncrypt%3Dyes"
    shown = wh.masked_url(odbc)
    assert "s3cret" not in shown and "sql01" in shown and "Encrypt" in shown
    braced = wh.masked_url("mssql+pyodbc:///?odbc_connect=SERVER=s;Password={a;s3cret};UID=u")
    assert "s3cret" not in braced and "UID" in braced


def test_a_failed_statement_does_not_put_row_values_in_the_error(tmp_path):
    engine = wh.make_engine(f"sqlite:///{tmp_path / 'wh.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    with pytest.raises(sa.exc.IntegrityError) as error, engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (:id)"), {"id": 1})
    assert "hidden due to hide_parameters" in str(error.value)


def test_a_bare_postgresql_url_uses_the_installed_driver():
    engine = wh.make_engine(POSTGRES_URL.replace("postgresql+psycopg2://", "postgresql://"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    assert engine.url.drivername in ("postgresql+psycopg", "postgresql+psycopg2")
