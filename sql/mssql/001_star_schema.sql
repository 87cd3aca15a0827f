-- NEX GEN star schema for SQL Server (2016 or newer).
-- The pipeline creates these tables itself when they are missing; a DBA who wants them
-- provisioned up front (permissions, filegroups, compression) runs this script once.
-- Column names and order match what the warehouse publisher writes; reloads keep these
-- definitions and only swap the rows, in one transaction.

IF OBJECT_ID(N'dbo.dim_date', N'U') IS NULL
CREATE TABLE dbo.dim_date (
    [date]          DATE          NOT NULL PRIMARY KEY,
    [year]          BIGINT        NULL,
    [quarter]       BIGINT        NULL,
    [month]         BIGINT        NULL,
    month_name      NVARCHAR(64)  NULL,
    day_of_month    BIGINT        NULL,
    day_of_week     BIGINT        NULL,
    day_name        NVARCHAR(64)  NULL,
    iso_year        BIGINT        NULL,
    iso_week        BIGINT        NULL,
    is_weekend      BIT           NULL,
    holiday         NVARCHAR(64)  NULL,
    is_holiday      BIT           NULL
);
GO

IF OBJECT_ID(N'dbo.dim_product', N'U') IS NULL
CREATE TABLE dbo.dim_product (
    product_id      NVARCHAR(64)  NOT NULL PRIMARY KEY,
    product_name    NVARCHAR(400) NULL,
    category        NVARCHAR(64)  NULL,
    first_sale_date DATE          NULL,
    last_sale_date  DATE          NULL,
    total_quantity  FLOAT(53)     NULL,
    total_revenue   FLOAT(53)     NULL,
    current_price   FLOAT(53)     NULL
);
GO

IF OBJECT_ID(N'dbo.dim_store', N'U') IS NULL
CREATE TABLE dbo.dim_store (
    store_id        NVARCHAR(64)  NOT NULL PRIMARY KEY,
    first_sale_date DATE          NULL,
    last_sale_date  DATE          NULL,
    product_count   BIGINT        NULL,
    total_quantity  FLOAT(53)     NULL,
    total_revenue   FLOAT(53)     NULL,
    is_online       BIT           NULL
);
GO

IF OBJECT_ID(N'dbo.fact_sales_daily', N'U') IS NULL
CREATE TABLE dbo.fact_sales_daily (
    store_id        NVARCHAR(64)  NOT NULL,
    product_id      NVARCHAR(64)  NOT NULL,
    [date]          DATE          NOT NULL,
    quantity        FLOAT(53)     NULL,
    units_sold      FLOAT(53)     NULL,
    units_returned  FLOAT(53)     NULL,
    revenue         FLOAT(53)     NULL,
    avg_price       FLOAT(53)     NULL,
    promo           BIGINT        NULL,
    stock_on_hand   FLOAT(53)     NULL,
    stockout        BIGINT        NULL,
    CONSTRAINT pk_fact_sales_daily PRIMARY KEY (store_id, product_id, [date])
);
GO

IF OBJECT_ID(N'dbo.fact_forecast', N'U') IS NULL
CREATE TABLE dbo.fact_forecast (
    forecast_run_id NVARCHAR(64)  NOT NULL,
    model_name      NVARCHAR(64)  NULL,
    model_version   NVARCHAR(64)  NULL,
    forecast_origin DATE          NULL,
    store_id        NVARCHAR(64)  NOT NULL,
    product_id      NVARCHAR(64)  NOT NULL,
    [date]          DATE          NOT NULL,
    horizon         BIGINT        NULL,
    p10             FLOAT(53)     NULL,
    p50             FLOAT(53)     NULL,
    p90             FLOAT(53)     NULL,
    created_at      DATETIME2     NULL,
    CONSTRAINT pk_fact_forecast PRIMARY KEY (forecast_run_id, store_id, product_id, [date])
);
GO

IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_fact_forecast_series_date')
CREATE INDEX ix_fact_forecast_series_date ON dbo.fact_forecast (store_id, product_id, [date]) INCLUDE (p10, p50, p90);
GO
