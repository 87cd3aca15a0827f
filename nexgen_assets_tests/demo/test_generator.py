import json

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.demo.generator import DEFECT_KINDS, GeneratorConfig, generate, inject_defects


def test_same_seed_same_files(tmp_path):
    config = GeneratorConfig(stores=2, products=3, days=60, holdout_days=7, seed=3, formats=("csv",))
    first = generate(tmp_path / "a", config)
    second = generate(tmp_path / "b", config)
    assert [p.name for p in first.sales_files] == ["sales_2024-01.csv", "sales_2024-02.csv"]
    assert [p.name for p in first.inventory_files] == ["inventory_2024-01.csv", "inventory_2024-02.csv"]
    assert all(n > 0 for n in first.lines_per_file.values())
    truth = ["oracle.parquet", "holdout_actuals.csv", "manifest.json"]
    pairs = [
        *zip(first.sales_files, second.sales_files, strict=True),
        *zip(first.inventory_files, second.inventory_files, strict=True),
        *((first.truth / name, second.truth / name) for name in truth),
    ]
    assert len(pairs) == 7
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
    [({"stores": 0}, "stores"), ({"holdout_days": 900}, "holdout_days"), ({"formats": ("xls",)}, "formats")],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GeneratorConfig(**kwargs)
