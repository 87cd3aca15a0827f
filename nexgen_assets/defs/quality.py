"""Turn a pandera validation report into an asset check result the UI can show."""

import dagster as dg

from nexgen_assets.lib.quality.spark_checks import QualityReport


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
