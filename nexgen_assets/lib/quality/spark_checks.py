"""Run a pandera.pyspark model and turn its errors into counts and failing samples.

pandera.pyspark reports which checks failed but not how many rows or which ones;
a planner looking at a failed check wants both, so each failed column check is
re-expressed as a Spark predicate and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

SAMPLE_SIZE = 5


@dataclass
class QualityReport:
    """Outcome of validating one table."""

    table: str
    rows: int
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.errors

    @property
    def failing_rows(self) -> int:
        return sum(int(e.get("failing_rows") or 0) for e in self.errors)

    def summary(self) -> str:
        if self.passed:
            return f"{self.table}: {self.rows} rows, all checks passed"
        parts = [f"{e['column']}: {e['check']} ({e.get('failing_rows', '?')} rows)" for e in self.errors]
        return f"{self.table}: {len(self.errors)} failed check(s): " + "; ".join(parts)


def _predicate(check_name: str, stats: dict[str, Any], column: str) -> Column | None:
    """Spark predicate that is true for rows breaking a built-in pandera check."""
    col = F.col(column)
    rules = {
        "greater_than_or_equal_to": lambda s: col < s["min_value"],
        "greater_than": lambda s: col <= s["min_value"],
        "less_than_or_equal_to": lambda s: col > s["max_value"],
        "less_than": lambda s: col >= s["max_value"],
        "equal_to": lambda s: col != s["value"],
        "not_equal_to": lambda s: col == s["value"],
        "isin": lambda s: ~col.isin(list(s["allowed_values"])),
        "notin": lambda s: col.isin(list(s["forbidden_values"])),
        "in_range": lambda s: (col < s["min_value"]) | (col > s["max_value"]),
    }
    rule = rules.get(check_name)
    return rule(stats) if rule else None


def _json_safe(rows) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (dates and timestamps become ISO strings)."""
    return json.loads(json.dumps([row.asDict() for row in rows], default=str))


def _samples(frame: DataFrame, predicate: Column) -> list[dict[str, Any]]:
    return _json_safe(frame.where(predicate).limit(SAMPLE_SIZE).collect())


def validate_spark_table(model, frame: DataFrame, table: str) -> QualityReport:
    """Validate frame against a pandera.pyspark DataFrameModel; never raises on bad data."""
    schema = model.to_schema()
    validated = model.validate(frame)
    raw_errors = validated.pandera.errors
    report = QualityReport(table=table, rows=frame.count())
    for category, by_type in raw_errors.items():
        for error_type, errors in by_type.items():
            for error in errors:
                column = error.get("column")
                entry: dict[str, Any] = {
                    "category": category,
                    "type": error_type,
                    "column": column,
                    "check": error.get("check"),
                    "error": error.get("error"),
                }
                predicate = None
                if error_type == "SERIES_CONTAINS_NULLS" and column in frame.columns:
                    predicate = F.col(column).isNull()
                elif error_type == "DUPLICATES":
                    keys = schema.unique if isinstance(schema.unique, list) else [schema.unique]
                    counts = frame.groupBy(*keys).count().where(F.col("count") > 1)
                    entry["failing_rows"] = int(counts.agg(F.sum("count")).first()[0] or 0)
                    entry["samples"] = _json_safe(counts.limit(SAMPLE_SIZE).collect())
                elif column in schema.columns:
                    for check in schema.columns[column].checks:
                        if str(error.get("check", "")).startswith(check.name):
                            predicate = _predicate(check.name, check.statistics, column)
                if predicate is not None:
                    entry["failing_rows"] = frame.where(predicate).count()
                    entry["samples"] = _samples(frame, predicate)
                report.errors.append(entry)
    return report
