import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.champion import (
    champion_components,
    champion_manifests,
    choose_champion,
    interval_quantiles,
    registry_row,
    serving_champion,
)


def _board(mase: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"model": m, "scope": "all", "mase": v, "rmse": v, "mae": v, "wape": v, "coverage_p10_p90": 0.8,
          "model_version": "v1"} for m, v in mase.items()]
    )


def test_champion_must_beat_the_baseline():
    promoted = choose_champion(_board({"seasonal_naive": 1.0, "xgboost": 0.7, "lstm": 0.8}))
    assert promoted.model == "xgboost" and promoted.promoted
    refused = choose_champion(_board({"seasonal_naive": 0.6, "xgboost": 0.7, "lstm": 0.8}))
    assert refused.model == "xgboost" and not refused.promoted
    assert "does not beat seasonal_naive" in refused.reason


QUANTILES = pd.DataFrame({"level": "series", "segment": "fast", "horizon_bucket": ["h01-07", "h08-14"],
                          "q10": [-1.0, -1.5], "q50": [0.0, -0.1], "q90": [1.0, 1.5]})


def test_a_blend_can_be_champion_and_is_registered_with_its_components_and_weights():
    decision = choose_champion(_board({"seasonal_naive": 1.0, "xgboost": 0.7, "segment_blend": 0.6}))
    assert decision.model == "segment_blend" and decision.promoted
    weights = {"fast": {"xgboost": 0.7, "lstm": 0.3}, "intermittent": {"ets": 1.0}}
    versions = {"xgboost": "x1", "lstm": "l1", "ets": "e1", "random_forest": "r1"}
    manifests = {m: m[0] * 64 for m in versions}
    row = registry_row(decision, "blend-abc", versions, manifests, weights, ["/m/x1"], _board({"b": 0.6}).iloc[0],
                       QUANTILES, "r")
    used, read_weights = champion_components(row.iloc[0])
    assert used == {"ets": "e1", "lstm": "l1", "xgboost": "x1"} and read_weights == weights
    assert champion_manifests(row.iloc[0]) == {"ets": "e" * 64, "lstm": "l" * 64, "xgboost": "x" * 64}


def test_a_component_is_registered_only_with_its_manifest_hash_and_old_rows_are_not_served():
    decision = choose_champion(_board({"seasonal_naive": 1.0, "xgboost": 0.7}))
    one = {"all": {"xgboost": 1.0}}
    with pytest.raises(ValueError, match=r"no manifest sha256 for \['xgboost'\]"):
        registry_row(decision, "v1", {"xgboost": "v1"}, {}, one, ["/m/v1"], _board({"xgboost": 0.7}).iloc[0], QUANTILES, "r")
    old = pd.Series({"registry_id": "r0", "model_name": "xgboost", "model_version": "v0",
                     "components": '{"xgboost": "v0"}', "weights": '{"all": {"xgboost": 1.0}}'})
    assert champion_components(old) == ({"xgboost": "v0"}, one)
    with pytest.raises(LookupError, match=r"row r0 records no manifest sha256 for \['xgboost'\]"):
        champion_manifests(old)
    with pytest.raises(LookupError, match="no manifest sha256"):
        champion_manifests(old.drop(["components", "weights"]))


def test_registry_serves_the_latest_promotion():
    decision = choose_champion(_board({"seasonal_naive": 1.0, "xgboost": 0.7}))
    one = {"all": {"xgboost": 1.0}}
    first = registry_row(decision, "v1", {"xgboost": "v1"}, {"xgboost": "1" * 64}, one, ["/m/v1"],
                         _board({"xgboost": 0.7}).iloc[0], QUANTILES, "run-a")
    second = registry_row(decision, "v2", {"xgboost": "v2"}, {"xgboost": "2" * 64}, one, ["/m/v2"],
                          _board({"xgboost": 0.6}).iloc[0], QUANTILES, "run-b")
    second["promoted_at"] = first["promoted_at"] + pd.Timedelta(seconds=5)
    row = serving_champion(pd.concat([second, first]))
    assert row["model_version"] == "v2"
    pd.testing.assert_frame_equal(interval_quantiles(row), QUANTILES.assign(model="xgboost"))
    assert champion_components(row) == ({"xgboost": "v2"}, one) and champion_manifests(row) == {"xgboost": "2" * 64}
    with pytest.raises(LookupError, match="champion_model"):
        serving_champion(pd.DataFrame())
