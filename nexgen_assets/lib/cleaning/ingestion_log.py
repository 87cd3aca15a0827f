"""The ingestion log: one row per landed file, so every sale can be traced and counted."""

from __future__ import annotations

import datetime as dt

import pandas as pd


def ingestion_log_row(
    source_file: str, sha256: str, read: int, accepted: int, rejected: int, seconds: float, run_id: str
) -> pd.DataFrame:
    """One row; ValueError if the counts do not add up (nothing is published then)."""
    if read != accepted + rejected:
        raise ValueError(f"{source_file}: read {read} rows but accepted {accepted} + rejected {rejected}")
    return pd.DataFrame(
        [
            {
                "source_file": source_file,
                "content_sha256": sha256,
                "rows_read": read,
                "rows_accepted": accepted,
                "rows_rejected": rejected,
                "seconds": round(seconds, 3),
                "run_id": run_id,
                "ingested_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
            }
        ]
    )
