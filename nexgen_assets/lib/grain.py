"""The grain every domain shares: a series is one product in one store, forecast a fixed number of days ahead.

The horizon is fixed rather than a run setting: feature lags, model outputs, backtest
folds and stored model parameters are all built for it, so changing it means retraining
every model on features rebuilt for the new value.
"""

SERIES_KEYS = ["store_id", "product_id"]
MAX_ID_LENGTH = 128
"""The longest order, store or product id the platform stores (the warehouse's id columns are this wide)."""
HORIZON_DAYS = 28
MODEL_SPANS = ((1, 7), (8, 14), (15, HORIZON_DAYS))
"""Horizon spans served by separate direct models: a span's model reads demand lagged at least its last day,
so tomorrow's forecast sees last week rather than last month."""
