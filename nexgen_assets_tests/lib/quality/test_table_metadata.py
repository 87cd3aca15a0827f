"""Catalog column descriptions derived from Pandera models: names, engine types, nullability, keys and checks."""

import pandera.pandas as pa_pd
import pandera.pyspark as pa_ps
import pyspark.sql.types as T
from pandera.typing import Series

from nexgen_assets.lib.quality.schemas import CleanSalesSchema, DimDateSchema, ForecastSchema, RawSalesSchema
from nexgen_assets.lib.quality.table_metadata import describe_table


def _by_name(model):
    return {column.name: column for column in describe_table(model).columns}


def test_a_spark_model_gives_every_column_in_order_with_spark_types_and_rules():
    table = describe_table(CleanSalesSchema)
    assert [c.name for c in table.columns] == list(CleanSalesSchema.to_schema().columns)
    columns = _by_name(CleanSalesSchema)
    assert (columns["order_ts"].type, columns["order_date"].type, columns["quantity"].type) == ("timestamp", "date", "double")
    assert (columns["promo"].type, columns["order_id"].type) == ("int", "string")
    assert not columns["order_id"].nullable and columns["product_name"].nullable
    assert columns["quantity"].constraints == ("!= 0",)
    assert columns["unit_price"].constraints == (">= 0",)
    assert columns["promo"].constraints == ("in [0, 1]",)
    assert columns["row_number"].constraints == (">= 1",)
    assert table.constraints == ()


def test_a_model_that_allows_other_columns_says_so():
    assert [c.name for c in describe_table(RawSalesSchema).columns] == ["source_file", "row_number"]
    assert describe_table(RawSalesSchema).constraints == ("columns not listed here may also be present (not strict)",)


def test_a_pandas_model_gives_pandas_types_unique_columns_ranges_and_table_rules():
    columns = _by_name(DimDateSchema)
    assert columns["date"].type == "datetime64[ns]" and columns["date"].unique
    assert (columns["year"].type, columns["is_weekend"].type, columns["holiday"].type) == ("int64", "bool", "str")
    assert columns["quarter"].constraints == ("in range [1, 4]",)
    assert columns["holiday"].nullable and not columns["year"].nullable

    forecast = describe_table(ForecastSchema)
    assert {c.name for c in forecast.columns} == set(ForecastSchema.to_schema().columns)
    assert "unique (forecast_run_id, store_id, product_id, date)" in forecast.constraints
    assert "check quantiles_ordered" in forecast.constraints


class _Described(pa_pd.DataFrameModel):
    code: Series[str] = pa_pd.Field(description="Shelf code.", str_matches=r"^[A-Z]+$")
    share: Series[float] = pa_pd.Field(in_range={"min_value": 0, "max_value": 1, "include_min": False}, title="Share")
    count: Series[int] = pa_pd.Field(gt=0, lt=10, notin=[3])

    class Config:
        strict = True
        unique = "code"


def test_descriptions_open_ranges_and_other_checks_are_kept():
    columns = _by_name(_Described)
    assert columns["code"].description == "Shelf code."
    assert columns["code"].constraints == ("str_matches('^[A-Z]+$')",)
    assert columns["share"].description == "Share" and columns["share"].constraints == ("in range (0, 1]",)
    assert columns["count"].constraints == ("> 0", "< 10", "not in [3]")
    assert describe_table(_Described).constraints == ("unique (code)",)


def test_a_spark_model_declared_here_reads_the_same_way():
    class Tiny(pa_ps.DataFrameModel):
        flag: T.BooleanType() = pa_ps.Field(nullable=True)

        class Config:
            strict = True

    (column,) = describe_table(Tiny).columns
    assert (column.name, column.type, column.nullable, column.unique, column.constraints) == ("flag", "boolean", True, False, ())
