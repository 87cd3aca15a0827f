"""Synthetic retail sales with a known truth, for demos, tests and accuracy benchmarks.

The generator draws an expected demand for every store, product and day from the
effects a retail planner knows (weekly and yearly seasonality, trend, holidays,
promotions with uplift and a post-promo dip, price changes with elasticity), then
simulates stock with a reorder policy so that sales are capped by stock on hand.
Sales become order lines in monthly files of the canonical contract; the last
`holdout_days` are not landed and go to `truth/` with the expected demand (the oracle).
The planned promotions are landed too, holdout included, because a retailer knows
them ahead and forecasts may use them as known future inputs, and so are a store list
and a product list (names, regions, formats, brands), drawn without the random generator
so that every other file is the same with or without them.

Two profiles: "demo" (a chain, two years) and "shop" (one small store, one year).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from dateutil.easter import easter

from nexgen_assets.lib.features.calendar import nth_weekday, us_thanksgiving
from nexgen_assets.lib.ingestion.contract import SUPPORTED_SUFFIXES
from nexgen_assets.lib.storage.atomic import atomic_path

CATEGORIES = ("grocery", "beverages", "household", "personal_care", "electronics", "apparel")
FILE_FORMATS = ("csv", "csv.gz", "parquet", "jsonl")
DEFECT_KINDS = (
    "duplicate_line",
    "missing_order_id",
    "missing_product_id",
    "negative_price",
    "unparseable_date",
)

_HOLIDAY_EFFECT = {
    "new_year": 0.55,
    "good_friday": 1.1,
    "easter": 0.7,
    "memorial_day": 1.2,
    "independence_day": 1.35,
    "labor_day": 1.2,
    "halloween": 1.3,
    "thanksgiving": 0.45,
    "black_friday": 2.2,
    "cyber_monday": 1.4,
    "christmas_eve": 1.6,
    "christmas": 0.15,
    "new_years_eve": 1.3,
}
HOLIDAY_NAMES = tuple(_HOLIDAY_EFFECT)
TOWNS = ("Springfield", "Riverside", "Fairview", "Kingsport", "Lakeside", "Oakdale", "Milton", "Ashford")
REGIONS = ("North", "South", "East", "West")
STORE_FORMATS = ("high street", "mall", "retail park", "outlet")
BRANDS = ("Acme", "Northwind", "Contoso", "Fabrikam", "Tailspin")
SUBCATEGORIES = ("everyday", "premium")
SIZES = ("small", "medium", "large")


def _synthetic_holidays(year: int) -> dict[dt.date, str]:
    """The synthetic data's own US-like holidays (date -> name of _HOLIDAY_EFFECT) for one year.

    They are the generator's truth, kept fixed whatever holiday calendar the platform is set to;
    the moving dates come from the same rules as the holiday calendar's.
    """
    thanksgiving = us_thanksgiving(year)
    return {
        dt.date(year, 1, 1): "new_year",
        easter(year) - dt.timedelta(days=2): "good_friday",
        easter(year): "easter",
        nth_weekday(year, 5, 0, -1): "memorial_day",
        dt.date(year, 7, 4): "independence_day",
        nth_weekday(year, 9, 0, 1): "labor_day",
        dt.date(year, 10, 31): "halloween",
        thanksgiving: "thanksgiving",
        thanksgiving + dt.timedelta(days=1): "black_friday",
        thanksgiving + dt.timedelta(days=4): "cyber_monday",
        dt.date(year, 12, 24): "christmas_eve",
        dt.date(year, 12, 25): "christmas",
        dt.date(year, 12, 31): "new_years_eve",
    }


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate; every field has a demo-sized default."""

    stores: int = 10
    products: int = 50
    days: int = 730
    holdout_days: int = 28
    seed: int = 7
    start: dt.date = dt.date(2024, 1, 1)
    defect_rate: float = 0.001
    formats: tuple[str, ...] = FILE_FORMATS
    slow_mover_share: float = 0.25
    extra_columns: tuple[str, ...] = field(default=("channel",))
    demand_scale: float = 1.0
    closed_days: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("stores", "products", "days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.holdout_days < 0 or self.holdout_days >= self.days:
            raise ValueError(f"holdout_days must be in [0, days), got {self.holdout_days}")
        if not 0 <= self.defect_rate < 0.5:
            raise ValueError(f"defect_rate must be in [0, 0.5), got {self.defect_rate}")
        unknown = set(self.formats) - set(FILE_FORMATS)
        if unknown or not self.formats:
            raise ValueError(f"formats must be a non-empty subset of {FILE_FORMATS}, got {self.formats}")
        if not 0 <= self.slow_mover_share <= 1:
            raise ValueError(f"slow_mover_share must be in [0, 1], got {self.slow_mover_share}")
        if not (self.demand_scale > 0 and np.isfinite(self.demand_scale)):
            raise ValueError(f"demand_scale must be a positive number, got {self.demand_scale}")
        if isinstance(self.closed_days, str) or not set(self.closed_days) <= set(HOLIDAY_NAMES):
            raise ValueError(f"closed_days must be holiday names from {HOLIDAY_NAMES}, got {self.closed_days!r}")

    @classmethod
    def for_profile(cls, name: str, **overrides) -> GeneratorConfig:
        """A named profile's settings, with the given fields replaced."""
        if name not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {name!r}")
        return replace(PROFILES[name], **overrides)


PROFILES: dict[str, GeneratorConfig] = {
    "demo": GeneratorConfig(),
    "shop": GeneratorConfig(
        stores=1,
        products=90,
        days=365 + 28,
        holdout_days=28,
        formats=("csv",),
        slow_mover_share=0.45,
        demand_scale=0.7,
        closed_days=("new_year", "easter", "christmas"),
    ),
}


@dataclass
class GeneratedData:
    """Where the generator wrote its files and what they hold."""

    incoming: Path
    truth: Path
    sales_files: list[Path]
    inventory_files: list[Path]
    lines_per_file: dict[str, int]
    defects_per_file: dict[str, dict[str, int]]
    promotion_files: list[Path]
    reference_files: list[Path] = field(default_factory=list)
    """The store list and the product list."""


def store_ids(n: int) -> np.ndarray:
    return np.array([f"S{i + 1:03d}" for i in range(n)])


def product_ids(n: int) -> np.ndarray:
    return np.array([f"P{i + 1:05d}" for i in range(n)])


def closed_dates(dates: pd.DatetimeIndex, closed_days: tuple[str, ...]) -> list[dt.date]:
    """The days within `dates` on which the stores are shut, from holiday names."""
    first, last = dates[0].date(), dates[-1].date()
    return sorted(
        day
        for year in range(first.year, last.year + 1)
        for day, name in _synthetic_holidays(year).items()
        if name in closed_days and first <= day <= last
    )


def _holiday_multiplier(dates: pd.DatetimeIndex) -> np.ndarray:
    effect = np.ones(len(dates))
    lookup: dict[dt.date, float] = {}
    for year in range(dates[0].year, dates[-1].year + 1):
        for day, name in _synthetic_holidays(year).items():
            lookup[day] = _HOLIDAY_EFFECT[name]
    for i, day in enumerate(dates.date):
        effect[i] = lookup.get(day, 1.0)
        if day.month == 12 and 10 <= day.day <= 23:
            effect[i] *= 1.25
    return effect


def _promotions(rng: np.random.Generator, n_products: int, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Chain-wide promo events per product: a flag and the discount, shape (P, T)."""
    flag = np.zeros((n_products, n_days), dtype=bool)
    discount = np.zeros((n_products, n_days))
    for p in range(n_products):
        day = int(rng.integers(0, 60))
        while day < n_days:
            length = int(rng.integers(5, 15))
            flag[p, day : day + length] = True
            discount[p, day : day + length] = rng.uniform(0.1, 0.3)
            day += length + int(rng.integers(30, 90))
    return flag, discount


def _regular_prices(rng: np.random.Generator, base_price: np.ndarray, n_days: int) -> np.ndarray:
    """Shelf price per product and day with one or two permanent changes a year."""
    prices = np.repeat(base_price[:, None], n_days, axis=1)
    for p in range(len(base_price)):
        changes = rng.poisson(1.5 * n_days / 365)
        for day in np.sort(rng.integers(30, max(31, n_days), size=changes)):
            prices[p, day:] *= rng.uniform(0.9, 1.12)
    return np.round(prices, 2)


def _post_promo_dip(flag: np.ndarray, length: int = 7, depth: float = 0.8) -> np.ndarray:
    """Demand multiplier for the days right after a promotion ends."""
    dip = np.ones(flag.shape)
    ends = flag[:, :-1] & ~flag[:, 1:]
    for p, day in zip(*np.nonzero(ends), strict=True):
        window = slice(day + 1, day + 1 + length)
        dip[p, window] = np.where(flag[p, window], 1.0, depth)
    return dip


def expected_demand(config: GeneratorConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the latent structure and return expected demand of shape (S, P, T) with its drivers."""
    n_s, n_p, n_t = config.stores, config.products, config.days
    dates = pd.date_range(config.start, periods=n_t, freq="D")
    category = rng.integers(0, len(CATEGORIES), size=n_p)
    base_price = np.round(np.exp(rng.normal(np.log(8.0), 0.8, size=n_p)), 2)
    level = np.exp(rng.normal(np.log(3.0), 0.7, size=n_p))
    slow = rng.random(n_p) < config.slow_mover_share
    level[slow] = rng.uniform(0.05, 0.4, size=slow.sum())
    store_factor = np.exp(rng.normal(0.0, 0.35, size=n_s))
    weekly = 1.0 + rng.uniform(0.0, 0.35, size=(len(CATEGORIES), 1)) * np.array(
        [-0.25, -0.3, -0.2, -0.05, 0.35, 0.6, 0.15]
    )
    yearly_amp = rng.uniform(0.05, 0.35, size=len(CATEGORIES))
    yearly_peak = rng.uniform(0, 365, size=len(CATEGORIES))
    doy = dates.dayofyear.to_numpy()
    yearly = 1.0 + yearly_amp[:, None] * np.cos(2 * np.pi * (doy[None, :] - yearly_peak[:, None]) / 365.25)
    slope = rng.normal(0.05, 0.12, size=(n_s, n_p))
    trend = np.exp(slope[:, :, None] * (np.arange(n_t)[None, None, :] / 365.0))
    holiday = _holiday_multiplier(dates)
    is_open = ~np.isin(dates.date, closed_dates(dates, config.closed_days))
    holiday[~is_open] = 0.0
    promo, discount = _promotions(rng, n_p, n_t)
    regular = _regular_prices(rng, base_price, n_t)
    price = np.round(regular * (1.0 - discount), 2)
    elasticity = rng.uniform(-2.0, -0.8, size=n_p)
    price_effect = (price / base_price[:, None]) ** elasticity[:, None]
    display_lift = np.where(promo, 1.15, 1.0)
    dip = _post_promo_dip(promo)
    dow = dates.dayofweek.to_numpy()
    per_product_day = weekly[category][:, dow] * yearly[category] * price_effect * display_lift * dip
    lam = config.demand_scale * (
        level[None, :, None]
        * store_factor[:, None, None]
        * trend
        * holiday[None, None, :]
        * per_product_day[None, :, :]
    )
    return {
        "expected": lam,
        "price": price,
        "promo": promo,
        "discount": discount,
        "category": category,
        "dates": dates,
        "is_open": is_open,
    }


def simulate_stock(
    demand: np.ndarray, expected: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run a reorder-point policy; return sales, end-of-day stock and lead times.

    Sales never exceed the stock available that day, so stockouts cap sales.
    A few replenishments arrive late, which is what causes most stockouts.
    """
    n_s, n_p, n_t = demand.shape
    lead = rng.integers(2, 8, size=(n_s, n_p))
    mean_daily = expected[:, :, : min(n_t, 56)].mean(axis=2)
    reorder_point = np.ceil(mean_daily * (lead + 4))
    order_up_to = np.ceil(mean_daily * (lead + 18)) + 2
    stock = order_up_to.copy()
    arrivals = np.zeros((n_s, n_p, n_t + 40))
    on_order = np.zeros((n_s, n_p))
    sales = np.zeros_like(demand)
    end_stock = np.zeros_like(demand)
    s_idx, p_idx = np.indices((n_s, n_p))
    for t in range(n_t):
        stock += arrivals[:, :, t]
        on_order -= arrivals[:, :, t]
        sales[:, :, t] = np.minimum(demand[:, :, t], stock)
        stock -= sales[:, :, t]
        end_stock[:, :, t] = stock
        needs = (stock + on_order) <= reorder_point
        if needs.any():
            quantity = np.where(needs, order_up_to - stock - on_order, 0.0)
            delay = lead + np.where(rng.random((n_s, n_p)) < 0.06, rng.integers(5, 20, size=(n_s, n_p)), 0)
            arrive = np.minimum(t + delay, n_t + 39)
            np.add.at(arrivals, (s_idx[needs], p_idx[needs], arrive[needs]), quantity[needs])
            on_order += quantity
    return sales, end_stock, lead


def _order_lines(
    sales: np.ndarray,
    price: np.ndarray,
    promo: np.ndarray,
    category: np.ndarray,
    dates: pd.DatetimeIndex,
    rng: np.random.Generator,
    extra_columns: tuple[str, ...],
    is_open: np.ndarray,
) -> pd.DataFrame:
    """Split each store-product-day's units into order lines, plus a few later returns.

    A return that would fall on a closed day moves to the next open day (or is dropped at the end).
    """
    s, p, t = np.nonzero(sales)
    units = sales[s, p, t].astype(np.int64)
    n_lines = 1 + rng.binomial(units - 1, 0.3)
    line_cell = np.repeat(np.arange(len(units)), n_lines)
    first = np.r_[0, np.cumsum(n_lines)[:-1]]
    quantity = np.ones(len(line_cell), dtype=np.int64)
    quantity[first] = units - (n_lines - 1)

    returned = rng.random(len(units)) < 0.01
    r_cells = np.nonzero(returned)[0]
    r_day = np.minimum(t[r_cells] + rng.integers(1, 11, size=len(r_cells)), sales.shape[2] - 1)
    open_days = np.flatnonzero(is_open)
    next_open = np.searchsorted(open_days, r_day)
    kept = next_open < len(open_days)
    r_cells, r_day = r_cells[kept], open_days[next_open[kept]]

    cell = np.r_[line_cell, r_cells]
    day = np.r_[t[line_cell], r_day]
    quantity = np.r_[quantity, -np.ones(len(r_cells), dtype=np.int64)]
    s_all, p_all = s[cell], p[cell]
    sale_day = t[cell]
    seconds = rng.integers(8 * 3600, 21 * 3600, size=len(cell))
    timestamps = dates[day] + pd.to_timedelta(seconds, unit="s")
    lines = pd.DataFrame(
        {
            "order_id": np.char.add("ORD", np.char.zfill(np.arange(len(cell)).astype(str), 10)),
            "order_ts": timestamps.strftime("%Y-%m-%dT%H:%M:%S"),
            "store_id": store_ids(sales.shape[0])[s_all],
            "product_id": product_ids(sales.shape[1])[p_all],
            "product_name": np.char.add(
                np.char.add(np.array(CATEGORIES)[category[p_all]], " item "), (p_all + 1).astype(str)
            ),
            "category": np.array(CATEGORIES)[category[p_all]],
            "quantity": quantity,
            "unit_price": price[p_all, sale_day],
            "promo": promo[p_all, sale_day].astype(np.int64),
        }
    )
    if "channel" in extra_columns:
        lines["channel"] = np.where(rng.random(len(lines)) < 0.2, "click_and_collect", "in_store")
    lines["_day"] = day
    return lines.sort_values(["_day", "order_ts", "order_id"], kind="stable").reset_index(drop=True)


def promotion_calendar(
    promo: np.ndarray, discount: np.ndarray, dates: pd.DatetimeIndex, n_stores: int
) -> pd.DataFrame:
    """The planned promotions, one row per store and event (a run of consecutive promo days of a product).

    `discount` is the fraction taken off the regular price; events are chain-wide, so every store lists them.
    """
    edges = np.diff(np.pad(promo.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    product, first_day = np.nonzero(edges == 1)
    _, after_last_day = np.nonzero(edges == -1)
    events = pd.DataFrame(
        {
            "product_id": product_ids(promo.shape[0])[product],
            "start_date": dates[first_day].strftime("%Y-%m-%d"),
            "end_date": dates[after_last_day - 1].strftime("%Y-%m-%d"),
            "discount": discount[product, first_day],
        }
    )
    stores = pd.DataFrame({"store_id": store_ids(n_stores)})
    calendar = stores.merge(events, how="cross")
    return calendar.sort_values(["store_id", "start_date", "product_id"], kind="stable").reset_index(drop=True)


def store_list(n_stores: int) -> pd.DataFrame:
    """The store list (stores.csv): a name, region, format and opening date per store, no random draw."""
    index = np.arange(n_stores)
    town = np.array(TOWNS)[index % len(TOWNS)]
    round_ = index // len(TOWNS)
    return pd.DataFrame(
        {
            "store_id": store_ids(n_stores),
            "store_name": [f"NEX GEN {t}" + (f" {r + 1}" if r else "") for t, r in zip(town, round_, strict=True)],
            "region": np.array(REGIONS)[index % len(REGIONS)],
            "format": np.array(STORE_FORMATS)[(index // len(REGIONS)) % len(STORE_FORMATS)],
            "opening_date": [dt.date(2008 + i % 15, 1 + (5 * i) % 12, 1).isoformat() for i in index],
        }
    )


def product_list(category: np.ndarray) -> pd.DataFrame:
    """The product list (products.csv): the sales' names and categories, with a brand, subcategory and size."""
    index = np.arange(len(category))
    names = np.array(CATEGORIES)[category]
    return pd.DataFrame(
        {
            "product_id": product_ids(len(category)),
            "product_name": [f"{c} item {i + 1}" for c, i in zip(names, index, strict=True)],
            "brand": np.array(BRANDS)[index % len(BRANDS)],
            "category": names,
            "subcategory": [f"{c} {SUBCATEGORIES[i % len(SUBCATEGORIES)]}" for c, i in zip(names, index, strict=True)],
            "size": np.array(SIZES)[index % len(SIZES)],
        }
    )


def inject_defects(
    lines: pd.DataFrame, rate: float, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Corrupt about `rate` of the lines, spread evenly over the defect kinds."""
    counts = {kind: 0 for kind in DEFECT_KINDS}
    n_bad = int(round(len(lines) * rate))
    if n_bad == 0:
        return lines, counts
    lines = lines.copy()
    lines["order_ts"] = lines["order_ts"].astype(object)
    chosen = rng.choice(len(lines), size=n_bad, replace=False)
    kinds = np.array(DEFECT_KINDS)[np.arange(n_bad) % len(DEFECT_KINDS)]
    duplicates = []
    for row, kind in zip(chosen, kinds, strict=True):
        counts[kind] += 1
        if kind == "duplicate_line":
            duplicates.append(row)
        elif kind == "missing_order_id":
            lines.iat[row, lines.columns.get_loc("order_id")] = ""
        elif kind == "missing_product_id":
            lines.iat[row, lines.columns.get_loc("product_id")] = ""
        elif kind == "negative_price":
            price = lines.iat[row, lines.columns.get_loc("unit_price")]
            lines.iat[row, lines.columns.get_loc("unit_price")] = -abs(price) - 0.01
        elif kind == "unparseable_date":
            lines.iat[row, lines.columns.get_loc("order_ts")] = "31/02/" + str(rng.integers(2000, 2030))
    if duplicates:
        lines = pd.concat([lines, lines.iloc[duplicates]]).sort_index(kind="stable").reset_index(drop=True)
    return lines, counts


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame in the format its file name asks for, atomically."""
    name = path.name
    if not name.endswith(SUPPORTED_SUFFIXES):
        raise ValueError(f"unknown file format for {path}")
    with atomic_path(path) as tmp:
        if name.endswith(".csv.gz"):
            with gzip.open(tmp, "wt", encoding="utf-8", newline="") as handle:
                frame.to_csv(handle, index=False)
        elif name.endswith(".csv"):
            frame.to_csv(tmp, index=False)
        elif name.endswith(".parquet"):
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_json(tmp, orient="records", lines=True)


def generate(out: Path, config: GeneratorConfig) -> GeneratedData:
    """Generate order-line, inventory, promotion and store and product list files under out/incoming, and the
    truth under out/truth."""
    rng = np.random.default_rng(config.seed)
    drivers = expected_demand(config, rng)
    lam = drivers["expected"]
    dispersion = 4.0
    demand = rng.poisson(rng.gamma(dispersion, lam / dispersion)).astype(float)
    sales, end_stock, lead = simulate_stock(demand, lam, rng)
    dates = drivers["dates"]
    lines = _order_lines(
        sales,
        drivers["price"],
        drivers["promo"],
        drivers["category"],
        dates,
        rng,
        config.extra_columns,
        drivers["is_open"],
    )

    incoming = Path(out) / "incoming"
    truth = Path(out) / "truth"
    incoming.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    landed_days = config.days - config.holdout_days
    month_of_day = dates.strftime("%Y-%m").to_numpy()

    sales_files: list[Path] = []
    lines_per_file: dict[str, int] = {}
    defects_per_file: dict[str, dict[str, int]] = {}
    history = lines[lines["_day"] < landed_days]
    for i, (month, chunk) in enumerate(history.groupby(month_of_day[history["_day"]], sort=True)):
        fmt = config.formats[i % len(config.formats)]
        path = incoming / f"sales_{month}.{fmt}"
        chunk, defects = inject_defects(chunk.drop(columns="_day"), config.defect_rate, rng)
        write_table(chunk.reset_index(drop=True), path)
        sales_files.append(path)
        lines_per_file[path.name] = len(chunk)
        defects_per_file[path.name] = defects

    s_ids, p_ids = store_ids(config.stores), product_ids(config.products)
    grid = pd.MultiIndex.from_product([s_ids, p_ids], names=["store_id", "product_id"]).to_frame(index=False)
    inventory_files: list[Path] = []
    for month in pd.unique(month_of_day[:landed_days]):
        days = np.nonzero(month_of_day[:landed_days] == month)[0]
        frame = pd.DataFrame(
            {
                "snapshot_date": np.repeat(dates[days].strftime("%Y-%m-%d").to_numpy(), len(grid)),
                "store_id": np.tile(grid["store_id"].to_numpy(), len(days)),
                "product_id": np.tile(grid["product_id"].to_numpy(), len(days)),
                "stock_on_hand": end_stock[:, :, days].transpose(2, 0, 1).reshape(-1).astype(np.int64),
                "lead_time_days": np.tile(lead.reshape(-1), len(days)),
            }
        )
        path = incoming / f"inventory_{month}.csv"
        write_table(frame, path)
        inventory_files.append(path)

    promotions = promotion_calendar(drivers["promo"], drivers["discount"], dates, config.stores)
    promotions_path = incoming / f"promotions_{dates[0].year}.csv"
    write_table(promotions, promotions_path)
    reference_files = [incoming / "stores.csv", incoming / "products.csv"]
    write_table(store_list(config.stores), reference_files[0])
    write_table(product_list(drivers["category"]), reference_files[1])

    net = np.zeros_like(sales)
    np.add.at(
        net,
        (
            np.searchsorted(s_ids, lines["store_id"].to_numpy()),
            np.searchsorted(p_ids, lines["product_id"].to_numpy()),
            lines["_day"].to_numpy(),
        ),
        lines["quantity"].to_numpy(),
    )
    n_s, n_p, n_t = lam.shape
    oracle = pd.DataFrame(
        {
            "store_id": np.repeat(s_ids, n_p * n_t),
            "product_id": np.tile(np.repeat(p_ids, n_t), n_s),
            "date": np.tile(dates.date, n_s * n_p),
            "expected_demand": lam.reshape(-1),
            "demand": demand.reshape(-1),
            "sales_units": sales.reshape(-1),
            "quantity": net.reshape(-1),
            "stock_on_hand": end_stock.reshape(-1),
            "promo": np.tile(drivers["promo"].reshape(-1), n_s),
            "price": np.tile(drivers["price"].reshape(-1), n_s),
        }
    )
    oracle.to_parquet(truth / "oracle.parquet", index=False)
    holdout_start = dates[landed_days].date() if config.holdout_days else None
    holdout = oracle[oracle["date"] >= holdout_start] if holdout_start else oracle.iloc[0:0]
    holdout[["store_id", "product_id", "date", "quantity", "expected_demand"]].to_csv(
        truth / "holdout_actuals.csv", index=False
    )
    manifest = {
        "config": {**asdict(config), "start": config.start.isoformat()},
        "last_landed_date": dates[landed_days - 1].date().isoformat(),
        "holdout_start": holdout_start.isoformat() if holdout_start else None,
        "lines_per_file": lines_per_file,
        "defects_per_file": defects_per_file,
        "promotion_files": [promotions_path.name],
        "closed_dates": [day.isoformat() for day in closed_dates(dates, config.closed_days)],
    }
    (truth / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return GeneratedData(
        incoming=incoming,
        truth=truth,
        sales_files=sales_files,
        inventory_files=inventory_files,
        lines_per_file=lines_per_file,
        defects_per_file=defects_per_file,
        promotion_files=[promotions_path],
        reference_files=reference_files,
    )
