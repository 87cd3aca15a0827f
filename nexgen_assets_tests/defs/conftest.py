"""Helpers shared by the asset tests: pick assets by key, find one check's evaluation in a result."""

import dagster as dg

from nexgen_assets.definitions import all_assets


def by_key(keys):
    """The asset definitions that produce any of `keys`."""
    wanted = {dg.AssetKey(k) for k in keys}
    return [a for a in all_assets if set(a.keys) & wanted]


def check_named(result, name):
    """The evaluation of the asset check called `name` in a materialize result."""
    return next(e for e in result.get_asset_check_evaluations() if e.check_name == name)
