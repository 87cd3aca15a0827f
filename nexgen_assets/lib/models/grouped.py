"""Per-store models: one fitted copy of a model per store group, trained and served through Spark's applyInPandas.

NEXGEN_TRAINING_GROUPS chooses the groups: `global` (one model over every store: no wrapper),
`store` (each store alone) or `store_groups:N` (stores hashed into N groups by the CRC-32 of
their id, the same in every run, on every machine and in Spark as in pandas, unlike Python's
`hash`). A per-series statistical model forecasts per group exactly as it does globally, only
in parallel; a global model (trees, LSTM) becomes one model per group.

Through Spark (`fit_in_spark`) the executor that fits a group reads that group's history and
feature rows itself (`cogroup().applyInPandas`, or `groupBy().applyInPandas` for a model that
reads the history alone): nothing goes to the driver but the fitted models, each as the files
its own `save` wrote, one (group, file name, bytes) row per file. Those files are written back
as plain files under checked names and read by the model's own `load`: never a tar extraction,
never an unpickle. To forecast through Spark (`predict_in_spark`) every group's files travel
with the function to the executors; no path is read from a row. `fit` and `predict` on pandas
run group by group in-process when no session is attached; with one, `fit` sends the frames
to Spark whenever there are several groups (the backtest's refits) and `predict` when the
rows are many.

applyInPandas always exchanges Arrow batches, whatever `spark.sql.execution.arrow.pyspark.enabled`
says; that flag (true in resources/spark.py) only speeds turning pandas frames into Spark ones,
as `predict` does with its pandas inputs. Each group arrives whole in one executor's memory.

Each group's rows are sorted by series and date before its fit, so the order a shuffle delivers
them in never changes a model: fitting through Spark equals fitting each group in-process.
Saved, each group is a sub-folder (group_0000, ...) holding the model's own files, and the
wrapper's state.json names the model, the grouping and which folder serves which group.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, GroupedData, SparkSession
from pyspark.sql import functions as F

from nexgen_assets.lib.grain import SERIES_KEYS
from nexgen_assets.lib.models.catalog import MODELS
from nexgen_assets.lib.models.interface import STATE_FILE, Forecaster, read_json
from nexgen_assets.lib.storage.collect import collect_pandas

GLOBAL = "global"
"""The default grouping: one model over every store, as before grouping existed."""
GROUP_COLUMN = "training_group"
ROW_COLUMN = "forecast_row"
SPARK_PREDICT_MIN_ROWS = 200_000
"""Future rows from which `predict` on pandas goes through Spark when a session is attached; below, in-process is faster."""
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_MODEL_FILES_SCHEMA = (
    f"{GROUP_COLUMN} string, file string, payload binary, history_rows long, feature_rows long, trained_through date"
)
_FORECAST_SCHEMA = "forecast double"

ModelFiles = dict[str, bytes]
"""A saved model as file name -> bytes: what travels between driver and executors."""


class UntrainedStoreError(ValueError):
    """Future rows of a store whose group has no fitted model: a store that opened after training, or an empty hash
    group. Forecasting them from another store's model would hide that they were never learned; retraining fixes it."""


@dataclass(frozen=True)
class StoreGroups:
    """Which group a store's series train in: the store alone (`buckets` None) or one of `buckets` hash groups."""

    buckets: int | None = None

    def __str__(self) -> str:
        return "store" if self.buckets is None else f"store_groups:{self.buckets}"

    def of(self, store_ids: pd.Series) -> pd.Series:
        """The group key of each store id (a string: the store id, or the hash group's number)."""
        ids = store_ids.astype(str)
        if self.buckets is None:
            return ids
        return ids.map(lambda store: str(zlib.crc32(store.encode("utf-8")) % self.buckets))

    def column(self) -> Column:
        """`of` as a Spark column: Spark's crc32 of the id's UTF-8 bytes is zlib's."""
        store = F.col("store_id").cast("string")
        if self.buckets is None:
            return store
        return (F.crc32(store.cast("binary")) % F.lit(self.buckets)).cast("string")


_EXPECTED = "expected global, store, or store_groups:N with N a whole number of at least 2"


def training_groups_problem(text: str) -> str | None:
    """What is wrong with a NEXGEN_TRAINING_GROUPS value, or None when it is valid."""
    if text in (GLOBAL, "store"):
        return None
    kind, _, count = text.partition(":")
    if kind == "store_groups" and count.isdecimal() and count.isascii() and int(count) >= 2:
        return None
    return _EXPECTED


def parse_training_groups(text: str) -> StoreGroups | None:
    """The grouping a NEXGEN_TRAINING_GROUPS value names; None for `global`. ValueError names a bad value."""
    problem = training_groups_problem(text)
    if problem:
        raise ValueError(f"NEXGEN_TRAINING_GROUPS={text!r}: {problem}")
    if text == GLOBAL:
        return None
    return StoreGroups() if text == "store" else StoreGroups(int(text.partition(":")[2]))


def with_training_groups(model: Forecaster, training_groups: str, spark: SparkSession | None = None) -> Forecaster:
    """The model as NEXGEN_TRAINING_GROUPS asks: unchanged for `global`, else one copy per store group."""
    groups = parse_training_groups(training_groups)
    return model if groups is None else GroupedForecaster(model, groups, spark)


def serve_in_spark(models: Iterable[Forecaster], spark: SparkSession) -> None:
    """Let the grouped models among `models` forecast many rows through this session."""
    for model in models:
        if isinstance(model, GroupedForecaster):
            model.spark = spark


def training_groups_of(model: Forecaster) -> str:
    """The grouping a model was trained with, as NEXGEN_TRAINING_GROUPS spells it."""
    return str(model.groups) if isinstance(model, GroupedForecaster) else GLOBAL


@dataclass(frozen=True)
class SparkFitSummary:
    """What the executors read to fit every group, for the materialization."""

    groups: int
    history_rows: int
    feature_rows: int
    trained_through: dt.date


class GroupedForecaster(Forecaster):
    """One fitted copy of `inner` per store group; `params` are the inner model's, so the catalog rebuilds it."""

    name = "grouped"

    def __init__(self, inner: Forecaster, groups: StoreGroups, spark: SparkSession | None = None) -> None:
        super().__init__(**inner.params)
        self.inner = inner
        self.groups = groups
        self.spark = spark
        self.models: dict[str, Forecaster] = {}
        self.spark_fit: SparkFitSummary | None = None
        """What the executors read when the last `fit` on pandas went through Spark; None when it ran in-process."""

    @property
    def reads_feature_rows(self) -> bool:
        return self.inner.reads_feature_rows

    def clone(self) -> GroupedForecaster:
        return GroupedForecaster(self.inner.clone(), self.groups, self.spark)

    def feature_names(self) -> list[str]:
        fitted = next(iter(self.models.values()), self.inner)
        return fitted.feature_names()

    def fit(self, history: pd.DataFrame, train: pd.DataFrame) -> GroupedForecaster:
        """Fit a copy of the inner model per group: on Spark's executors when a session is attached and there is
        more than one group (as the backtest refits), else one group after another in this process."""
        history_groups = self.groups.of(history["store_id"])
        if self.spark is not None and history_groups.nunique() > 1:
            feature_rows = self.spark.createDataFrame(train) if self.inner.reads_feature_rows else None
            self.spark_fit = self.fit_in_spark(self.spark.createDataFrame(history), feature_rows)
            return self
        self.spark_fit = None
        train_groups = self.groups.of(train["store_id"]) if len(train) else pd.Series(dtype=str)
        models = {}
        for key in sorted(history_groups.unique()):
            group_train = train[(train_groups == key).to_numpy()] if len(train) else train
            models[key] = _fitted(self.inner, self.groups, key, history[(history_groups == key).to_numpy()], group_train)
        self._keep(models)
        return self

    def fit_in_spark(self, history: DataFrame, feature_rows: DataFrame | None) -> SparkFitSummary:
        """Fit a copy of the inner model per group on Spark's executors, each reading its group's rows there;
        `feature_rows` is None for a model that fits on the history alone."""
        fit_one = _fit_group_to_files(self.inner, self.groups)
        by_group = self._by_group(history)
        if feature_rows is None:
            fitted = by_group.applyInPandas(lambda key, rows: fit_one(key, rows, None), _MODEL_FILES_SCHEMA)
        else:
            fitted = by_group.cogroup(self._by_group(feature_rows)).applyInPandas(fit_one, _MODEL_FILES_SCHEMA)
        files: dict[str, ModelFiles] = {}
        summaries = {}
        for row in fitted.collect():
            files.setdefault(row[GROUP_COLUMN], {})[row["file"]] = bytes(row["payload"])
            summaries[row[GROUP_COLUMN]] = (row["history_rows"], row["feature_rows"], row["trained_through"])
        if not files:
            raise ValueError(f"no store group has history to fit {self.inner.name} per {self.groups}")
        self._keep({key: _load_files(type(self.inner), files[key]) for key in sorted(files)})
        return SparkFitSummary(
            groups=len(files),
            history_rows=sum(s[0] for s in summaries.values()),
            feature_rows=sum(s[1] for s in summaries.values()),
            trained_through=max(s[2] for s in summaries.values()),
        )

    def _by_group(self, frame: DataFrame) -> GroupedData:
        """The frame grouped by store group, hash-partitioned by it into spark.sql.shuffle.partitions partitions first:
        an explicit count that adaptive execution keeps, where it would merge a small input's groups into one task
        and fit them one after another."""
        partitions = int(frame.sparkSession.conf.get("spark.sql.shuffle.partitions"))
        keyed = frame.withColumn(GROUP_COLUMN, self.groups.column())
        return keyed.repartition(partitions, GROUP_COLUMN).groupBy(GROUP_COLUMN)

    def _keep(self, models: dict[str, Forecaster]) -> None:
        self.models = models
        self.training_rows = sum(m.training_rows for m in models.values())

    def predict(self, history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        """Each future row from its store's group model: through Spark when a session is attached and the rows
        number at least SPARK_PREDICT_MIN_ROWS, else in-process."""
        self._check_covered(self.groups.of(future["store_id"]), future)
        if self.spark is not None and len(future) >= SPARK_PREDICT_MIN_ROWS:
            return self.predict_from_pandas_in_spark(self.spark, history, future)
        out = np.zeros(len(future))
        history_groups, future_groups = self.groups.of(history["store_id"]), self.groups.of(future["store_id"])
        for key in sorted(future_groups.unique()):
            rows = (future_groups == key).to_numpy()
            out[rows] = _predicted(self.models[key], history[(history_groups == key).to_numpy()], future[rows])
        return out

    def predict_from_pandas_in_spark(self, spark: SparkSession, history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        """`predict` through Spark for frames already in pandas: they are sent to the session, forecast per group,
        and the forecasts come back in the order of `future`."""
        numbered = future.assign(**{ROW_COLUMN: np.arange(len(future), dtype="int64")})
        forecast = self.predict_in_spark(spark.createDataFrame(history), spark.createDataFrame(numbered), [ROW_COLUMN])
        by_row = collect_pandas(forecast).set_index(ROW_COLUMN)["forecast"]
        return by_row.reindex(np.arange(len(future))).to_numpy(dtype="float64")

    def predict_in_spark(self, history: DataFrame, future: DataFrame, keys: list[str]) -> DataFrame:
        """Forecasts of every future row as a Spark frame of `keys` (columns of `future` that identify a row) and
        `forecast`, each group's model loaded on the executor from the files shipped with the function."""
        stores = [r[0] for r in future.select("store_id").distinct().collect()]
        self._check_covered(self.groups.of(pd.Series(stores, dtype=object)), pd.DataFrame({"store_id": stores}))
        files = {key: _files_of(model) for key, model in self.models.items()}
        predict_one = _predict_group_from_files(type(self.inner), files, keys)
        schema = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in future.select(*keys).schema.fields)
        return self._by_group(future).cogroup(self._by_group(history)).applyInPandas(predict_one, f"{schema}, {_FORECAST_SCHEMA}")

    def _check_covered(self, groups: pd.Series, future: pd.DataFrame) -> None:
        """UntrainedStoreError naming the stores whose group has no fitted model."""
        if not self.models:
            raise RuntimeError(f"{self.inner.name} per {self.groups} is not fitted")
        missing = ~groups.isin(list(self.models)).to_numpy()
        if missing.any():
            stores = sorted(future["store_id"].astype(str)[missing].unique())
            raise UntrainedStoreError(
                f"{self.inner.name} per {self.groups} has no model for store(s) {', '.join(stores)} "
                f"(group(s) {', '.join(sorted(groups[missing].unique()))}): retrain it with those stores' history"
            )

    def _save_state(self, folder: Path) -> dict[str, Any]:
        """One sub-folder per group with the inner model's files; state.json names the grouping and the folders."""
        if not self.models:
            raise RuntimeError(f"{self.inner.name} per {self.groups} is not fitted")
        folders = {}
        for index, (key, model) in enumerate(sorted(self.models.items())):
            sub = folder / f"group_{index:04d}"
            sub.mkdir()
            model.save(sub)
            folders[key] = sub.name
        return {"inner_model": self.inner.name, "training_groups": str(self.groups), "group_folders": folders}

    @classmethod
    def load(cls, folder: Path) -> GroupedForecaster:
        """The grouped model `save` wrote into `folder`; ValueError for an unknown model, grouping or folder name."""
        folder = Path(folder)
        state = read_json(folder / STATE_FILE)
        inner_name = state.get("inner_model")
        if state.get("model") != cls.name or inner_name not in MODELS:
            raise ValueError(f"{folder} holds a {state.get('model')!r} model of {inner_name!r}, not a grouped catalog model")
        groups = parse_training_groups(str(state["training_groups"]))
        if groups is None:
            raise ValueError(f"{folder} is a grouped model whose grouping is {GLOBAL!r}")
        inner_type = MODELS[inner_name]
        model = cls(inner_type(**state["params"]), groups)
        model._load_state(folder, state)
        return model

    def _load_state(self, folder: Path, state: dict[str, Any]) -> None:
        models = {}
        for key, sub in state["group_folders"].items():
            if not isinstance(sub, str) or not _FILE_NAME.fullmatch(sub):
                raise ValueError(f"{folder}: group {key!r} names folder {sub!r}, not a plain folder name")
            models[str(key)] = type(self.inner).load(folder / sub)
        self._keep(models)


def load_forecaster(folder: Path, model_type: type[Forecaster]) -> Forecaster:
    """The model saved in `folder`: a `model_type`, or a `model_type` per store group; ValueError for any other."""
    state = read_json(Path(folder) / STATE_FILE)
    if state.get("model") != GroupedForecaster.name:
        return model_type.load(folder)
    if state.get("inner_model") != model_type.name:
        raise ValueError(f"{folder} holds a {state.get('inner_model')!r} model per store group, not {model_type.name!r}")
    return GroupedForecaster.load(folder)


def _in_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows without the group column, dates as datetime.date (as collected), sorted by series and date so a fit never
    depends on the order the rows arrived in."""
    frame = frame.drop(columns=[GROUP_COLUMN, ROW_COLUMN], errors="ignore")
    if frame.empty:
        return frame.reset_index(drop=True)
    frame = frame.assign(date=pd.to_datetime(frame["date"]).dt.date)
    return frame.sort_values([*SERIES_KEYS, "date"], kind="stable").reset_index(drop=True)


def _fitted(template: Forecaster, groups: StoreGroups, key: str, history: pd.DataFrame, train: pd.DataFrame) -> Forecaster:
    """A fresh copy of `template` fitted on one group's rows, in their canonical order; a ValueError names the group."""
    try:
        return template.clone().fit(_in_order(history), _in_order(train))
    except ValueError as error:
        raise ValueError(f"{template.name} per {groups}, group {key!r}: {error}") from error


def _predicted(model: Forecaster, history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
    return model.predict(_in_order(history), future.drop(columns=[GROUP_COLUMN, ROW_COLUMN], errors="ignore"))


def _files_of(model: Forecaster) -> ModelFiles:
    """A fitted model as the plain files its `save` writes."""
    with tempfile.TemporaryDirectory(prefix="nexgen-group-") as scratch:
        model.save(Path(scratch))
        files = {}
        for path in sorted(Path(scratch).iterdir()):
            if not path.is_file() or path.is_symlink():
                raise ValueError(f"{model.name} saved {path.name}, not a plain file; a group's model is a flat folder")
            files[path.name] = path.read_bytes()
        return files


def _load_files(model_type: type[Forecaster], files: Mapping[str, bytes]) -> Forecaster:
    """The model `_files_of` turned into files, written back under checked plain names and read by its own `load`."""
    with tempfile.TemporaryDirectory(prefix="nexgen-group-") as scratch:
        for name, payload in files.items():
            if not _FILE_NAME.fullmatch(name):
                raise ValueError(f"a group's model file is named {name!r}, not a plain file name; refusing to load it")
            (Path(scratch) / name).write_bytes(payload)
        return model_type.load(Path(scratch))


def _fit_group_to_files(template: Forecaster, groups: StoreGroups) -> Callable[..., pd.DataFrame]:
    """The executor side of `fit_in_spark`: one group's rows in, its fitted model's files out (a row per file)."""

    def fit_group(key: tuple, history: pd.DataFrame, train: pd.DataFrame | None) -> pd.DataFrame:
        group = str(key[0])
        train = train if train is not None else pd.DataFrame(columns=history.columns)
        files = _files_of(_fitted(template, groups, group, history, train))
        return pd.DataFrame({
            GROUP_COLUMN: group,
            "file": list(files),
            "payload": list(files.values()),
            "history_rows": len(history),
            "feature_rows": len(train),
            "trained_through": pd.to_datetime(history["date"]).max().date(),
        })

    return fit_group


def _predict_group_from_files(
    model_type: type[Forecaster], files: Mapping[str, ModelFiles], keys: list[str]
) -> Callable[..., pd.DataFrame]:
    """The executor side of `predict_in_spark`: one group's future and history rows in, `keys` and forecasts out."""

    def predict_group(key: tuple, future: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
        group = str(key[0])
        if future.empty:
            return pd.DataFrame({**{k: [] for k in keys}, "forecast": []})
        if group not in files:
            raise ValueError(f"no model for store group {group!r}")
        model = _load_files(model_type, files[group])
        forecast = _predicted(model, history, future.assign(date=pd.to_datetime(future["date"]).dt.date))
        return future[keys].reset_index(drop=True).assign(forecast=forecast)

    return predict_group
