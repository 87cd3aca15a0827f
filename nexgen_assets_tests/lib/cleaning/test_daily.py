import datetime as dt

from nexgen_assets.lib.cleaning.daily import aggregate_daily, distinct_lines
from nexgen_assets.lib.ingestion.source_db import Batch, batch_order

LINES = (
    "order_id string, order_ts timestamp, order_date date, store_id string, product_id string, "
    "product_name string, category string, quantity double, unit_price double, promo int, revenue double"
)
D = dt.date(2024, 1, 1)


def _line(i, day, qty, price=2.0, promo=0, product="P1"):
    ts = dt.datetime.combine(D + dt.timedelta(days=day), dt.time(10))
    return (f"O{i}", ts, ts.date(), "S1", product, "n", "grocery", float(qty), price, promo, qty * price)


def test_daily_zero_fills_and_carries_stock_and_price(spark):
    lines = spark.createDataFrame(
        [_line(1, 0, 3, 2.0), _line(2, 0, -1, 2.0), _line(3, 2, 1, 2.5, promo=1), _line(4, 1, 2, 9.0, product="P2")],
        LINES,
    )
    inventory = spark.createDataFrame(
        [(D, "S1", "P1", 5.0), (D + dt.timedelta(days=3), "S1", "P1", 0.0)],
        "snapshot_date date, store_id string, product_id string, stock_on_hand double",
    )
    daily = {(r["product_id"], r["date"]): r for r in aggregate_daily(lines, inventory).collect()}
    p1 = [daily[("P1", D + dt.timedelta(days=k))] for k in range(4)]
    assert [r["quantity"] for r in p1] == [2.0, 0.0, 1.0, 0.0]
    assert p1[0]["units_sold"] == 3.0 and p1[0]["units_returned"] == 1.0 and p1[0]["revenue"] == 4.0
    assert [r["avg_price"] for r in p1] == [2.0, 2.0, 2.5, 2.5]
    assert [r["promo"] for r in p1] == [0, 0, 1, 0]
    assert [r["stock_on_hand"] for r in p1] == [5.0, 5.0, 5.0, 0.0]
    assert [r["stockout"] for r in p1] == [0, 0, 0, 1]
    assert min(d for p, d in daily if p == "P2") == D + dt.timedelta(days=1)
    assert max(d for _, d in daily) == D + dt.timedelta(days=3)


def test_a_line_landed_in_two_files_counts_once(spark):
    line = _line(1, 0, 3)
    first = spark.createDataFrame([line], LINES)
    both = first.unionByName(first)
    daily = aggregate_daily(both, None).collect()
    assert [r["quantity"] for r in daily] == [3.0]


def test_a_source_database_line_extracted_again_keeps_its_latest_version(spark):
    early = Batch("order_lines", None, "2024-01-01T12:00:00").key
    later = Batch("order_lines", "2024-01-01T12:00:00", "2024-01-02T09:00:00").key
    tagged = LINES + ", source_file string"
    lines = spark.createDataFrame(
        [
            (*_line(1, 0, 3), early),
            (*_line(1, 0, 5), later),
            (*_line(2, 0, 1), early),
            (*_line(2, 0, 1), later),
            (*_line(3, 0, 2), "sales_2024-01.csv"),
            (*_line(3, 0, 4), "sales_2024-01-fix.csv"),
        ],
        tagged,
    )

    kept = sorted((r["order_id"], r["quantity"]) for r in distinct_lines(lines).collect())

    assert kept == [("O1", 5.0), ("O2", 1.0), ("O3", 2.0), ("O3", 4.0)]
    assert batch_order([later, early, Batch("t", None, "10").key, Batch("t", None, "9").key])[later] == 3


def test_a_source_line_whose_latest_version_is_marked_deleted_leaves_the_daily_tables(spark):
    early = Batch("order_lines", None, "2024-01-01T12:00:00").key
    later = Batch("order_lines", "2024-01-01T12:00:00", "2024-01-02T09:00:00").key
    live, deleted = '{"nexgen_deleted":"0","channel":"web"}', '{"nexgen_deleted":"1","channel":"web"}'
    lines = spark.createDataFrame(
        [
            (*_line(1, 0, 3), early, live),
            (*_line(1, 0, 3), later, deleted),
            (*_line(2, 0, 1), early, deleted),
            (*_line(2, 0, 1), later, live),
            (*_line(3, 0, 2), early, None),
            (*_line(4, 0, 7), "sales_2024-01.csv", '{"nexgen_deleted":"1"}'),
        ],
        LINES + ", source_file string, extra string",
    )

    kept = sorted((r["order_id"], r["quantity"]) for r in distinct_lines(lines).collect())

    assert kept == [("O2", 1.0), ("O3", 2.0), ("O4", 7.0)], "a landed file's column of that name is only data"
    assert [r["quantity"] for r in aggregate_daily(lines, None).collect()] == [10.0]
