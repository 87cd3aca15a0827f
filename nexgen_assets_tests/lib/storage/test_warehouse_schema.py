"""Schema changes are additive: the DBA's table survives a publish, new columns are added, type conflicts are refused."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql
from sqlalchemy.schema import CreateTable

from nexgen_assets.lib.storage import warehouse as wh


def _frame(n: int, quantity: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": [f"P{i}" for i in range(n)],
            "date": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n)],
            "quantity": quantity,
            "units": list(range(n)),
        }
    )


def _query(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def test_a_dbas_column_index_view_and_grant_survive_and_new_columns_are_added(engine):
    wh.replace_table(engine, "dim_s", _frame(3, 1.0), primary_key=("product_id",))
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE dim_s ADD COLUMN dba_note VARCHAR(50)"))
        conn.execute(sa.text("UPDATE dim_s SET dba_note = 'checked'"))
        conn.execute(sa.text("CREATE INDEX ix_dba_units ON dim_s (units)"))
        conn.execute(sa.text("CREATE VIEW vw_dim_s AS SELECT product_id, quantity FROM dim_s"))
        if postgres:
            conn.execute(sa.text("GRANT SELECT ON dim_s TO PUBLIC"))

    assert wh.replace_table(engine, "dim_s", _frame(4, 2.0).assign(extra_col="x"), primary_key=("product_id",)) == 4

    inspector = sa.inspect(engine)
    assert [c["name"] for c in inspector.get_columns("dim_s")] == [
        "product_id", "date", "quantity", "units", "dba_note", "extra_col"
    ]
    assert "ix_dba_units" in {i["name"] for i in inspector.get_indexes("dim_s")}
    assert inspector.get_pk_constraint("dim_s")["constrained_columns"] == ["product_id"]
    out = wh.read_table(engine, "dim_s")
    assert len(out) == 4 and out["extra_col"].tolist() == ["x"] * 4 and out["dba_note"].isna().all()
    assert _query(engine, "SELECT count(*), max(quantity) FROM vw_dim_s") == [(4, 2.0)]
    if postgres:
        grants = (
            "SELECT privilege_type FROM information_schema.table_privileges"
            " WHERE table_name = 'dim_s' AND grantee = 'PUBLIC'"
        )
        assert _query(engine, grants) == [("SELECT",)]


def test_an_archive_append_adds_new_columns_too(engine):
    run_a = _frame(3, 1.0).assign(forecast_run_id="a")
    wh.replace_rows(engine, "fact_archive", run_a, ["forecast_run_id"])
    run_b = _frame(2, 2.0).assign(forecast_run_id="b", model_version="v2")
    assert wh.replace_rows(engine, "fact_archive", run_b, ["forecast_run_id"]) == 2
    out = wh.read_table(engine, "fact_archive").set_index("product_id")
    assert out.groupby("forecast_run_id").size().to_dict() == {"a": 3, "b": 2}
    assert out.loc[out["forecast_run_id"] == "a", "model_version"].isna().all()
    assert set(out.loc[out["forecast_run_id"] == "b", "model_version"]) == {"v2"}


def test_a_type_conflict_is_refused_by_name_and_compatible_changes_still_load(engine):
    wh.replace_table(engine, "fact_t", _frame(3, 1.0))
    with pytest.raises(wh.IncompatibleColumnError) as error:
        wh.replace_table(engine, "fact_t", _frame(3, 1.0).assign(units=["a", "b", "c"]))
    message = str(error.value)
    assert "fact_t" in message and "'units'" in message and "text" in message and "number" in message
    assert "never drops a table" in message
    with pytest.raises(wh.IncompatibleColumnError, match="'date'"):
        wh.replace_rows(engine, "fact_t", _frame(3, 1.0).assign(date=True), ["product_id"])
    out = wh.read_table(engine, "fact_t")
    assert len(out) == 3 and out["units"].tolist() == [0, 1, 2]
    assert [t for t in sa.inspect(engine).get_table_names() if "staging" in t] == []

    compatible = _frame(4, 2.0).assign(
        units=[1.0, None, 3.0, 4.0],
        date=pd.to_datetime(["2024-02-01", "2024-02-02", "2024-02-03", "2024-02-04"]),
        quantity=[None] * 4,
    )
    assert wh.replace_table(engine, "fact_t", compatible) == 4
    out = wh.read_table(engine, "fact_t")
    assert out["units"].tolist()[2:] == [3, 4] and pd.isna(out["units"].iat[1])
    assert pd.to_datetime(out["date"]).min() == pd.Timestamp("2024-02-01") and out["quantity"].isna().all()


def sql_server_2022():
    dialect = mssql.dialect()
    dialect.server_version_info = (16,)
    return dialect


def test_flags_land_as_booleans_and_a_table_made_with_integer_flags_keeps_taking_them(engine):
    flags = pd.DataFrame({"product_id": ["P1", "P2", "P3"], "promo": [0, 1, 1], "stockout": [1, 0, None]})
    published = wh.as_flags(flags, ("promo", "stockout"))
    assert published["promo"].tolist() == [False, True, True] and published["stockout"].isna().tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="promo: flag values must be 0 or 1, found 2"):
        wh.as_flags(flags.assign(promo=[0, 2, 1]), ("promo",))

    wh.replace_table(engine, "fact_flags", published)
    types = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("fact_flags")}
    assert isinstance(types["promo"], sa.Boolean) and isinstance(types["stockout"], sa.Boolean)
    assert sorted(_query(engine, "SELECT product_id, promo FROM fact_flags")) == [("P1", False), ("P2", True), ("P3", True)]

    wh.replace_table(engine, "fact_old_flags", flags.astype({"stockout": "Int64"}))
    wh.replace_table(engine, "fact_old_flags", published)
    assert sorted(_query(engine, "SELECT product_id, promo, stockout FROM fact_old_flags")) == [
        ("P1", 0, 1), ("P2", 1, 0), ("P3", 1, None)
    ], "an older warehouse's integer columns take the flags as 0 and 1"
    with pytest.raises(wh.IncompatibleColumnError, match="'promo' is BOOLEAN"):
        wh.replace_table(engine, "fact_flags", flags)


def test_sql_server_swap_and_add_column_compile():
    dialect = sql_server_2022()
    target = wh.table_for("fact_sales_daily", _frame(3, 1.0).assign(extra_col="x"), ("product_id",), schema="dbo")
    existing = {"product_id": mssql.NVARCHAR(128), "units": mssql.INTEGER()}
    staging = wh.staging_table(dialect, target, existing)
    assert staging.name.startswith("fact_sales_daily__staging_") and staging.schema == "dbo"
    create = str(CreateTable(staging).compile(dialect=dialect))
    assert create.startswith(f"\nCREATE TABLE dbo.{staging.name} (")
    assert "product_id NVARCHAR(128) NULL" in create and "units INTEGER NULL" in create
    assert "extra_col NVARCHAR(400) NULL" in create

    lock, delete, insert = (str(s.compile(dialect=dialect)) for s in wh.swap_statements(dialect, target, staging))
    assert "EXEC @granted = sp_getapplock @Resource = :resource, @LockMode = 'Exclusive'" in lock
    assert "@LockOwner = 'Transaction'" in lock and "THROW" in lock
    assert delete == "DELETE FROM dbo.fact_sales_daily"
    assert insert.startswith(
        f"INSERT INTO dbo.fact_sales_daily (product_id, date, quantity, units, extra_col) "
        f"SELECT dbo.{staging.name}.product_id"
    )
    assert insert.rstrip().endswith(f"FROM dbo.{staging.name}")

    add = wh.add_column_statement(dialect, target, "extra_col")
    assert add == "ALTER TABLE dbo.fact_sales_daily ADD extra_col NVARCHAR(400) NULL"
    key_column = wh.add_column_statement(dialect, target, "product_id")
    assert key_column == "ALTER TABLE dbo.fact_sales_daily ADD product_id NVARCHAR(128) NULL"
