-- NEX GEN star schema for SQL Server (2016 or newer).
-- The pipeline creates these tables itself when they are missing; a DBA who wants them
-- provisioned up front (permissions, filegroups, compression) runs this script once.
-- Column names match what the warehouse publisher writes (a test compares them with a
-- live run); reloads keep these definitions and only swap the rows, in one transaction.
-- Money is DECIMAL(19,4) (Power BI's fixed decimal), ids NVARCHAR(128), days DATE.
-- Recommended once per warehouse database: ALTER DATABASE CURRENT SET READ_COMMITTED_SNAPSHOT ON
-- (it waits until no other connection is open). Power BI's READ COMMITTED reads then see the
-- previous rows while a publish swaps them in; without it they wait for the swap to commit.

IF OBJECT_ID(N'dbo.dim_date', N'U') IS NULL
CREATE TABLE dbo.dim_date (
    [date]          DATE           NOT NULL PRIMARY KEY,
    [year]          INT            NULL,
    [quarter]       INT            NULL,
    [month]         INT            NULL,
    month_name      NVARCHAR(400)  NULL,
    day_of_month    INT            NULL,
    day_of_week     INT            NULL,
    day_name        NVARCHAR(400)  NULL,
    iso_year        INT            NULL,
    iso_week        INT            NULL,
    week_start      DATE           NULL,
    fiscal_year     INT            NULL,
    fiscal_quarter  INT            NULL,
    fiscal_month    INT            NULL,
    fiscal_week     INT            NULL,
    is_weekend      BIT            NULL,
    holiday         NVARCHAR(400)  NULL,
    holiday_type    NVARCHAR(400)  NULL,
    is_holiday      BIT            NULL
);
GO

-- dim_product and dim_store hold every product and store sold or in the optional product and store
-- lists (has_sales = 0 for one only listed). They no longer carry all-time totals: measures sum
-- fact_sales_daily. A warehouse created before keeps its total_quantity and total_revenue columns
-- (the publisher never drops one), left NULL from then on; a DBA may drop them.
IF OBJECT_ID(N'dbo.dim_product', N'U') IS NULL
CREATE TABLE dbo.dim_product (
    product_id      NVARCHAR(128)  NOT NULL PRIMARY KEY,
    product_name    NVARCHAR(400)  NULL,
    category        NVARCHAR(400)  NULL,
    brand           NVARCHAR(400)  NULL,
    subcategory     NVARCHAR(400)  NULL,
    [size]          NVARCHAR(400)  NULL,
    first_sale_date DATE           NULL,
    last_sale_date  DATE           NULL,
    current_price   DECIMAL(19, 4) NULL,
    has_sales       BIT            NULL
);
GO

IF OBJECT_ID(N'dbo.dim_store', N'U') IS NULL
CREATE TABLE dbo.dim_store (
    store_id        NVARCHAR(128)  NOT NULL PRIMARY KEY,
    store_name      NVARCHAR(400)  NULL,
    region          NVARCHAR(400)  NULL,
    [format]        NVARCHAR(400)  NULL,
    opening_date    DATE           NULL,
    first_sale_date DATE           NULL,
    last_sale_date  DATE           NULL,
    product_count   BIGINT         NULL,
    is_online       BIT            NULL,
    has_sales       BIT            NULL
);
GO

IF OBJECT_ID(N'dbo.fact_sales_daily', N'U') IS NULL
CREATE TABLE dbo.fact_sales_daily (
    store_id        NVARCHAR(128)  NOT NULL,
    product_id      NVARCHAR(128)  NOT NULL,
    [date]          DATE           NOT NULL,
    quantity        FLOAT(53)      NULL,
    units_sold      FLOAT(53)      NULL,
    units_returned  FLOAT(53)      NULL,
    revenue         DECIMAL(19, 4) NULL,
    avg_price       DECIMAL(19, 4) NULL,
    promo           BIT            NULL,
    stock_on_hand   FLOAT(53)      NULL,
    stockout        BIT            NULL,
    CONSTRAINT pk_fact_sales_daily PRIMARY KEY (store_id, product_id, [date])
);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_fact_sales_daily_date')
CREATE INDEX ix_fact_sales_daily_date ON dbo.fact_sales_daily ([date]);
GO

IF OBJECT_ID(N'dbo.fact_forecast', N'U') IS NULL
CREATE TABLE dbo.fact_forecast (
    forecast_run_id NVARCHAR(128)  NOT NULL,
    model_name      NVARCHAR(400)  NULL,
    model_version   NVARCHAR(400)  NULL,
    forecast_origin DATE           NULL,
    store_id        NVARCHAR(128)  NOT NULL,
    product_id      NVARCHAR(128)  NOT NULL,
    [date]          DATE           NOT NULL,
    horizon         BIGINT         NULL,
    [mean]          FLOAT(53)      NULL,
    p10             FLOAT(53)      NULL,
    p50             FLOAT(53)      NULL,
    p90             FLOAT(53)      NULL,
    created_at      DATETIME2      NULL,
    CONSTRAINT pk_fact_forecast PRIMARY KEY (forecast_run_id, store_id, product_id, [date])
);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_fact_forecast_date')
CREATE INDEX ix_fact_forecast_date ON dbo.fact_forecast ([date]) INCLUDE ([mean], p10, p50, p90);
GO

IF OBJECT_ID(N'dbo.fact_forecast_levels', N'U') IS NULL
CREATE TABLE dbo.fact_forecast_levels (
    forecast_run_id NVARCHAR(128)  NOT NULL,
    [level]         NVARCHAR(255)  NOT NULL,
    store_id        NVARCHAR(128)  NOT NULL,
    category        NVARCHAR(255)  NOT NULL,
    [date]          DATE           NOT NULL,
    horizon         BIGINT         NULL,
    [mean]          FLOAT(53)      NULL,
    p10             FLOAT(53)      NULL,
    p50             FLOAT(53)      NULL,
    p90             FLOAT(53)      NULL,
    CONSTRAINT pk_fact_forecast_levels PRIMARY KEY (forecast_run_id, [level], store_id, category, [date])
);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_fact_forecast_levels_date')
CREATE INDEX ix_fact_forecast_levels_date ON dbo.fact_forecast_levels ([date]);
GO

IF OBJECT_ID(N'dbo.fact_forecast_accuracy', N'U') IS NULL
CREATE TABLE dbo.fact_forecast_accuracy (
    forecast_run_id NVARCHAR(128)  NOT NULL,
    model_name      NVARCHAR(400)  NULL,
    model_version   NVARCHAR(400)  NULL,
    forecast_origin DATE           NULL,
    store_id        NVARCHAR(128)  NOT NULL,
    product_id      NVARCHAR(128)  NOT NULL,
    [date]          DATE           NOT NULL,
    horizon         BIGINT         NULL,
    [mean]          FLOAT(53)      NULL,
    p10             FLOAT(53)      NULL,
    p50             FLOAT(53)      NULL,
    p90             FLOAT(53)      NULL,
    actual          FLOAT(53)      NULL,
    horizon_bucket  NVARCHAR(400)  NULL,
    error           FLOAT(53)      NULL,
    abs_error       FLOAT(53)      NULL,
    squared_error   FLOAT(53)      NULL,
    in_interval     BIT            NULL,
    CONSTRAINT pk_fact_forecast_accuracy PRIMARY KEY (forecast_run_id, store_id, product_id, [date])
);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_fact_forecast_accuracy_date')
CREATE INDEX ix_fact_forecast_accuracy_date ON dbo.fact_forecast_accuracy ([date]);
GO

IF OBJECT_ID(N'dbo.fact_inventory_plan', N'U') IS NULL
CREATE TABLE dbo.fact_inventory_plan (
    store_id        NVARCHAR(128)  NOT NULL,
    product_id      NVARCHAR(128)  NOT NULL,
    as_of           DATE           NULL,
    stock_on_hand   FLOAT(53)      NULL,
    lead_time_days  BIGINT         NULL,
    mean_daily      FLOAT(53)      NULL,
    days_of_cover   FLOAT(53)      NULL,
    stockout_date   DATE           NULL,
    lead_demand     FLOAT(53)      NULL,
    safety_stock    FLOAT(53)      NULL,
    reorder_point   FLOAT(53)      NULL,
    order_up_to     FLOAT(53)      NULL,
    suggested_order FLOAT(53)      NULL,
    status          NVARCHAR(400)  NULL,
    service_level   FLOAT(53)      NULL,
    CONSTRAINT pk_fact_inventory_plan PRIMARY KEY (store_id, product_id)
);
GO

IF OBJECT_ID(N'dbo.model_metrics', N'U') IS NULL
CREATE TABLE dbo.model_metrics (
    model           NVARCHAR(255)  NOT NULL,
    model_version   NVARCHAR(400)  NULL,
    mae             FLOAT(53)      NULL,
    rmse            FLOAT(53)      NULL,
    mase            FLOAT(53)      NULL,
    wape            FLOAT(53)      NULL,
    bias            FLOAT(53)      NULL,
    coverage_p10_p90 FLOAT(53)     NULL,
    pinball         FLOAT(53)      NULL,
    n               BIGINT         NULL,
    scope           NVARCHAR(255)  NOT NULL,
    weights         NVARCHAR(MAX)  NULL,
    components      NVARCHAR(MAX)  NULL,
    fit_seconds_per_fold FLOAT(53) NULL,
    [rank]          BIGINT         NULL,
    CONSTRAINT pk_model_metrics PRIMARY KEY (model, scope)
);
GO

IF OBJECT_ID(N'dbo.model_registry', N'U') IS NULL
CREATE TABLE dbo.model_registry (
    registry_id     NVARCHAR(128)  NOT NULL PRIMARY KEY,
    model_name      NVARCHAR(400)  NULL,
    model_version   NVARCHAR(400)  NULL,
    artifact_path   NVARCHAR(MAX)  NULL,
    components      NVARCHAR(MAX)  NULL,
    weights         NVARCHAR(MAX)  NULL,
    mase            FLOAT(53)      NULL,
    rmse            FLOAT(53)      NULL,
    mae             FLOAT(53)      NULL,
    wape            FLOAT(53)      NULL,
    coverage_p10_p90 FLOAT(53)     NULL,
    baseline_mase   FLOAT(53)      NULL,
    interval_quantiles NVARCHAR(MAX) NULL,
    promoted_at     DATETIME2      NULL
);
GO

IF OBJECT_ID(N'dbo.ingestion_log', N'U') IS NULL
CREATE TABLE dbo.ingestion_log (
    source_file     NVARCHAR(255)  NOT NULL PRIMARY KEY,
    content_sha256  NVARCHAR(400)  NULL,
    rows_read       BIGINT         NULL,
    rows_accepted   BIGINT         NULL,
    rows_rejected   BIGINT         NULL,
    seconds         FLOAT(53)      NULL,
    run_id          NVARCHAR(128)  NULL,
    ingested_at     DATETIME2      NULL
);
GO

IF OBJECT_ID(N'dbo.sales_rejects', N'U') IS NULL
CREATE TABLE dbo.sales_rejects (
    source_file     NVARCHAR(400)  NULL,
    row_number      INT            NULL,
    reason          NVARCHAR(400)  NULL,
    record          NVARCHAR(MAX)  NULL
);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_sales_rejects_source_file')
CREATE INDEX ix_sales_rejects_source_file ON dbo.sales_rejects (source_file);
GO

-- Relationships (facts to dimensions), declared so Power BI and database tools see the star.
-- They are not enforced (WITH NOCHECK, then NOCHECK CONSTRAINT): the platform publishes each
-- table in its own short transaction, and a fact may name a product for a moment before its
-- dimension row is published. The Power BI project in powerbi/ defines the same relationships.

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_sales_daily_date')
    ALTER TABLE dbo.fact_sales_daily WITH NOCHECK
        ADD CONSTRAINT fk_fact_sales_daily_date FOREIGN KEY ([date]) REFERENCES dbo.dim_date ([date]);
ALTER TABLE dbo.fact_sales_daily NOCHECK CONSTRAINT fk_fact_sales_daily_date;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_sales_daily_product_id')
    ALTER TABLE dbo.fact_sales_daily WITH NOCHECK
        ADD CONSTRAINT fk_fact_sales_daily_product_id FOREIGN KEY (product_id) REFERENCES dbo.dim_product (product_id);
ALTER TABLE dbo.fact_sales_daily NOCHECK CONSTRAINT fk_fact_sales_daily_product_id;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_sales_daily_store_id')
    ALTER TABLE dbo.fact_sales_daily WITH NOCHECK
        ADD CONSTRAINT fk_fact_sales_daily_store_id FOREIGN KEY (store_id) REFERENCES dbo.dim_store (store_id);
ALTER TABLE dbo.fact_sales_daily NOCHECK CONSTRAINT fk_fact_sales_daily_store_id;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_forecast_date')
    ALTER TABLE dbo.fact_forecast WITH NOCHECK
        ADD CONSTRAINT fk_fact_forecast_date FOREIGN KEY ([date]) REFERENCES dbo.dim_date ([date]);
ALTER TABLE dbo.fact_forecast NOCHECK CONSTRAINT fk_fact_forecast_date;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_forecast_product_id')
    ALTER TABLE dbo.fact_forecast WITH NOCHECK
        ADD CONSTRAINT fk_fact_forecast_product_id FOREIGN KEY (product_id) REFERENCES dbo.dim_product (product_id);
ALTER TABLE dbo.fact_forecast NOCHECK CONSTRAINT fk_fact_forecast_product_id;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_forecast_store_id')
    ALTER TABLE dbo.fact_forecast WITH NOCHECK
        ADD CONSTRAINT fk_fact_forecast_store_id FOREIGN KEY (store_id) REFERENCES dbo.dim_store (store_id);
ALTER TABLE dbo.fact_forecast NOCHECK CONSTRAINT fk_fact_forecast_store_id;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_forecast_levels_date')
    ALTER TABLE dbo.fact_forecast_levels WITH NOCHECK
        ADD CONSTRAINT fk_fact_forecast_levels_date FOREIGN KEY ([date]) REFERENCES dbo.dim_date ([date]);
ALTER TABLE dbo.fact_forecast_levels NOCHECK CONSTRAINT fk_fact_forecast_levels_date;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_forecast_accuracy_date')
    ALTER TABLE dbo.fact_forecast_accuracy WITH NOCHECK
        ADD CONSTRAINT fk_fact_forecast_accuracy_date FOREIGN KEY ([date]) REFERENCES dbo.dim_date ([date]);
ALTER TABLE dbo.fact_forecast_accuracy NOCHECK CONSTRAINT fk_fact_forecast_accuracy_date;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_forecast_accuracy_product_id')
    ALTER TABLE dbo.fact_forecast_accuracy WITH NOCHECK
        ADD CONSTRAINT fk_fact_forecast_accuracy_product_id FOREIGN KEY (product_id) REFERENCES dbo.dim_product (product_id);
ALTER TABLE dbo.fact_forecast_accuracy NOCHECK CONSTRAINT fk_fact_forecast_accuracy_product_id;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_forecast_accuracy_store_id')
    ALTER TABLE dbo.fact_forecast_accuracy WITH NOCHECK
        ADD CONSTRAINT fk_fact_forecast_accuracy_store_id FOREIGN KEY (store_id) REFERENCES dbo.dim_store (store_id);
ALTER TABLE dbo.fact_forecast_accuracy NOCHECK CONSTRAINT fk_fact_forecast_accuracy_store_id;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_inventory_plan_product_id')
    ALTER TABLE dbo.fact_inventory_plan WITH NOCHECK
        ADD CONSTRAINT fk_fact_inventory_plan_product_id FOREIGN KEY (product_id) REFERENCES dbo.dim_product (product_id);
ALTER TABLE dbo.fact_inventory_plan NOCHECK CONSTRAINT fk_fact_inventory_plan_product_id;
GO

IF NOT EXISTS (SELECT 1 FROM sys.foreign_keys WHERE name = N'fk_fact_inventory_plan_store_id')
    ALTER TABLE dbo.fact_inventory_plan WITH NOCHECK
        ADD CONSTRAINT fk_fact_inventory_plan_store_id FOREIGN KEY (store_id) REFERENCES dbo.dim_store (store_id);
ALTER TABLE dbo.fact_inventory_plan NOCHECK CONSTRAINT fk_fact_inventory_plan_store_id;
GO
