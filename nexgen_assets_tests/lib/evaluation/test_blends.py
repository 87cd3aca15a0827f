"""Blend candidates: weights learned on other folds, summing to one, per segment where asked."""

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.blends import blend_version, combine, components, fit_blends, honest_candidates


def _wide(n=600, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(1, 20, n)
    segment = np.where(np.arange(n) % 2 == 0, "fast", "intermittent")
    good_fast = np.where(segment == "fast", truth, truth * 2) + rng.normal(0, 0.3, n)
    good_slow = np.where(segment == "intermittent", truth, truth * 0.3) + rng.normal(0, 0.3, n)
    return pd.DataFrame({
        "fold": np.arange(n) % 3 + 1, "origin": "o", "store_id": "S", "product_id": [f"P{i}" for i in range(n)],
        "category": "c", "segment": segment, "date": "d", "horizon": 1, "scale": 1.0,
        "actual": truth, "a": good_fast, "b": good_slow,
    })


def test_per_segment_choice_picks_the_model_that_is_right_for_each_segment():
    weights = fit_blends(_wide(), ["a", "b"])
    assert weights["segment_choice"] == {"fast": {"a": 1.0}, "intermittent": {"b": 1.0}}
    assert weights["segment_blend"]["fast"]["a"] > 0.95 and weights["segment_blend"]["intermittent"]["b"] > 0.95
    assert sum(weights["blend"]["all"].values()) == pytest.approx(1.0, abs=1e-3)


def test_blend_weights_are_a_convex_combination_even_when_a_scaled_model_fits_exactly():
    wide = _wide().assign(a=lambda f: f["actual"] * 2, b=lambda f: f["actual"] * 0.5)
    weights = fit_blends(wide, ["a", "b"])["blend"]["all"]
    assert weights["a"] == pytest.approx(1 / 3, abs=0.01) and weights["b"] == pytest.approx(2 / 3, abs=0.01)


def test_combine_applies_segment_weights_row_by_row():
    frame = pd.DataFrame({"segment": ["fast", "intermittent"], "a": [10.0, 10.0], "b": [2.0, 2.0]})
    out = combine(frame, {"fast": {"a": 1.0}, "intermittent": {"a": 0.5, "b": 0.5}})
    assert out.tolist() == [10.0, 6.0]
    assert components({"fast": {"a": 1.0}, "intermittent": {"a": 0.5, "b": 0.5}}) == ["a", "b"]


def test_honest_candidates_score_each_fold_with_weights_from_the_other_folds():
    wide = _wide()
    wide.loc[wide["fold"] == 1, "a"] = wide.loc[wide["fold"] == 1, "actual"]
    points, weights = honest_candidates(wide, ["a", "b"])
    assert set(points["model"]) == {"a", "b", "blend", "segment_choice", "segment_blend"}
    choice = points[(points["model"] == "segment_choice") & (points["fold"] == 1) & (points["segment"] == "intermittent")]
    assert (choice["forecast"].to_numpy() == wide.loc[(wide["fold"] == 1) & (wide["segment"] == "intermittent"), "b"]).all()
    assert points.groupby("model").size().nunique() == 1
    assert blend_version(weights["blend"], {"a": "v1", "b": "v2"}) != blend_version(weights["blend"], {"a": "v1", "b": "v3"})
