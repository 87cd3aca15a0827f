"""Every hostile or broken input kind lands beside good data in one `nexgen run` pass.

Good data must arrive complete to the unit (compared with the generator's truth), every
bad file must be refused, rejected row by row with a reason, or fail alone naming itself,
rows read must equal accepted + rejected for every file, and nothing outside the landing
folder may be read.
"""

import datetime as dt
import json

import dagster as dg
import pandas as pd

from nexgen_assets.definitions import build_definitions
from nexgen_assets.demo.generator import GeneratorConfig, generate
from nexgen_assets.resources import build_resources
from nexgen_assets.runner import run_pass
from nexgen_assets_tests.hostile_corpus import LEAK_MARKER, land_corpus

GOOD = GeneratorConfig(
    stores=2, products=3, days=100, holdout_days=7, seed=5, start=dt.date(2024, 9, 1), defect_rate=0.0
)


def test_hostile_corpus_beside_good_data_in_one_pass(tmp_path, spark, monkeypatch):
    monkeypatch.delenv("NEXGEN_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("NEXGEN_SPARK_MASTER", "local[2]")
    generated = generate(tmp_path / "generated", GOOD)
    home = tmp_path / "home"
    incoming = home / "incoming"
    incoming.mkdir(parents=True)
    good_files = sorted(p.name for p in generated.incoming.iterdir() if not p.name.startswith("promotions_"))
    for name in good_files:
        (incoming / name).write_bytes((generated.incoming / name).read_bytes())
    kinds = land_corpus(incoming, tmp_path / "outside", generated.incoming / next(n for n in good_files if n.endswith(".csv")))
    assert len(kinds) >= 50
    resources = build_resources(home)

    outcome = run_pass(build_definitions(resources), dg.DagsterInstance.ephemeral(), incoming)

    by_outcome = {o: [k for k in kinds if k.outcome == o] for o in ("rows", "failed", "refused", "duplicate")}
    failed = {f.partition: f.message for f in outcome.failures}
    assert set(failed) == {name for k in by_outcome["failed"] for name in k.files}, failed
    for kind in by_outcome["failed"]:
        (name,) = kind.files
        assert failed[name].startswith(name) and kind.message in failed[name], (kind.kind, failed[name])
    assert outcome.refreshed, "one bad file never stops the refresh"
    assert set(outcome.refused) == {name for k in by_outcome["refused"] for name in k.files}
    for kind in by_outcome["refused"]:
        (name,) = kind.files
        assert kind.message in outcome.refused[name], (kind.kind, outcome.refused[name])
    assert set(outcome.duplicates) == {name for k in by_outcome["duplicate"] for name in k.files}

    warehouse, lake = resources["warehouse"], resources["lake"]
    log = warehouse.read_table("ingestion_log").set_index("source_file")
    assert (log["rows_read"] == log["rows_accepted"] + log["rows_rejected"]).all()
    rejects = warehouse.read_table("sales_rejects")
    inventory_rejects = lake.read(spark, "inventory_rejects").toPandas()
    inventory = lake.read(spark, "raw_inventory").toPandas()
    for kind in by_outcome["rows"]:
        names = list(kind.files)
        if names[0].startswith("inventory_"):
            accepted = int(inventory["source_file"].isin(names).sum())
            reasons = inventory_rejects[inventory_rejects["source_file"].isin(names)]["reason"].value_counts()
        else:
            accepted = int(log.loc[names, "rows_accepted"].sum())
            reasons = rejects[rejects["source_file"].isin(names)]["reason"].value_counts()
        assert (accepted, reasons.to_dict()) == (kind.accepted, kind.reasons), kind.kind

    clean = lake.read(spark, "clean_sales").toPandas()
    names = dict(zip(clean["order_id"], clean["product_name"], strict=False))
    assert names["Q1"] == '12" screen, black' and names["Q2"] == "C:\\"
    assert clean.loc[clean["order_id"] == "PQ2", "order_ts"].astype(str).str.startswith("2024-09-21 11:30").all()
    assert sorted(clean.loc[clean["order_id"].isin(["T1", "T2"]), "promo"].tolist()) == [0, 1]
    nested = json.loads(clean.loc[clean["order_id"] == "J1", "extra"].iloc[0])["attrs"]
    assert json.loads(nested) == {"colour": "red", "sizes": [1, 2]}

    for table in ("raw_sales", "clean_sales", "sales_rejects"):
        assert not lake.read(spark, table).toPandas().astype(str).apply(lambda c: c.str.contains(LEAK_MARKER)).any().any()

    oracle = pd.read_parquet(generated.truth / "oracle.parquet")
    landed = oracle[oracle["date"] <= dt.date.fromisoformat(generated_last_day(generated))]
    daily = warehouse.read_table("fact_sales_daily")
    daily = daily[daily["store_id"].isin(landed["store_id"].unique())]
    merged = landed.merge(daily, on=["store_id", "product_id", "date"], how="left", suffixes=("_truth", ""))
    assert (merged["quantity_truth"][merged["quantity"].isna()] == 0).all(), "only days before a first sale are absent"
    assert (merged["quantity"].fillna(0) == merged["quantity_truth"]).all(), "good data is complete to the unit"
    assert merged["quantity_truth"].sum() > 1000


def generated_last_day(generated) -> str:
    return json.loads((generated.truth / "manifest.json").read_text())["last_landed_date"]
