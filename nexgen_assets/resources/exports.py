"""Where Power BI files and the offline dashboard are written, and which SQL Server a .pbids opens."""


import dagster as dg
from pydantic import Field


class ExportsResource(dg.ConfigurableResource):
    """The exports folder, and the SQL Server database Power BI Desktop should open."""

    folder: str = Field(description="Folder for Parquet marts, the .pbids file and dashboard.html.")
    sql_server: str | None = Field(
        default=None, description="Server for the .pbids file (host or host,port); default: from an mssql warehouse URL."
    )
    database: str | None = Field(default=None, description="Database for the .pbids file.")
    mode: str = Field(default="Import", description="Power BI connection mode: Import or DirectQuery.")
