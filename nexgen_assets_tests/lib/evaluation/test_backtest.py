"""Rolling-origin backtests on one small synthetic panel: shared origins, no training on scored days."""

import datetime as dt

import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.backtest import backtest_models, fold_origins, run_backtest, scored_windows, split_at
from nexgen_assets.lib.models.catalog import build_model
from nexgen_assets.lib.models.inputs import history_of
from nexgen_assets_tests.lib.conftest import FAST, H, feature_panel


def test_folds_share_origins_and_never_train_on_the_scored_days():
    panel = feature_panel()
    observed = panel[~panel["is_future"]]
    history = history_of(panel)
    last = max(history["date"])
    origins = fold_origins(last, H, 3, seasonal=False)
    assert origins == [last - dt.timedelta(days=84), last - dt.timedelta(days=56), last - dt.timedelta(days=28)]
    assert fold_origins(last, H, 3) == [last - dt.timedelta(days=364), *origins]
    past, train, future = split_at(history, observed, origins[0], H)
    assert max(past["date"]) == origins[0] and max(train["date"]) == origins[0]
    assert min(future["date"]) == origins[0] + dt.timedelta(days=1)
    assert max(future["date"]) == origins[0] + dt.timedelta(days=H)
    models = {n: build_model(n, FAST[n]) for n in ("seasonal_naive", "xgboost")}
    scored, timings = run_backtest(models, history, observed, H, 3)
    assert set(scored.groupby("model")["fold"].nunique()) == {3}
    keys = {
        name: sorted(zip(g["fold"], g["store_id"], g["product_id"], g["date"], strict=True))
        for name, g in scored.groupby("model")
    }
    assert keys["seasonal_naive"] == keys["xgboost"]
    assert scored["horizon"].between(1, H).all() and len(timings) == 6


def test_short_history_uses_the_folds_that_fit_and_names_the_shortfall():
    panel = feature_panel(days=100)
    observed = panel[~panel["is_future"]]
    models = {"seasonal_naive": build_model("seasonal_naive")}
    scored, _ = run_backtest(models, history_of(panel), observed, H, 3)
    assert scored["fold"].nunique() == 1
    tiny = feature_panel(days=60)
    with pytest.raises(ValueError, match="at least 84 days of history; daily_sales has 60"):
        run_backtest(models, history_of(tiny), tiny[~tiny["is_future"]], H, 3)


def test_backtest_outcome_holds_versioned_error_sums_interval_quantiles_and_timings():
    panel = feature_panel(days=100)
    last = max(history_of(panel)["date"])
    observed = panel[~panel["is_future"]]
    outcome = backtest_models(
        {"seasonal_naive": build_model("seasonal_naive")}, {"seasonal_naive": "sn-v7"}, history_of(panel), observed, 3
    )
    assert outcome.origins == [last - dt.timedelta(days=H)]
    assert outcome.scored_points == 6 * H
    single = outcome.sums[outcome.sums["model"] == "seasonal_naive"]
    assert set(single["model_version"]) == {"sn-v7"} and single["n"].sum() == 6 * H
    assert set(single["horizon_bucket"]) == {"h01-07", "h08-14", "h15-21", "h22-28"}
    quantiles = outcome.interval_quantiles
    assert set(quantiles["level"]) == {"series", "total", "store", "category", "store_category"}
    series = quantiles[(quantiles["model"] == "seasonal_naive") & (quantiles["level"] == "series")]
    assert set(series["horizon_bucket"]) == {"h01-07", "h08-14", "h15-21", "h22-28", "all"}
    assert ((quantiles["q10"] <= quantiles["q50"]) & (quantiles["q50"] <= quantiles["q90"])).all()
    assert outcome.timings["model"].tolist() == ["seasonal_naive"]


def test_every_candidate_is_scored_on_the_same_points_and_blends_name_their_weights():
    panel = feature_panel(series=6, days=150)
    models = {n: build_model(n, FAST[n]) for n in ("seasonal_naive", "xgboost")}
    outcome = backtest_models(models, {"seasonal_naive": "sn-v1", "xgboost": "xgb-v1"}, history_of(panel), panel, 2)
    points = outcome.sums.groupby("model")["n"].sum()
    assert set(points.index) == {"seasonal_naive", "xgboost", "blend", "segment_choice", "segment_blend"}
    assert points.nunique() == 1
    table = outcome.weight_table()
    blend = table[table["model"] == "blend"]
    assert blend["weight"].sum() == pytest.approx(1.0, abs=1e-3) and set(blend["component"]) <= {"seasonal_naive", "xgboost"}
    assert outcome.versions["blend"].startswith("blend-") and outcome.versions["xgboost"] == "xgb-v1"


def test_the_seasonal_fold_scores_the_same_weeks_a_year_earlier_when_history_allows():
    panel = feature_panel(series=2, days=440)
    observed = panel[~panel["is_future"]]
    history = history_of(panel)
    last = max(history["date"])
    scored, _ = run_backtest({"seasonal_naive": build_model("seasonal_naive")}, history, observed, H, 2)
    origins = sorted(scored["origin"].unique())
    assert origins == [last - dt.timedelta(days=364), last - dt.timedelta(days=56), last - dt.timedelta(days=28)]
    plain, _ = run_backtest({"seasonal_naive": build_model("seasonal_naive")}, history, observed, H, 2, seasonal=False)
    assert plain["origin"].nunique() == 2


def test_a_sampled_training_set_is_scored_on_every_series_and_day_of_the_complete_scoring_rows():
    panel = feature_panel(series=4, days=150)
    observed = panel[~panel["is_future"]].reset_index(drop=True)
    history = history_of(panel)
    windows = scored_windows(history, 2, seasonal=False)
    last = max(history["date"])
    assert windows == [(last - dt.timedelta(days=56), last - dt.timedelta(days=28)), (last - dt.timedelta(days=28), last)]
    days = observed["date"]
    scoring = observed[[any(start < d <= end for start, end in windows) for d in days]]
    models = {"xgboost": build_model("xgboost", FAST["xgboost"])}
    full, full_timings = run_backtest(models, history, observed, H, 2, seasonal=False)
    same, _ = run_backtest(models, history, observed, H, 2, seasonal=False, scoring=scoring)
    pd.testing.assert_frame_equal(full, same)
    sample = observed.sample(frac=0.3, random_state=1)
    sampled, timings = run_backtest(models, history, sample, H, 2, seasonal=False, scoring=scoring)
    assert len(sampled) == len(full) == 4 * 2 * H
    assert (sampled[["fold", "store_id", "product_id", "date"]] == full[["fold", "store_id", "product_id", "date"]]).all().all()
    assert (timings["training_rows"] < 0.5 * full_timings["training_rows"]).all()
