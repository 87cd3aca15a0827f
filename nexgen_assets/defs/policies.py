"""Retry, automation and concurrency settings shared by the steps that read files and write databases."""

import dagster as dg

TRANSIENT_RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL)
"""A database blip or a restarted Spark server is retried (after 5, 10 and 20 s: long enough for `nexgen dev`
to start its Spark Connect server again); a file at fault fails at once (its failure says allow_retries=False)."""

REFRESH_AFTER_FILES = (
    dg.AutomationCondition.eager()
    .without(~dg.AutomationCondition.any_deps_missing())
    .with_label("eager, a failed file never holds it back")
)
"""Eager, except that a file partition that never materialized (a file that failed) does not block the refresh:
the other files' data must still reach the warehouse."""

WAREHOUSE_POOL = "warehouse"
"""Every step that publishes to the warehouse holds this pool's slot (limit 1 in the instance settings),
so two runs never publish at once."""
