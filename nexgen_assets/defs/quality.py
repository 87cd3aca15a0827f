"""The quality gate: pandera reports as asset check results, and partitions swapped in only when they pass."""

from contextlib import ExitStack
from typing import NoReturn

import dagster as dg

from nexgen_assets.lib.ingestion.contract import ContractError
from nexgen_assets.lib.quality.spark_checks import QualityReport
from nexgen_assets.lib.storage.lake import PartitionFolderConflict, StagedTable
from nexgen_assets.resources import LakeResource
from nexgen_assets.resources.spark import engine_unavailable


def check_result(report: QualityReport, spec: dg.AssetCheckSpec | None = None) -> dg.AssetCheckResult:
    """Pass or fail with row counts, the failed checks and up to five failing rows each.

    `spec` names the check when it runs inside its asset's step (partitioned assets).
    """
    target = {"asset_key": spec.asset_key, "check_name": spec.name} if spec else {}
    return dg.AssetCheckResult(
        **target,
        passed=report.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=report.summary(),
        metadata={
            "rows_checked": report.rows,
            "failed_checks": len(report.errors),
            "failing_rows": report.failing_rows,
            "errors": dg.MetadataValue.json(
                [{k: v for k, v in e.items() if k != "samples"} for e in report.errors]
            ),
            "failing_samples": dg.MetadataValue.json(
                {f"{e['column']}:{e['check']}": e.get("samples", []) for e in report.errors}
            ),
        },
    )


def raise_unreadable(error: Exception, key: str) -> NoReturn:
    """Raise what a step raises when Spark fails on a file: the error itself when the engine is down (retried),
    else a failure naming the file that is not retried, since the same bytes fail the same way."""
    if engine_unavailable(error):
        raise error
    raise dg.Failure(
        description=f"{key}: cannot be read: {first_line(error)}", metadata={"file": key}, allow_retries=False
    ) from error


def first_line(error: Exception) -> str:
    """The first line of an error, short enough for a failure message."""
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def stage_or_fail(stack: ExitStack, lake: LakeResource, frame, table: str, key: str) -> StagedTable:
    """Write one partition aside within `stack` (swapped in when the stack closes without error).

    Spark reads lazily, so broken bytes (a truncated gzip) surface here: the failure names the file.
    """
    try:
        return stack.enter_context(lake.staged_write(frame, table, key))
    except (ContractError, PartitionFolderConflict) as error:
        raise dg.Failure(description=str(error), metadata={"file": key}, allow_retries=False) from error
    except Exception as error:
        raise_unreadable(error, key)


def blocking_failure(result: dg.AssetCheckResult, key: str) -> dg.Failure:
    """The failure a blocking check raises: the staged partition is discarded, readers keep the previous one."""
    return dg.Failure(
        description=f"{key}: {result.check_name} failed; the lake keeps the previous version of this partition",
        metadata={"file": key},
        allow_retries=False,
    )
