"""The shared grain: every horizon-dependent default follows HORIZON_DAYS, and the buckets cover it."""

from nexgen_assets.lib.evaluation.metrics import HORIZON_BUCKETS
from nexgen_assets.lib.features.feature_table import feature_columns
from nexgen_assets.lib.grain import HORIZON_DAYS, MODEL_SPANS, SERIES_KEYS
from nexgen_assets.lib.models.catalog import MODELS


def test_series_are_store_and_product():
    assert SERIES_KEYS == ["store_id", "product_id"]


def test_horizon_defaults_follow_the_grain():
    assert feature_columns() == feature_columns(HORIZON_DAYS)
    assert f"lag_{HORIZON_DAYS}" in feature_columns()
    for name, model in MODELS.items():
        assert model().params.get("horizon", HORIZON_DAYS) == HORIZON_DAYS, name


def test_horizon_buckets_cover_every_day_once():
    days = [d for lo, hi in HORIZON_BUCKETS for d in range(lo, hi + 1)]
    assert days == list(range(1, HORIZON_DAYS + 1))


def test_model_spans_cover_every_day_once_and_their_lags_exist():
    days = [d for lo, hi in MODEL_SPANS for d in range(lo, hi + 1)]
    assert days == list(range(1, HORIZON_DAYS + 1))
    for _, last in MODEL_SPANS:
        assert f"lag_{last}" in feature_columns(last)
