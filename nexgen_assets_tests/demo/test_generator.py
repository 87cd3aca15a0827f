import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.demo.generator import DEFECT_KINDS, PROFILES, GeneratorConfig, generate, inject_defects

PROMOTED = GeneratorConfig(stores=2, products=12, days=240, holdout_days=28, seed=5, defect_rate=0.0, formats=("csv",))


def test_same_seed_same_files(tmp_path):
    config = GeneratorConfig(stores=2, products=3, days=60, holdout_days=7, seed=3, formats=("csv",))
    first = generate(tmp_path / "a", config)
    second = generate(tmp_path / "b", config)
    assert [p.name for p in first.sales_files] == ["sales_2024-01.csv", "sales_2024-02.csv"]
    assert [p.name for p in first.inventory_files] == ["inventory_2024-01.csv", "inventory_2024-02.csv"]
    assert [p.name for p in first.promotion_files] == ["promotions_2024.csv"]
    assert all(n > 0 for n in first.lines_per_file.values())
    truth = ["oracle.parquet", "holdout_actuals.csv", "manifest.json"]
    pairs = [
        *zip(first.sales_files, second.sales_files, strict=True),
        *zip(first.inventory_files, second.inventory_files, strict=True),
        *zip(first.promotion_files, second.promotion_files, strict=True),
        *((first.truth / name, second.truth / name) for name in truth),
    ]
    assert len(pairs) == 8
    for a, b in pairs:
        assert a.name == b.name and a.stat().st_size > 0, a
        assert a.read_bytes() == b.read_bytes()


def test_other_seed_other_data(tmp_path):
    a = generate(tmp_path / "a", GeneratorConfig(stores=2, products=3, days=60, holdout_days=7, seed=1))
    b = generate(tmp_path / "b", GeneratorConfig(stores=2, products=3, days=60, holdout_days=7, seed=2))
    assert a.lines_per_file != b.lines_per_file


def test_holdout_days_are_not_landed(small_dataset):
    manifest = json.loads((small_dataset / "truth" / "manifest.json").read_text())
    holdout = pd.read_csv(small_dataset / "truth" / "holdout_actuals.csv", parse_dates=["date"])
    assert holdout["date"].min() == pd.Timestamp(manifest["holdout_start"])
    assert holdout["date"].nunique() == 14
    inventory = pd.concat(pd.read_csv(p) for p in sorted((small_dataset / "incoming").glob("inventory_*.csv")))
    assert inventory["snapshot_date"].max() == manifest["last_landed_date"]


def test_sales_never_exceed_stock_and_stockouts_happen(small_dataset):
    oracle = pd.read_parquet(small_dataset / "truth" / "oracle.parquet")
    assert (oracle["sales_units"] <= oracle["demand"]).all()
    assert ((oracle["sales_units"] < oracle["demand"]) & (oracle["stock_on_hand"] == 0)).any()
    assert (oracle["quantity"] == 0).mean() > 0.05


def test_every_file_format_is_written(small_dataset):
    suffixes = {p.name.split(".", 1)[1] for p in (small_dataset / "incoming").glob("sales_*")}
    assert suffixes == {"csv", "csv.gz", "parquet", "jsonl"}


def test_defects_are_injected_and_counted():
    lines = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(1000)],
            "order_ts": ["2024-01-01T10:00:00"] * 1000,
            "product_id": ["P1"] * 1000,
            "unit_price": np.ones(1000),
        }
    )
    corrupted, counts = inject_defects(lines, 0.02, np.random.default_rng(0))
    assert sum(counts.values()) == 20 and set(counts) == set(DEFECT_KINDS)
    assert len(corrupted) == 1000 + counts["duplicate_line"]
    assert (corrupted["order_id"] == "").sum() == counts["missing_order_id"]
    assert (corrupted["unit_price"] < 0).sum() == counts["negative_price"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"stores": 0}, "stores"),
        ({"holdout_days": 900}, "holdout_days"),
        ({"formats": ("xls",)}, "formats"),
        ({"demand_scale": 0.0}, "demand_scale"),
        ({"demand_scale": float("nan")}, "demand_scale"),
        ({"closed_days": ("boxing_day",)}, "closed_days"),
        ({"closed_days": "christmas"}, "closed_days"),
        ({"slow_mover_share": 1.5}, "slow_mover_share"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GeneratorConfig(**kwargs)


def test_profiles_are_configs_whose_fields_can_be_replaced():
    assert PROFILES["demo"] == GeneratorConfig()
    shop = GeneratorConfig.for_profile("shop", products=20, seed=3)
    assert (shop.stores, shop.products, shop.seed, shop.days) == (1, 20, 3, PROFILES["shop"].days)
    assert shop.closed_days == PROFILES["shop"].closed_days
    with pytest.raises(ValueError, match="profile"):
        GeneratorConfig.for_profile("mall")
    with pytest.raises(ValueError, match="products"):
        GeneratorConfig.for_profile("shop", products=0)


def _sales_lines(dataset) -> pd.DataFrame:
    lines = pd.concat(pd.read_csv(p) for p in sorted((dataset / "incoming").glob("sales_*.csv")))
    return lines.assign(date=lines["order_ts"].str[:10])


def _promotion_days(calendar: pd.DataFrame) -> set[tuple[str, str, str]]:
    """Every (store, product, ISO date) a listed promotion covers, both ends included."""
    return {
        (row.store_id, row.product_id, day.strftime("%Y-%m-%d"))
        for row in calendar.itertuples()
        for day in pd.date_range(row.start_date, row.end_date)
    }


@pytest.fixture(scope="module")
def shop_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("shop")
    generate(out, PROFILES["shop"])
    return out


@pytest.fixture(scope="module")
def promoted_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("promoted")
    generate(out, PROMOTED)
    return out


def test_shop_is_one_small_store_with_a_year_of_low_intermittent_sales(shop_dataset):
    manifest = json.loads((shop_dataset / "truth" / "manifest.json").read_text())
    oracle = pd.read_parquet(shop_dataset / "truth" / "oracle.parquet")
    inventory = pd.concat(pd.read_csv(p) for p in sorted((shop_dataset / "incoming").glob("inventory_*.csv")))
    assert oracle["store_id"].nunique() == 1 and 80 <= oracle["product_id"].nunique() <= 100
    assert inventory["snapshot_date"].nunique() == 365
    assert (manifest["last_landed_date"], manifest["holdout_start"]) == ("2024-12-30", "2024-12-31")
    assert oracle["date"].nunique() == 365 + 28

    observed = oracle[oracle["date"] <= pd.Timestamp(manifest["last_landed_date"]).date()]
    quantity = observed["quantity"]
    assert quantity.median() <= 1 and quantity.mean() < 3
    assert (quantity == 0).mean() > 0.4
    assert (quantity <= 10).mean() > 0.95
    per_product = observed.groupby("product_id")["quantity"]
    assert (per_product.apply(lambda q: (q == 0).mean()) > 0.5).sum() >= 25
    assert 1 <= (per_product.mean() >= 3).sum() <= 25

    weekday_mean = observed.groupby(pd.to_datetime(observed["date"]).dt.dayofweek)["quantity"].mean()
    assert weekday_mean.idxmax() in (4, 5) and weekday_mean.max() > 1.1 * weekday_mean.min()
    regular = observed[observed["promo"] == 0]
    assert (regular.groupby("product_id")["price"].nunique() > 1).sum() >= 10
    calendar = pd.read_csv(shop_dataset / "incoming" / "promotions_2024.csv")
    assert calendar["product_id"].nunique() >= 80


def test_shop_closed_days_sell_nothing_in_sales_or_truth(shop_dataset):
    closed = ["2024-01-01", "2024-03-31", "2024-12-25", "2025-01-01"]
    manifest = json.loads((shop_dataset / "truth" / "manifest.json").read_text())
    assert manifest["closed_dates"] == closed
    lines = _sales_lines(shop_dataset)
    assert not lines["date"].isin(closed).any()
    assert lines["date"].isin(["2024-12-24", "2024-12-26"]).sum() > 10

    oracle = pd.read_parquet(shop_dataset / "truth" / "oracle.parquet")
    on_closed = oracle[oracle["date"].astype(str).isin(closed)]
    assert len(on_closed) == 4 * oracle["product_id"].nunique()
    assert (on_closed[["expected_demand", "demand", "sales_units", "quantity"]] == 0).all().all()
    holdout = pd.read_csv(shop_dataset / "truth" / "holdout_actuals.csv")
    new_year = holdout[holdout["date"] == "2025-01-01"]
    assert len(new_year) == oracle["product_id"].nunique()
    assert (new_year[["quantity", "expected_demand"]] == 0).all().all()
    assert holdout.loc[holdout["date"] == "2025-01-02", "quantity"].sum() > 0


def test_promotion_calendar_matches_the_promo_flag_of_sales_lines(promoted_dataset):
    calendar = pd.read_csv(promoted_dataset / "incoming" / "promotions_2024.csv")
    assert list(calendar.columns) == ["store_id", "product_id", "start_date", "end_date", "discount"]
    assert calendar["store_id"].value_counts().to_dict() == {"S001": len(calendar) // 2, "S002": len(calendar) // 2}
    assert (calendar["start_date"] <= calendar["end_date"]).all()
    assert calendar["discount"].between(0, 1, inclusive="neither").all()
    listed = _promotion_days(calendar)

    # a return is dated later but carries the flag and price of the sale it reverses, so sales only
    sold = _sales_lines(promoted_dataset).query("quantity > 0")
    keys = set(zip(sold["store_id"], sold["product_id"], sold["date"], strict=True))
    promo_keys = set(zip(*(sold.loc[sold["promo"] == 1, c] for c in ("store_id", "product_id", "date")), strict=True))
    assert len(promo_keys) > 20
    assert promo_keys <= listed
    assert keys & listed == promo_keys

    oracle = pd.read_parquet(promoted_dataset / "truth" / "oracle.parquet")
    flagged = oracle[oracle["promo"]]
    assert listed == set(zip(flagged["store_id"], flagged["product_id"], flagged["date"].astype(str), strict=True))


def test_promotion_discount_is_the_cut_from_the_regular_price(promoted_dataset):
    calendar = pd.read_csv(promoted_dataset / "incoming" / "promotions_2024.csv")
    oracle = pd.read_parquet(promoted_dataset / "truth" / "oracle.parquet")
    price = oracle.assign(date=oracle["date"].astype(str)).set_index(["store_id", "product_id", "date"])["price"]
    later = calendar[calendar["start_date"] > "2024-01-01"]
    day_before = (pd.to_datetime(later["start_date"]) - pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d")
    regular = price.loc[list(zip(later["store_id"], later["product_id"], day_before, strict=True))].to_numpy()
    promoted = price.loc[list(zip(later["store_id"], later["product_id"], later["start_date"], strict=True))].to_numpy()
    assert len(later) > 10
    np.testing.assert_allclose(promoted, np.round(regular * (1 - later["discount"].to_numpy()), 2), atol=1e-9)


def test_promotions_are_planned_into_the_holdout(promoted_dataset, shop_dataset):
    for dataset in (promoted_dataset, shop_dataset):
        manifest = json.loads((dataset / "truth" / "manifest.json").read_text())
        calendar = pd.read_csv(dataset / "incoming" / manifest["promotion_files"][0])
        assert (calendar["end_date"] >= manifest["holdout_start"]).any()
        assert (calendar["start_date"] > manifest["last_landed_date"]).any()
        last_day = pd.Timestamp(manifest["config"]["start"]) + pd.Timedelta(days=manifest["config"]["days"] - 1)
        assert calendar["end_date"].max() <= last_day.strftime("%Y-%m-%d")


def test_defects_leave_the_promotion_calendar_alone(tmp_path):
    clean = generate(tmp_path / "clean", PROMOTED)
    defective = generate(tmp_path / "defective", replace(PROMOTED, defect_rate=0.05))
    assert sum(sum(d.values()) for d in defective.defects_per_file.values()) > 100
    assert clean.promotion_files[0].read_bytes() == defective.promotion_files[0].read_bytes()
    assert pd.read_csv(defective.promotion_files[0]).notna().all().all()


def test_the_store_and_product_lists_describe_the_generated_ids(small_dataset):
    incoming = small_dataset / "incoming"
    stores = pd.read_csv(incoming / "stores.csv")
    products = pd.read_csv(incoming / "products.csv")
    lines = pd.concat(pd.read_csv(p) for p in sorted(incoming.glob("sales_*.csv")))
    assert list(stores.columns) == ["store_id", "store_name", "region", "format", "opening_date"]
    assert list(products.columns) == ["product_id", "product_name", "brand", "category", "subcategory", "size"]
    assert set(stores["store_id"]) == set(lines["store_id"]) and stores.notna().all().all()
    assert stores["store_name"].is_unique and pd.to_datetime(stores["opening_date"]).notna().all()
    named = lines.dropna(subset=["product_id"]).drop_duplicates("product_id").set_index("product_id")
    listed = products.set_index("product_id")
    assert set(listed.index) >= set(named.index)
    assert (listed.loc[named.index, ["product_name", "category"]] == named[["product_name", "category"]]).all().all()
