"""Retry and concurrency settings shared by the steps that read files and write databases."""

import dagster as dg

TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)
"""A database blip or a restarted Spark server is retried; a file that breaks the contract fails at once
(its failure says allow_retries=False)."""

WAREHOUSE_POOL = "warehouse"
"""Every step that publishes to the warehouse holds this pool's slot (limit 1 in the instance settings),
so two runs never publish at once."""
