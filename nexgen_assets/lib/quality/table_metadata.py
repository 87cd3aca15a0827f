"""Catalog column schemas derived from the Pandera models, so the catalog shows what the quality gate checks.

Pure: no Dagster here. `describe_table` turns a pandas or pyspark `DataFrameModel` into plain
column descriptions (name, type, description, nullable, unique, readable constraints) that the
code location turns into a `dg.TableSchema`; a column added to a model shows up in the catalog
without a second list to keep in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from pandera.api.dataframe.model import DataFrameModel


@dataclass(frozen=True)
class ColumnDescription:
    """One column as a model declares it: engine type name, nullability, uniqueness and value checks."""

    name: str
    type: str
    description: str | None
    nullable: bool
    unique: bool
    constraints: tuple[str, ...]


@dataclass(frozen=True)
class TableDescription:
    """The columns a model declares, in model order, and the constraints that span columns."""

    columns: tuple[ColumnDescription, ...]
    constraints: tuple[str, ...]


def describe_table(model: type[DataFrameModel]) -> TableDescription:
    """The model's columns with their types and constraints, and its table-level rules (keys, strictness, checks)."""
    schema = model.to_schema()
    columns = tuple(
        ColumnDescription(
            name=name,
            type=_type_name(column.dtype),
            description=column.description or column.title,
            nullable=bool(column.nullable),
            unique=bool(column.unique),
            constraints=tuple(_check_text(check) for check in column.checks),
        )
        for name, column in schema.columns.items()
    )
    return TableDescription(columns=columns, constraints=_table_constraints(schema))


def _type_name(dtype) -> str:
    """Spark's own type name (string, double, date...) for pyspark models, the pandas dtype for pandas ones."""
    native = getattr(dtype, "type", None)
    return native.simpleString() if hasattr(native, "simpleString") else str(dtype)


def _table_constraints(schema) -> tuple[str, ...]:
    unique = schema.unique
    keys = [unique] if isinstance(unique, str) else list(unique or [])
    rules = [f"unique ({', '.join(keys)})"] if keys else []
    if not schema.strict:
        rules.append("columns not listed here may also be present (not strict)")
    rules.extend(f"check {check.name}" for check in schema.checks)
    return tuple(rules)


_COMPARISONS = {
    "greater_than_or_equal_to": (">=", "min_value"),
    "greater_than": (">", "min_value"),
    "less_than_or_equal_to": ("<=", "max_value"),
    "less_than": ("<", "max_value"),
    "equal_to": ("==", "value"),
    "not_equal_to": ("!=", "value"),
}


def _check_text(check) -> str:
    """A Pandera column check as a short rule: `>= 0`, `in [0, 1]`, `in range [1, 7]`; else the check's own text."""
    stats = check.statistics or {}
    if check.name in _COMPARISONS:
        operator, key = _COMPARISONS[check.name]
        return f"{operator} {stats[key]}"
    if check.name == "isin":
        return f"in {list(stats['allowed_values'])}"
    if check.name == "notin":
        return f"not in {list(stats['forbidden_values'])}"
    if check.name == "in_range":
        low = "[" if stats.get("include_min", True) else "("
        high = "]" if stats.get("include_max", True) else ")"
        return f"in range {low}{stats['min_value']}, {stats['max_value']}{high}"
    return check.error or check.name
