"""Shared policies: a failed file never holds back the refresh, and only an engine that is down is retried."""

import dagster as dg
import pytest
from pyspark.errors import PySparkRuntimeError

from nexgen_assets.defs.policies import REFRESH_AFTER_FILES
from nexgen_assets.defs.quality import engine_unavailable, raise_unreadable

files = dg.DynamicPartitionsDefinition(name="files")


@dg.asset(partitions_def=files)
def landed_file() -> None:
    return None


def _refresh_requested(condition: dg.AutomationCondition) -> bool:
    @dg.asset(deps=[landed_file], automation_condition=condition)
    def refreshed() -> None:
        return None

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("files", ["good.csv", "broken.csv"])
    defs = dg.Definitions(assets=[landed_file, refreshed])
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    dg.materialize([landed_file], instance=instance, partition_key="good.csv")
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    return second.get_num_requested(dg.AssetKey("refreshed")) == 1


def test_a_file_partition_that_never_materialized_does_not_hold_back_the_refresh():
    assert _refresh_requested(REFRESH_AFTER_FILES)
    assert not _refresh_requested(dg.AutomationCondition.eager()), "plain eager waits for every file forever"


def test_an_engine_that_is_down_is_retried_and_a_file_spark_cannot_read_is_not(spark, tmp_path):
    gone = PySparkRuntimeError(errorClass="NO_ACTIVE_SESSION", messageParameters={})
    wrapped = RuntimeError("step failed")
    wrapped.__cause__ = ConnectionRefusedError("[Errno 111] Connection refused")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(Exception) as read_error:
        spark.read.parquet(str(broken)).count()

    assert engine_unavailable(gone) and engine_unavailable(wrapped)
    looped = ValueError("not the engine")
    looped.__cause__ = looped
    assert not engine_unavailable(looped), "a cause chain that loops ends"
    assert not engine_unavailable(read_error.value)
    with pytest.raises(PySparkRuntimeError) as raised:
        raise_unreadable(gone, "sales_a.csv")
    assert raised.value is gone and raised.value.__cause__ is not gone
    with pytest.raises(dg.Failure) as refused:
        raise_unreadable(read_error.value, "sales_a.csv")
    failure = refused.value
    assert not failure.allow_retries and failure.__cause__ is read_error.value
    assert failure.description.startswith("sales_a.csv: cannot be read:")
