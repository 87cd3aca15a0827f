"""The offline dashboard: the data it embeds on known marts, and the page rendered and driven by a real
headless Chromium (filters, measure toggle, tooltips, drill-down); the screenshot is kept."""

import datetime as dt
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from nexgen_assets.lib.cleaning.daily import DAILY_FLAGS
from nexgen_assets.lib.marts.dashboard import Bounds, dashboard_data, render_dashboard, write_dashboard
from nexgen_assets.lib.marts.dimensions import date_dimension
from nexgen_assets.lib.marts.views import apply_views
from nexgen_assets.lib.storage import warehouse as wh
from nexgen_assets_tests.lib.conftest import D0, DAYS, publish_known_marts

ARTIFACTS = Path(__file__).resolve().parents[3] / ".test-artifacts"
CHARTS = ("sales_trend", "top_products", "product_drill", "stock_status", "lowest_cover", "kpi_cards",
          "forecast_vs_actual", "accuracy")
HOSTILE_PRODUCT = "</script><img src=x onerror=\"document.title='pwned'\"><!--<script>&amp;"
HOSTILE_STORE = "<b>bold</b> & co"


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


def marks_of(dom: str) -> dict[str, int]:
    return {name: int(count) for name, count in re.findall(r'data-chart="(\w+)"[^>]*?data-marks="(\d+)"', dom)}


def test_every_page_of_the_dashboard_draws_data_in_chromium(engine, tmp_path):
    publish_known_marts(engine)
    apply_views(engine)
    data = dashboard_data(engine)
    assert len(data["trend"]) == DAYS and len(data["forecast"]) == 20 and len(data["history"]) == 50
    page = write_dashboard(tmp_path / "exports" / "dashboard.html", data)
    assert not re.search(r"""(src|href)=["']?https?:""", page.read_text()), "the dashboard must not load anything online"

    dom = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile").stdout
    assert 'data-rendered="ok"' in dom, dom[-2000:]
    marks = marks_of(dom)
    assert set(marks) == set(CHARTS), marks
    assert {name: count > 0 for name, count in marks.items()} == dict.fromkeys(CHARTS, True), marks
    # Quantity on every day and its 7-day average from the 7th day; no year of history for last year's line.
    assert marks["sales_trend"] == DAYS + (DAYS - 6)
    assert marks["top_products"] == 2 and marks["stock_status"] == 2 and marks["lowest_cover"] == 2
    assert marks["forecast_vs_actual"] == 50 + 20 + (DAYS - 50)
    assert marks["product_drill"] == DAYS + 20, "the top product's daily quantity and its 20 forecast days"
    last_day = (D0 + dt.timedelta(days=DAYS - 1)).isoformat()
    assert f'<strong id="data-as-of">{last_day}</strong>' in dom, "data as of the last sales day, not the render time"
    assert f"Rendered {data['generated_at']}" in dom

    screenshot = tmp_path / "dashboard.png"
    shot = chromium(f"--screenshot={screenshot}", "--window-size=1280,3200", page.as_uri(), profile=tmp_path / "profile")
    assert screenshot.exists() and screenshot.stat().st_size > 20_000, shot.stderr[-2000:]
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(screenshot, ARTIFACTS / f"dashboard-{engine.dialect.name}.png")


# A small shop: 400 days (a year of history before the 365 days shown), three stores, four products.
SHOP_START = dt.date(2024, 1, 1)
SHOP_DAYS = 400
SHOP_LAST = SHOP_START + dt.timedelta(days=SHOP_DAYS - 1)
# store, product, quantity on day k, unit price, stock on the last day
SHOP_SERIES = [
    ("S1", "P1", lambda k: k + 1.0, 3.0, 10.0),
    ("S1", "P2", lambda k: 2.0, 5.0, 100.0),
    ("S2", "P1", lambda k: 1.0, 3.0, 0.0),
    ("S2", "P3", lambda k: 1.0, 4.0, 3.0),
    ("S3", "P4", lambda k: 1.0, 1.0, 5.0),
]


def publish_shop(engine) -> pd.DataFrame:
    """The shop's star: names (one product and one store hostile, some null), an inventory plan, two forecast runs
    (the older one must never show) with levels for the total, each store, each category and store x category."""
    publish_known_marts(engine)  # every table the views read, replaced below
    rows = []
    for store, product, quantity, price, last_stock in SHOP_SERIES:
        for k in range(SHOP_DAYS):
            q = quantity(k)
            stock = last_stock if k == SHOP_DAYS - 1 else 50.0
            rows.append((store, product, SHOP_START + dt.timedelta(days=k), q, q, 0.0, q * price, price, 0, stock, 0))
    facts = pd.DataFrame(rows, columns=["store_id", "product_id", "date", "quantity", "units_sold", "units_returned",
                                        "revenue", "avg_price", "promo", "stock_on_hand", "stockout"])
    wh.replace_table(engine, "fact_sales_daily", wh.as_flags(facts, DAILY_FLAGS), ("store_id", "product_id", "date"))
    wh.replace_table(engine, "dim_product", pd.DataFrame({
        "product_id": ["P1", "P2", "P3", "P4"], "product_name": ["Tea", "Soap", HOSTILE_PRODUCT, None],
        "category": ["grocery", "household", "grocery", None]}))
    wh.replace_table(engine, "dim_store", pd.DataFrame(
        {"store_id": ["S1", "S2", "S3"], "store_name": ["North", None, HOSTILE_STORE]}))
    wh.replace_table(engine, "dim_date", date_dimension(SHOP_START, dt.date(2025, 12, 31)), ("date",))
    wh.replace_table(engine, "fact_inventory_plan", pd.DataFrame({
        "store_id": ["S1", "S1", "S2", "S2", "S3"], "product_id": ["P1", "P2", "P1", "P3", "P4"],
        "stock_on_hand": [10.0, 100.0, 0.0, 3.0, 5.0],
        "suggested_order": [400.0, 0.0, 20.0, 5.0, 0.0],
        "status": ["reorder", "overstock", "stockout risk", "reorder", "ok"]}), ("store_id", "product_id"))
    horizon = range(14)
    forecast = pd.concat([
        pd.DataFrame({"forecast_run_id": run, "model_name": "xgboost", "model_version": "v1",
                      "forecast_origin": SHOP_LAST, "store_id": store, "product_id": product,
                      "date": [SHOP_LAST + dt.timedelta(days=1 + h) for h in horizon], "horizon": [h + 1 for h in horizon],
                      "mean": p50, "p10": p50 / 2, "p50": p50, "p90": p50 * 2, "created_at": created})
        for run, p50, created in (("old", 1000.0, dt.datetime(2025, 1, 1)), ("new", 1.0, dt.datetime(2025, 2, 4)))
        for store, product, *_ in SHOP_SERIES
    ])
    wh.replace_table(engine, "fact_forecast", forecast)
    level_rows = []
    for run, scale in (("old", 1000.0), ("new", 1.0)):
        for level, store, category, p50 in (("total", "All", "All", 5.0), ("store", "S1", "All", 2.0),
                                            ("store", "S2", "All", 2.0), ("store", "S3", "All", 1.0),
                                            ("category", "All", "grocery", 3.0),
                                            ("store_category", "S2", "grocery", 2.0)):
            for h in horizon:
                level_rows.append((run, level, store, category, SHOP_LAST + dt.timedelta(days=1 + h), h + 1,
                                   p50 * scale, p50 * scale * 0.8, p50 * scale, p50 * scale * 1.2))
    wh.replace_table(engine, "fact_forecast_levels", pd.DataFrame(level_rows, columns=[
        "forecast_run_id", "level", "store_id", "category", "date", "horizon", "mean", "p10", "p50", "p90"]))
    apply_views(engine)
    return facts


def test_data_as_of_is_the_last_sales_day_and_the_render_time_is_apart(engine):
    publish_shop(engine)
    data = dashboard_data(engine)
    assert data["data_as_of"] == SHOP_LAST.isoformat() != data["generated_at"][:10]
    page = render_dashboard(data)
    assert f'Data as of <strong id="data-as-of">{SHOP_LAST.isoformat()}</strong>' in page
    assert f"<small>Rendered {data['generated_at']}</small>" in page


def test_the_trend_has_revenue_a_7_day_average_and_the_same_weekday_last_year(engine):
    facts = publish_shop(engine)
    trend = pd.DataFrame(dashboard_data(engine)["trend"]).set_index("date")
    assert len(trend) == 365 and trend.index[-1] == SHOP_LAST.isoformat()

    def day(k):
        return trend.loc[(SHOP_START + dt.timedelta(days=k)).isoformat()]

    # Day k sells k + 1 of P1 at 3 in S1, plus 5 units a day of the rest (revenue 10 + 3 + 4 + 1).
    last = day(SHOP_DAYS - 1)
    assert (last["quantity"], last["revenue"]) == (400 + 5, 3 * 400 + 18)
    assert last["quantity_ma7"] == pytest.approx(397 + 5) and last["revenue_ma7"] == pytest.approx(3 * 397 + 18)
    assert (last["quantity_yoy"], last["revenue_yoy"]) == (36 + 5, 3 * 36 + 18), "364 days back, the same weekday"
    assert pd.Timestamp(SHOP_LAST).day_name() == pd.Timestamp(SHOP_LAST - dt.timedelta(days=364)).day_name()
    assert (day(364)["quantity_yoy"], day(364)["revenue_yoy"]) == (1 + 5, 3 + 18)
    assert pd.isna(day(363)["quantity_yoy"]) and pd.isna(day(363)["revenue_yoy"]), "no history a year before"

    # Against the facts, independently: sums per day, the mean of the day and the 6 before, the value 364 days back.
    daily = facts.groupby("date")[["quantity", "revenue"]].sum()
    for date, row in trend.iterrows():
        d = dt.date.fromisoformat(date)
        week = daily.loc[[d - dt.timedelta(days=i) for i in range(7)]]
        ago = d - dt.timedelta(days=364)
        for m in ("quantity", "revenue"):
            assert row[m] == pytest.approx(daily.at[d, m])
            assert row[f"{m}_ma7"] == pytest.approx(week[m].mean())
            assert (pd.isna(row[f"{m}_yoy"]) if ago < SHOP_START else row[f"{m}_yoy"] == pytest.approx(daily.at[ago, m]))
    with engine.connect() as conn:
        view = pd.read_sql(sa.text("SELECT date, quantity, revenue FROM vw_sales_trend"), conn)
    view = view.assign(date=pd.to_datetime(view["date"]).dt.date.astype(str)).set_index("date").loc[trend.index]
    assert view["quantity"].astype(float).tolist() == pytest.approx(trend["quantity"].tolist())
    assert view["revenue"].astype(float).tolist() == pytest.approx(trend["revenue"].tolist())


def test_stock_rows_are_sorted_by_days_of_cover_with_names_and_suggested_orders(engine):
    publish_shop(engine)
    data = dashboard_data(engine)
    names = {p["id"]: p["name"] for p in data["products"]}
    rows = [(r["store_name"] or r["store_id"], names[r["product_id"]] or r["product_id"], r["status"],
             r["days_of_cover"], r["stock_on_hand"], r["suggested_order"]) for r in data["lowest_cover"]]
    p1_cover = round(10 / (sum(range(373, 401)) / 28), 3)
    assert rows == [
        ("S2", "Tea", "stockout risk", 0.0, 0.0, 20.0),   # a null store name shows the id
        ("North", "Tea", "reorder", p1_cover, 10.0, 400.0),
        ("S2", HOSTILE_PRODUCT, "reorder", 3.0, 3.0, 5.0),
        (HOSTILE_STORE, "P4", "ok", 5.0, 5.0, 0.0),       # a null product name shows the id
        ("North", "Soap", "overstock", 50.0, 100.0, 0.0),
    ]
    statuses = [r["status"] for r in data["stock_status"]]
    assert statuses == sorted(statuses, key=["stockout risk", "reorder", "ok", "overstock"].index), "riskiest first"
    assert sum(r["series"] for r in data["stock_status"]) == 5
    assert sum(r["suggested_order"] for r in data["stock_status"]) == 425


def test_the_embedded_data_is_bounded_and_everything_past_the_caps_is_one_other_bucket(engine):
    publish_shop(engine)
    bounds = Bounds(trend_days=30, yoy_lag_days=7, stores=2, categories=1, top_products=1, lowest_cover_rows=1,
                    drill_products=1, drill_history_days=10, forecast_days=5)
    data = dashboard_data(engine, bounds)
    assert data["stores"] == [{"id": "S1", "label": "North"}, {"id": "S2", "label": "S2"},
                              {"id": None, "label": "Other stores (1)"}]
    assert data["categories"] == [{"id": "grocery", "label": "grocery"}, {"id": None, "label": "Other categories (2)"}]
    assert data["cube"]["days"] == 37 and len(data["trend"]) == 30
    assert {(s, c) for s, c, *_ in data["cube"]["series"]} == {(0, 0), (0, 1), (1, 0), (2, 1)}
    assert all(len(q) == len(r) == 37 for *_, q, r in data["cube"]["series"])
    kpis = data["kpis"]
    assert sum(t[3] for t in data["totals"]) == pytest.approx(kpis["total_revenue"])
    assert sum(t[2] for t in data["totals"]) == pytest.approx(kpis["total_quantity"])

    # One top product per filter combination (all or a bucket, for stores and categories), ranked within it.
    top = {(r["store"], r["category"]): r["product_id"] for r in data["top_products"]}
    assert len(data["top_products"]) == len(top)
    assert top[(None, None)] == "P1" and top[(1, None)] == "P3" and top[(2, None)] == "P4" and top[(None, 1)] == "P2"
    assert top[(1, 0)] == "P3" and (1, 1) not in top, "S2 sells nothing outside grocery"
    lowest = {(r["store"], r["category"]): r["product_id"] for r in data["lowest_cover"]}
    assert len(data["lowest_cover"]) == len(lowest) == 4 and lowest[(1, 0)] == "P1"
    assert [p["product"] for p in data["drill"]["products"]] == ["P1"]
    assert len(data["drill"]["products"][0]["quantity"]) == 10 and len(data["drill"]["products"][0]["p50"]) == 5

    # Forecast levels only for what a filter can select, from the newest run only, bounded in days.
    levels = {(s["level"], s["store"], s["category"]): s["p50"] for s in data["forecast_levels"]["series"]}
    assert set(levels) == {("total", None, None), ("store", 0, None), ("store", 1, None), ("category", None, 0),
                           ("store_category", 1, 0)}
    assert levels[("total", None, None)] == [5] * 5
    assert data["forecast_levels"]["start"] == (SHOP_LAST + dt.timedelta(days=1)).isoformat()


def test_filters_toggle_tooltips_and_drill_down_work_in_chromium_and_names_stay_text(engine, tmp_path):
    publish_shop(engine)
    data = dashboard_data(engine)
    page = write_dashboard(tmp_path / "dashboard.html", data)
    # Drive the page like an analyst: events on the real controls, then the page's state written out.
    driver = """<pre id="test-out"></pre><script>(function(){
    function q(s){return document.querySelector(s);}
    function all(s){return Array.prototype.slice.call(document.querySelectorAll(s));}
    function kpi(k){var c=q('[data-kpi="'+k+'"]');return c?+c.getAttribute("data-value"):null;}
    function marks(n){return +q('figure[data-chart="'+n+'"]').getAttribute("data-marks");}
    function snap(){return{revenue28:kpi("revenue_last_28_days"),quantity28:kpi("quantity_last_28_days"),
      totalRevenue:kpi("total_revenue"),top:all('[data-chart="top_products"] g.bar-row').map(function(g){
      return g.getAttribute("data-key");}),status:all('[data-chart="stock_status"] g.bar-row').map(function(g){
      return[g.getAttribute("data-key"),g.querySelector("rect").getAttribute("fill")];}),
      lowest:all('[data-chart="lowest_cover"] tr').slice(1).map(function(tr){return Array.prototype.map.call(tr.cells,
      function(td){return td.textContent;});}),drill:q("#drill-title").textContent,drillMarks:marks("product_drill"),
      forecastMarks:marks("forecast_vs_actual"),trendLegend:q('[data-chart="sales_trend"] .legend').textContent,
      trend:window.nexgenDashboard.trend()};}
    function pick(id,value){var s=q(id);s.value=value;s.dispatchEvent(new Event("change"));}
    var out={all:snap()};
    var hover=q('[data-chart="sales_trend"] rect.hover'),box=hover.getBoundingClientRect();
    hover.dispatchEvent(new MouseEvent("mousemove",{bubbles:true,clientX:box.right+5,clientY:box.top+5}));
    out.tooltip={hidden:q("#tooltip").hidden,text:q("#tooltip").textContent};
    q('input[name="measure"][value="revenue"]').click();out.revenueLegend=snap().trendLegend;
    pick("#filter-store","1");out.store=snap();
    pick("#filter-category","0");out.storeCategory=snap();
    pick("#filter-store","-1");out.category=snap();
    q("#filter-reset").click();out.reset=snap();
    all('[data-chart="top_products"] g.bar-row')[1].dispatchEvent(new MouseEvent("click",{bubbles:true}));
    out.clicked=snap();
    out.options=all("#filter-store option").map(function(o){return o.textContent;});
    out.title=document.title;
    q("#test-out").textContent=JSON.stringify(out);})();</script>"""
    text = page.read_text()
    page.write_text(text[: text.rindex("</body>")] + driver + "</body></html>")

    dom = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile").stdout
    assert 'data-rendered="ok"' in dom, dom[-2000:]
    found = re.search(r'<pre id="test-out">(.*?)</pre>', dom, re.S)
    assert found and found.group(1), dom[-3000:]
    out = json.loads(html.unescape(found.group(1)))

    # The page computes the same trend (revenue, 7-day average, last year) as the data it was given.
    page_trend, data_trend = pd.DataFrame(out["all"]["trend"]), pd.DataFrame(data["trend"])
    pd.testing.assert_frame_equal(page_trend[data_trend.columns], data_trend, check_dtype=False)
    assert out["all"]["revenue28"] == pytest.approx(data["kpis"]["revenue_last_28_days"])
    assert out["all"]["quantity28"] == pytest.approx(data["kpis"]["quantity_last_28_days"])
    assert out["all"]["totalRevenue"] == pytest.approx(data["kpis"]["total_revenue"])
    assert "same weekday last year" in out["all"]["trendLegend"] and "7-day average" in out["all"]["trendLegend"]
    assert out["tooltip"]["hidden"] is False and f"{SHOP_LAST.isoformat()} (Mon)" in out["tooltip"]["text"]
    assert "Quantity: 405" in out["tooltip"]["text"] and "same weekday last year: 41" in out["tooltip"]["text"]
    assert out["revenueLegend"].startswith("■ Revenue")

    # Status bars: riskiest first, coloured by status; the lowest-cover table names stores and products.
    assert out["all"]["status"] == [["stockout risk", "#d64545"], ["reorder", "#f0b429"], ["ok", "#3ebd93"],
                                    ["overstock", "#2680c2"]]
    assert [row[:3] + row[6:] for row in out["all"]["lowest"]] == [
        ["S2", "Tea", "stockout risk", "20"], ["North", "Tea", "reorder", "400"],
        ["S2", HOSTILE_PRODUCT, "reorder", "5"], [HOSTILE_STORE, "P4", "ok", "0"], ["North", "Soap", "overstock", "0"]]

    # Store S2 (P1 at 3 and P3 at 4 a day): KPIs, top products, stock and the store's forecast level follow.
    store = out["store"]
    assert store["revenue28"] == 28 * 7 and store["quantity28"] == 28 * 2 and store["totalRevenue"] == 400 * 7
    assert store["top"] == ["P3", "P1"] and [row[1] for row in store["lowest"]] == ["Tea", HOSTILE_PRODUCT]
    assert [s for s, _ in store["status"]] == ["stockout risk", "reorder"]
    assert store["forecastMarks"] == 56 + 14, "history and the S2 level's p50 (no actual yet)"
    assert out["storeCategory"]["top"] == ["P3", "P1"] and out["storeCategory"]["forecastMarks"] == 56 + 14
    assert out["category"]["top"] == ["P1", "P3"] and out["category"]["revenue28"] == 28 * 7 + 3 * sum(range(373, 401))
    assert out["reset"]["revenue28"] == out["all"]["revenue28"] and out["reset"]["top"] == out["all"]["top"]

    # Drill-down: the top product is shown first; clicking the second shows its own trend and forecast.
    assert out["all"]["drill"] == "Daily quantity and forecast: Tea (all stores)"
    assert out["clicked"]["drill"] == "Daily quantity and forecast: Soap (all stores)"
    assert out["clicked"]["drillMarks"] == 91 + 14

    # Hostile names stay text: nothing they spell becomes an element or runs.
    assert out["title"] == "NEX GEN sales dashboard" and "<img" not in dom and "<b>bold" not in dom
    assert HOSTILE_STORE in out["options"]
    assert html.escape(HOSTILE_STORE, quote=False) in dom


def test_products_the_latest_run_does_not_forecast_drill_down_to_their_sales_only(engine):
    publish_known_marts(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE fact_forecast SET product_id = 'P9'"))
    apply_views(engine)
    drill = dashboard_data(engine)["drill"]
    assert [(p["product"], len(p["quantity"]), p["p50"]) for p in drill["products"]] == [("P1", DAYS, []), ("P2", DAYS, [])]


def test_a_warehouse_without_sales_renders_an_empty_page(engine):
    facts = publish_known_marts(engine)
    wh.replace_table(engine, "fact_sales_daily", facts.iloc[:0])
    data = dashboard_data(engine)
    assert data["data_as_of"] is None and data["trend"] == [] and data["top_products"] == []
    assert 'Data as of <strong id="data-as-of">no sales yet</strong>' in render_dashboard(data)


def test_the_embedded_data_cannot_close_the_script_tag():
    data = {"generated_at": "now", "data_as_of": "2025-01-01",
            "products": [{"id": "P1", "name": "</script><b>x</b>", "category": 0},
                         {"id": "P2", "name": "<!--<script>&", "category": 0}],
            "stores": [{"id": "S1", "label": "</script><!--"}], "categories": [{"id": "{{data}}", "label": "{{nav}}"}],
            "trend": [], "top_products": []}
    html_text = render_dashboard(data)
    payload = html_text.split('id="nexgen-data">', 1)[1].split("</script>", 1)[0]
    parsed = json.loads(payload)
    assert [p["name"] for p in parsed["products"]] == ["</script><b>x</b>", "<!--<script>&"]
    assert parsed["stores"][0]["label"] == "</script><!--" and parsed["categories"][0] == {"id": "{{data}}",
                                                                                          "label": "{{nav}}"}
    assert "<" not in payload and ">" not in payload
