"""Live accuracy: incremental scoring against a full rescore (SQLite and PostgreSQL), retention, the verdict."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.live_accuracy import (
    ACCURACY_KEY,
    ACCURACY_TABLE,
    expired_runs,
    forecasts_with_actuals,
    judge_live_accuracy,
    rescore_accuracy,
    run_error_sums,
    score_points,
)
from nexgen_assets.lib.evaluation.metrics import error_sums
from nexgen_assets.lib.storage import warehouse as wh

D0 = dt.date(2025, 1, 1)
SERIES = [("S1", "P1"), ("S1", "P2"), ("S2", "P1")]
RUN_KEY = ["forecast_run_id", "store_id", "product_id", "date"]


def _day(k: int) -> dt.date:
    return D0 + dt.timedelta(days=k)


def _sales(days: int) -> pd.DataFrame:
    """Every series' actuals for days 0 .. days-1, fixed by the seed (so a longer history starts the same)."""
    rng = np.random.default_rng(5)
    quantity = rng.poisson(8, size=(len(SERIES), 400)).astype(float)
    return pd.DataFrame(
        [(s, p, _day(k), quantity[i, k]) for i, (s, p) in enumerate(SERIES) for k in range(days)],
        columns=["store_id", "product_id", "date", "quantity"],
    )


def _publish_sales(engine, sales: pd.DataFrame) -> None:
    """fact_sales_daily as the mart publishes it: rebuilt in full."""
    wh.replace_table(engine, "fact_sales_daily", sales, ("store_id", "product_id", "date"), indexes=[("date",)])


def _publish_run(
    engine, run_id: str, origin: int, model_version: str = "v1", made: int | None = None, shift: float = 0.0
) -> pd.DataFrame:
    """One 28-day run from day `origin`, made (created_at) on day `made` (default the day after its origin),
    its median `shift`ed."""
    rng = np.random.default_rng(origin)
    rows = [(s, p, _day(origin + h), h) for s, p in SERIES for h in range(1, 29)]
    run = pd.DataFrame(rows, columns=["store_id", "product_id", "date", "horizon"])
    run.insert(0, "forecast_run_id", run_id)
    run.insert(1, "model_name", "xgboost")
    run.insert(2, "model_version", model_version)
    run.insert(3, "forecast_origin", _day(origin))
    run["mean"] = rng.uniform(4, 12, len(run))
    run["p50"] = run["mean"] - 0.5 + shift
    run["p10"] = run["p50"] - 4
    run["p90"] = run["p50"] + 4
    run["created_at"] = dt.datetime.combine(_day(origin + 1 if made is None else made), dt.time(5))
    wh.replace_rows(engine, "fact_forecast", run, ["forecast_run_id"], RUN_KEY, indexes=[("date",)])
    return run


def _normal(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy rows comparable whether read back from either warehouse or scored in memory."""
    out = frame.copy()
    for col in ("forecast_origin", "date"):
        out[col] = pd.to_datetime(out[col])
    out["in_interval"] = out["in_interval"].astype(bool)
    out["horizon"] = out["horizon"].astype("int64")
    return out[sorted(out.columns)].sort_values(list(ACCURACY_KEY)).reset_index(drop=True)


def _table(engine) -> pd.DataFrame:
    return _normal(wh.read_table(engine, ACCURACY_TABLE))


def _full_rescore(engine) -> pd.DataFrame:
    return _normal(score_points(forecasts_with_actuals(engine)))


@pytest.fixture
def scored_archive(engine):
    """Thirteen weekly runs over 100 days of actuals, scored once (a full pass: nothing was scored before)."""
    _publish_sales(engine, _sales(100))
    for origin in range(7, 98, 7):
        _publish_run(engine, f"r{origin:03d}", origin)
    scope, _, written = rescore_accuracy(engine, restatement_days=14)
    assert scope.since is None and written == len(_full_rescore(engine)) > 0
    return engine


def test_an_increment_after_new_runs_days_restatements_and_retractions_equals_a_full_rescore(scored_archive):
    engine = scored_archive
    sales = _sales(103)
    restated = (sales["store_id"] == "S1") & (sales["product_id"] == "P1") & (sales["date"] == _day(95))
    sales.loc[restated, "quantity"] += 50
    sales = sales[sales["date"] != _day(90)]
    _publish_sales(engine, sales)
    _publish_run(engine, "r098", 98)
    _publish_run(engine, "backfill", 30, made=99)
    before = _table(engine)

    scope, deleted, written = rescore_accuracy(engine, restatement_days=14)

    assert scope.since == _day(102 - 14) and scope.runs == ("backfill", "r098")
    full = _full_rescore(engine)
    pd.testing.assert_frame_equal(_table(engine), full)
    kept = full.merge(before, on=[*ACCURACY_KEY, "actual", "mean", "p10", "p50", "p90"])
    assert (written, deleted) == (len(full) - len(kept), len(before) - len(kept))
    restated, retracted = 4, 4 * len(SERIES)  # runs r070..r091 forecast day 95, runs r063..r084 day 90
    new_days, new_run, backfill = 3 * 3 * len(SERIES), 4 * len(SERIES), 28 * len(SERIES)  # r077..r091 reach day 102
    assert (deleted, written) == (restated + retracted, restated + new_days + new_run + backfill)


def test_a_late_actual_inside_the_window_is_rescored_and_one_before_it_waits_for_a_full_rescore(scored_archive):
    engine = scored_archive
    sales = _sales(100)
    s1p1 = (sales["store_id"] == "S1") & (sales["product_id"] == "P1")
    sales.loc[s1p1 & sales["date"].isin([_day(60), _day(92)]), "quantity"] = 99.0
    _publish_sales(engine, sales)

    rescore_accuracy(engine, restatement_days=14)

    table = _table(engine)
    actual = table[(table["store_id"] == "S1") & (table["product_id"] == "P1")].groupby("date")["actual"].unique()
    assert list(actual[pd.Timestamp(_day(92))]) == [99.0]
    assert 99.0 not in actual[pd.Timestamp(_day(60))]
    assert not table.equals(_full_rescore(engine))

    rescore_accuracy(engine, restatement_days=14, full=True)

    pd.testing.assert_frame_equal(_table(engine), _full_rescore(engine))


def test_a_run_published_again_with_other_values_is_rescored(scored_archive):
    engine = scored_archive
    _publish_run(engine, "r091", 91, shift=1.0)

    _, deleted, written = rescore_accuracy(engine, restatement_days=14)

    assert deleted == written == 8 * len(SERIES)
    pd.testing.assert_frame_equal(_table(engine), _full_rescore(engine))


def test_retracted_days_leave_the_accuracy_table(scored_archive):
    engine = scored_archive
    sales = _sales(97)
    sales = sales[~((sales["store_id"] == "S2") & (sales["date"] == _day(88)))]
    _publish_sales(engine, sales)
    assert (_table(engine)["date"] >= pd.Timestamp(_day(97))).any()

    scope, replaced, _ = rescore_accuracy(engine, restatement_days=14)

    table = _table(engine)
    assert scope.since == _day(96 - 14) and replaced > 0
    assert not (table["date"] >= pd.Timestamp(_day(97))).any()
    assert not ((table["store_id"] == "S2") & (table["date"] == pd.Timestamp(_day(88)))).any()
    pd.testing.assert_frame_equal(table, _full_rescore(engine))


def test_days_that_arrived_while_scoring_paused_longer_than_the_window_are_scored(scored_archive):
    engine = scored_archive
    _publish_sales(engine, _sales(140))

    scope, _, _ = rescore_accuracy(engine, restatement_days=7)

    assert scope.since == _day(100)
    pd.testing.assert_frame_equal(_table(engine), _full_rescore(engine))


def test_run_error_sums_in_sql_match_the_backtest_sums_in_pandas(scored_archive):
    keys = ["forecast_run_id", "model_name", "model_version"]
    table = wh.read_table(scored_archive, ACCURACY_TABLE)
    expected = error_sums(table.assign(scale=np.nan), keys).sort_values(keys).reset_index(drop=True)

    sums = run_error_sums(scored_archive).sort_values(keys).reset_index(drop=True)

    pd.testing.assert_frame_equal(sums[expected.columns], expected, check_dtype=False)


def test_expired_runs_keep_the_serving_run_and_the_champions_newest():
    runs = pd.DataFrame(
        [
            ("old_v1", "xgboost", "v1", _day(0), dt.datetime(2025, 1, 2)),
            ("older_v1", "xgboost", "v1", _day(-7), dt.datetime(2024, 12, 26)),
            ("old_v2", "xgboost", "v2", _day(5), dt.datetime(2025, 1, 7)),
            ("new_v2", "xgboost", "v2", _day(100), dt.datetime(2025, 4, 11)),
            ("backfill_v2", "xgboost", "v2", _day(3), dt.datetime(2025, 4, 12)),
        ],
        columns=["forecast_run_id", "model_name", "model_version", "forecast_origin", "created_at"],
    )

    assert expired_runs(runs, 30, "xgboost", "v2") == ["old_v1", "old_v2", "older_v1"]
    assert expired_runs(runs, 30, "xgboost", "v1") == ["old_v2", "older_v1"]
    assert expired_runs(runs, 96, "xgboost", "v2") == ["old_v1", "older_v1"]
    assert expired_runs(runs, 0, "xgboost", "v2") == []
    assert expired_runs(runs.head(0), 30, "xgboost", "v2") == []


def test_too_few_points_is_not_judged():
    scored = pd.DataFrame({"model_name": ["xgboost"], "model_version": ["v1"], "actual": [5.0],
                           "mean": [10.0], "p10": [8.0], "p50": [10.0], "p90": [12.0], "scale": [np.nan]})
    sums = error_sums(scored, ["model_name", "model_version"])
    verdict = judge_live_accuracy(sums, "xgboost", "v1", promised_wape=0.1, margin=0.2, min_points=10)
    assert verdict.passed and verdict.live_wape is None and "judging needs 10" in verdict.description
    verdict = judge_live_accuracy(sums, "xgboost", "v1", promised_wape=0.1, margin=0.2, min_points=1)
    assert not verdict.passed and verdict.live_wape == 1.0
