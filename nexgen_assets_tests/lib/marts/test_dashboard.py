"""The offline dashboard rendered by a real headless Chromium: every chart has data, the screenshot is kept."""

import json
import re
import shutil
import subprocess
from pathlib import Path

from nexgen_assets.lib.marts.dashboard import dashboard_data, render_dashboard, write_dashboard
from nexgen_assets.lib.marts.views import apply_views
from nexgen_assets_tests.lib.conftest import DAYS, publish_known_marts

ARTIFACTS = Path(__file__).resolve().parents[3] / ".test-artifacts"
CHARTS = ("sales_trend", "top_products", "stock_status", "lowest_cover", "kpi_cards", "forecast_vs_actual", "accuracy")


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    """Debian's chromium, headless, no network, a throw-away profile."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is required (Debian: apt-get install chromium); `make test` installs it as root"
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-extensions", "--hide-scrollbars",
        f"--user-data-dir={profile}", "--virtual-time-budget=5000",
    ]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120)


def test_every_page_of_the_dashboard_draws_data_in_chromium(engine, tmp_path):
    publish_known_marts(engine)
    apply_views(engine)
    data = dashboard_data(engine)
    assert len(data["trend"]) == DAYS and len(data["forecast"]) == 20 and len(data["history"]) == 50
    page = write_dashboard(tmp_path / "exports" / "dashboard.html", data)
    assert not re.search(r"""(src|href)=["']?https?:""", page.read_text()), "the dashboard must not load anything online"

    dom = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile").stdout
    assert 'data-rendered="ok"' in dom, dom[-2000:]
    marks = dict(re.findall(r'data-chart="(\w+)"[^>]*?data-marks="(\d+)"', dom))
    assert set(marks) == set(CHARTS), marks
    assert {name: int(count) > 0 for name, count in marks.items()} == dict.fromkeys(CHARTS, True), marks
    assert int(marks["sales_trend"]) == DAYS and int(marks["top_products"]) == 2 and int(marks["stock_status"]) == 2
    assert int(marks["forecast_vs_actual"]) == 50 + 20 + (DAYS - 50)

    screenshot = tmp_path / "dashboard.png"
    shot = chromium(f"--screenshot={screenshot}", "--window-size=1280,2600", page.as_uri(), profile=tmp_path / "profile")
    assert screenshot.exists() and screenshot.stat().st_size > 20_000, shot.stderr[-2000:]
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(screenshot, ARTIFACTS / f"dashboard-{engine.dialect.name}.png")


def test_the_embedded_data_cannot_close_the_script_tag():
    data = {"generated_at": "now", "trend": [{"date": "2025-01-01", "quantity": 1.0, "revenue": 1.0}],
            "top_products": [{"product_name": "</script><b>x</b>", "revenue": 1.0, "revenue_rank": 1},
                             {"product_name": "<!--<script>&", "revenue": 0.5, "revenue_rank": 2}],
            "stock_status": [], "lowest_cover": [], "kpis": {}, "forecast": [], "history": [], "accuracy": []}
    html = render_dashboard(data)
    payload = html.split('id="nexgen-data">', 1)[1].split("</script>", 1)[0]
    names = [p["product_name"] for p in json.loads(payload)["top_products"]]
    assert names == ["</script><b>x</b>", "<!--<script>&"]
    assert "<" not in payload and ">" not in payload
