"""A built wheel carries what the code reads at run time: SQL views, column mappings, the dashboard and defs."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import nexgen_assets
    assert Path(nexgen_assets.__file__).is_relative_to(Path(sys.argv[1])), nexgen_assets.__file__
    from nexgen_assets.lib.marts.views import VIEWS, statements, view_script
    for dialect in ("mssql", "postgresql", "sqlite"):
        script = view_script(dialect).read_text()
        created = [s for s in statements(script, dialect) if "CREATE" in s.upper()]
        assert len(created) >= len(VIEWS), (dialect, len(created))
    from nexgen_assets.lib.ingestion.mapping import mapping_for
    assert mapping_for("amazon_orders.csv", []).name
    assert mapping_for("pos_store1.csv", []).name
    from nexgen_assets.lib.marts.dashboard import render_dashboard
    page = render_dashboard({"generated_at": "2025-01-01T05:00:00", "trend": []})
    assert page.startswith("<!doctype html>") and "{{data}}" not in page and "2025-01-01T05:00:00" in page
    from nexgen_assets.definitions import defs
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_sales", "sales_forecast", "ingestion_log", "backtest_interval_quantiles"} <= keys, keys
    print("ok", len(keys))
    """
)


def test_a_wheel_install_finds_views_mappings_dashboard_and_defs(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(REPO)],
        check=True, capture_output=True, text=True,
    )
    wheel = next(wheels.glob("nexgen_assets-*.whl"))
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True, capture_output=True, text=True,
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(target)],
        cwd=tmp_path, env={"PYTHONPATH": str(target), "NEXGEN_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok")
