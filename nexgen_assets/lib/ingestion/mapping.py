"""Column mappings: other file layouts (marketplace reports, POS exports) turned into the contract.

A mapping is a YAML file chosen by file-name pattern. It renames columns, sets constants,
derives a column (a ratio), recodes values, parses a non-ISO date format, and excludes rows
(e.g. cancelled orders). Excluded rows are not dropped: they carry the reason
`excluded_by_mapping` into sales_rejects, so rows read still equal accepted + rejected.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nexgen_assets.lib.ingestion.contract import (
    RESERVED_COLUMNS,
    SOURCE_COLUMN_PREFIX,
    ContractError,
    normalise_column_name,
)

BUILT_IN = Path(str(resources.files("nexgen_assets") / "mappings"))
MAPPING_REJECT = "_mapping_reject"


def source_column_name(header: str) -> str:
    """A landed column's name in the raw frame, so every column resolves and none overwrites a pipeline column.

    The contract's normalising, then dots and backticks (Spark reads them as struct access and quoting) as
    underscores, then SOURCE_COLUMN_PREFIX before a reserved name or one starting with `_`.
    """
    name = normalise_column_name(header).replace(".", "_").replace("`", "_")
    if name in RESERVED_COLUMNS or name.startswith("_"):
        return SOURCE_COLUMN_PREFIX + name
    return name


@dataclass(frozen=True)
class ColumnMapping:
    name: str
    match: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    derive: dict[str, dict] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)
    date_format: str | None = None
    source: str = ""

    def matches(self, file_name: str) -> bool:
        return any(fnmatch.fnmatch(file_name.lower(), pattern.lower()) for pattern in self.match)


def load_mapping(path: Path) -> ColumnMapping:
    """Parse one mapping file; ContractError names the file and what is wrong."""
    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ContractError(f"{path}: not valid YAML: {error}") from error
    unknown = set(spec) - {"name", "match", "columns", "constants", "derive", "values", "exclude", "date_format"}
    if unknown or "match" not in spec:
        raise ContractError(f"{path}: needs 'match' and only known keys; unexpected: {sorted(unknown)}")
    for target, rule in (spec.get("derive") or {}).items():
        if set(rule) != {"divide"} or len(rule["divide"]) != 2:
            raise ContractError(f"{path}: derive.{target} must be {{divide: [numerator, denominator]}}")
    match = spec["match"]
    return ColumnMapping(
        name=spec.get("name", path.stem),
        match=tuple([match] if isinstance(match, str) else match),
        columns={k: source_column_name(v) for k, v in (spec.get("columns") or {}).items()},
        constants={k: str(v) for k, v in (spec.get("constants") or {}).items()},
        derive=spec.get("derive") or {},
        values={k: {str(a): str(b) for a, b in v.items()} for k, v in (spec.get("values") or {}).items()},
        exclude={source_column_name(k): [str(x) for x in v] for k, v in (spec.get("exclude") or {}).items()},
        date_format=spec.get("date_format"),
        source=str(path),
    )


def mapping_for(file_name: str, folders: list[Path]) -> ColumnMapping | None:
    """The first mapping (user folders first, then the built-in ones) whose pattern matches."""
    for folder in [*folders, BUILT_IN]:
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                mapping = load_mapping(path)
                if mapping.matches(file_name):
                    return mapping
    return None


def apply_mapping(frame: DataFrame, mapping: ColumnMapping, file_name: str) -> DataFrame:
    """Canonical columns from a mapped layout; unmapped source columns are kept (they end up in `extra`)."""
    needed = set(mapping.columns.values()) | set(mapping.exclude)
    for rule in mapping.derive.values():
        needed |= {source_column_name(c) for c in rule["divide"]}
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise ContractError(
            f"{file_name}: line 1: mapping {mapping.name} ({mapping.source}) needs column(s) {', '.join(missing)}"
        )
    out = frame
    excluded = F.lit(False)
    for column, banned in mapping.exclude.items():
        excluded = excluded | F.coalesce(F.col(column).isin(banned), F.lit(False))
    out = out.withColumn(MAPPING_REJECT, F.when(excluded, F.lit("excluded_by_mapping")))
    targets = {}
    for target, source in mapping.columns.items():
        value = F.col(source)
        if target in mapping.values:
            value = F.coalesce(F.create_map(*[F.lit(x) for kv in mapping.values[target].items() for x in kv])[value], value)
        if target == "order_ts" and mapping.date_format:
            value = F.coalesce(
                F.date_format(F.try_to_timestamp(value, F.lit(mapping.date_format)), "yyyy-MM-dd'T'HH:mm:ss"), value
            )
        targets[target] = value
    for target, constant in mapping.constants.items():
        targets[target] = F.lit(constant)
    for target, rule in mapping.derive.items():
        numerator, denominator = (F.col(source_column_name(c)).try_cast("double") for c in rule["divide"])
        targets[target] = F.when(denominator != 0, numerator / denominator).cast("string")
    renamed_sources = set(mapping.columns.values())
    kept = [F.col(c) for c in out.columns if c not in renamed_sources and c not in targets]
    return out.select(*kept, *[value.alias(name) for name, value in targets.items()])
