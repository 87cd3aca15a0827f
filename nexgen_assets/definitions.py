"""The NEX GEN code location: every definition found under defs/, with the resources and the executor."""

from pathlib import Path

import dagster as dg

from nexgen_assets.resources import build_resources, pin_folders


def build_definitions(resources: dict | None = None) -> dg.Definitions:
    """Definitions from the defs/ folder, with the given resources (tests) or the ones the settings describe.

    A module added under defs/ is picked up without being listed anywhere. Runs execute
    their steps in one process: one Spark session (one JVM) per run instead of one per
    step, which is what keeps a file's refresh fast on a small machine.
    """
    found = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    wiring = dg.Definitions(
        resources=pin_folders(resources if resources is not None else build_resources()),
        executor=dg.in_process_executor,
    )
    return dg.Definitions.merge(found, wiring)


defs = build_definitions()
all_assets = list(defs.assets or [])
all_asset_checks = list(defs.asset_checks or [])
