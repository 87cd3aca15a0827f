"""The tree models' shared encoding: a fixed numeric matrix, category codes fixed at fit time."""

import json

import numpy as np
import pandas as pd

from nexgen_assets.lib.features.feature_table import feature_columns
from nexgen_assets.lib.models.tabular import CATEGORICAL, TabularEncoder, non_negative, training_rows

H = 7


def _rows(stores, products, categories=None) -> pd.DataFrame:
    n = len(stores)
    frame = pd.DataFrame({col: np.arange(n, dtype="int64") for col in feature_columns(H)})
    return frame.assign(store_id=stores, product_id=products, category=categories or ["c"] * n)


def test_encoder_fixes_levels_at_fit_and_codes_unseen_as_minus_one():
    encoder = TabularEncoder(H).fit(_rows(["S2", "S1", "S2"], ["P1", "P2", None]))
    assert encoder.columns == [*feature_columns(H), *CATEGORICAL]
    assert encoder.levels == {"store_id": ["S1", "S2"], "product_id": ["P1", "P2"], "category": ["c"]}

    codes = encoder.transform(_rows(["S1", "S9"], ["P2", "P1"], ["c", "new"]), as_category=False)
    assert codes["store_id"].tolist() == [0.0, -1.0] and codes["product_id"].tolist() == [1.0, 0.0]
    assert codes["category"].tolist() == [0.0, -1.0]
    assert (codes.dtypes == "float32").all() and list(codes.columns) == encoder.columns

    categories = encoder.transform(_rows(["S1", "S9"], ["P2", "P1"]), as_category=True)
    assert list(categories["store_id"].cat.categories) == ["S1", "S2"]
    assert categories["store_id"].iloc[0] == "S1" and pd.isna(categories["store_id"].iloc[1])
    assert categories[feature_columns(H)].dtypes.eq("float32").all()


def test_training_rows_need_a_target_and_the_first_lag_and_are_sampled_reproducibly():
    train = pd.DataFrame({"quantity": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0],
                          f"lag_{H}": [np.nan, 1.0, 1.0, 1.0, 1.0, 1.0]})
    usable = training_rows(train, H, max_rows=None, seed=0)
    assert usable.index.tolist() == [2, 3, 4, 5]
    sampled = training_rows(train, H, max_rows=2, seed=3)
    assert len(sampled) == 2 and set(sampled.index) <= {2, 3, 4, 5}
    assert sampled.index.tolist() == training_rows(train, H, max_rows=2, seed=3).index.tolist()
    assert len(training_rows(train, H, max_rows=10, seed=3)) == 4


def test_non_negative_clips_below_zero_as_float64():
    out = non_negative([-1.5, 0.0, 2.5])
    assert out.dtype == np.float64 and out.tolist() == [0.0, 0.0, 2.5]


def test_encoder_round_trips_through_json_with_its_fitted_columns():
    encoder = TabularEncoder(H).fit(_rows(["S2", "S1"], ["P1", "P2"]))
    encoder.numeric = encoder.numeric[:3]
    restored = TabularEncoder.from_json(json.loads(json.dumps(encoder.to_json())))
    assert (restored.lag, restored.numeric, restored.levels) == (H, encoder.numeric, encoder.levels)
    rows = _rows(["S1", "S9"], ["P2", "P1"])
    pd.testing.assert_frame_equal(restored.transform(rows, as_category=True), encoder.transform(rows, as_category=True))
