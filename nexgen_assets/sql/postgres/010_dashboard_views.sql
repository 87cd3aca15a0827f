-- Views behind the dashboard pages (PostgreSQL twin of sql/mssql/010_dashboard_views.sql).

-- New columns go last: CREATE OR REPLACE VIEW may only add columns at the end.
CREATE OR REPLACE VIEW vw_sales_trend AS
SELECT f.date, d.year, d.month, d.iso_week, d.is_holiday,
       SUM(f.quantity) AS quantity, SUM(f.revenue) AS revenue, d.holiday, d.holiday_type
FROM fact_sales_daily f
LEFT JOIN dim_date d ON d.date = f.date
GROUP BY f.date, d.year, d.month, d.iso_week, d.is_holiday, d.holiday, d.holiday_type;

CREATE OR REPLACE VIEW vw_top_products AS
SELECT f.product_id, p.product_name, p.category,
       SUM(f.quantity) AS quantity, SUM(f.revenue) AS revenue,
       RANK() OVER (ORDER BY SUM(f.revenue) DESC) AS revenue_rank
FROM fact_sales_daily f
LEFT JOIN dim_product p ON p.product_id = f.product_id
GROUP BY f.product_id, p.product_name, p.category;

CREATE OR REPLACE VIEW vw_stock_monitoring AS
WITH last_day AS (SELECT MAX(date) AS d FROM fact_sales_daily),
recent AS (
    SELECT f.store_id, f.product_id, AVG(f.quantity) AS avg_daily_quantity
    FROM fact_sales_daily f, last_day
    WHERE f.date > last_day.d - 28
    GROUP BY f.store_id, f.product_id
)
SELECT f.store_id, f.product_id, f.date, f.stock_on_hand, f.stockout, r.avg_daily_quantity,
       CASE WHEN r.avg_daily_quantity > 0 THEN f.stock_on_hand / r.avg_daily_quantity END AS days_of_cover
FROM fact_sales_daily f
JOIN last_day ON f.date = last_day.d
JOIN recent r ON r.store_id = f.store_id AND r.product_id = f.product_id;

CREATE OR REPLACE VIEW vw_kpi_cards AS
WITH last_day AS (SELECT MAX(date) AS d FROM fact_sales_daily)
SELECT SUM(f.revenue) AS total_revenue,
       SUM(f.quantity) AS total_quantity,
       SUM(CASE WHEN f.date > last_day.d - 28 THEN f.revenue ELSE 0 END) AS revenue_last_28_days,
       SUM(CASE WHEN f.date > last_day.d - 56 AND f.date <= last_day.d - 28 THEN f.revenue ELSE 0 END)
           AS revenue_previous_28_days,
       SUM(CASE WHEN f.date > last_day.d - 28 THEN f.quantity ELSE 0 END) AS quantity_last_28_days
FROM fact_sales_daily f, last_day;

CREATE OR REPLACE VIEW vw_forecast_vs_actual AS
SELECT c.forecast_run_id, c.model_name, c.forecast_origin, c.store_id, c.product_id, c.date, c.horizon,
       c.p10, c.p50, c.p90, f.quantity AS actual_quantity
FROM fact_forecast c
LEFT JOIN fact_sales_daily f ON f.store_id = c.store_id AND f.product_id = c.product_id AND f.date = c.date;

CREATE OR REPLACE VIEW vw_forecast_accuracy AS
SELECT forecast_run_id, model_name, model_version, forecast_origin, horizon_bucket,
       COUNT(*) AS points, AVG(abs_error) AS mae, SQRT(AVG(squared_error)) AS rmse, AVG(error) AS bias,
       CASE WHEN SUM(actual) > 0 THEN SUM(abs_error) / SUM(actual) END AS wape,
       AVG(CASE WHEN in_interval THEN 1.0 ELSE 0.0 END) AS coverage_p10_p90
FROM fact_forecast_accuracy
GROUP BY forecast_run_id, model_name, model_version, forecast_origin, horizon_bucket;

-- The latest forecast run only (the newest created_at): sum p50 here, never over the archive.
CREATE OR REPLACE VIEW vw_forecast_latest AS
SELECT f.forecast_run_id, f.model_name, f.model_version, f.forecast_origin, f.store_id, f.product_id, f.date, f.horizon,
       f.mean, f.p10, f.p50, f.p90, f.created_at
FROM fact_forecast f
WHERE f.forecast_run_id = (
    SELECT l.forecast_run_id FROM fact_forecast l ORDER BY l.created_at DESC, l.forecast_run_id DESC LIMIT 1
);
