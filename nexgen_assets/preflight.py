"""Checks `nexgen run` makes before any Spark work, so a wrong setting costs seconds, not a pass.

Each check returns one line a person can act on (the variable, the host, the driver; never
a password), or None when all is well.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import sqlalchemy as sa

from nexgen_assets.lib.ingestion.landing import scan_landing
from nexgen_assets.lib.storage.warehouse import masked_url, with_installed_driver
from nexgen_assets.settings import DAGSTER_STORAGE_URL_VARIABLE, SOURCE_DB_URL_VARIABLE, WAREHOUSE_URL_VARIABLE, Settings

CONNECT_TIMEOUT_S = 5
MIN_JAVA = 17
JAVA_PACKAGE = "openjdk-17-jre-headless"
INSTALL_HINTS = {
    "psycopg2": "pip install psycopg2-binary",
    "psycopg": "pip install 'psycopg[binary]'",
    "pyodbc": "pip install pyodbc, and the unixODBC library (Debian: apt-get install unixodbc tdsodbc)",
    "pymysql": "pip install pymysql",
    "MySQLdb": "pip install mysqlclient",
}


def check_home(settings: Settings) -> str | None:
    """Nothing to do at all: no landed file and nothing ingested before."""
    if scan_landing(settings.incoming).files or (Path(settings.lake) / "clean_sales").is_dir():
        return None
    if settings.source_db_url:
        return None
    return (
        f"no sales files in {settings.incoming}: put order-line exports there (CSV, Parquet or JSON Lines, "
        f"named sales_*.csv ...), or run `nexgen generate --home {settings.home}` for demo data"
    )


def _timeout_args(url: sa.engine.URL) -> dict:
    backend = url.get_backend_name()
    if backend in ("postgresql", "mysql", "mariadb"):
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    if backend == "mssql":
        return {"timeout": CONNECT_TIMEOUT_S}
    return {}


def check_database(variable: str, raw_url: str | None) -> str | None:
    """The URL parses, its driver is installed, and the server answers within a few seconds."""
    if raw_url is None:
        return None
    try:
        url = with_installed_driver(sa.engine.make_url(raw_url))
    except sa.exc.ArgumentError:
        return f"{variable} is not a database URL (expected dialect+driver://user:password@host:port/database)"
    shown = masked_url(url)
    where = f"{variable} ({url.host or url.database or 'local'}, driver {url.drivername})"
    try:
        engine = sa.create_engine(url, connect_args=_timeout_args(url))
    except sa.exc.NoSuchModuleError:
        return f"{where}: SQLAlchemy has no dialect {url.drivername!r}; check the URL's scheme: {shown}"
    except ImportError as error:
        module = error.name or str(error)
        return f"{where}: the driver module {module!r} is not installed ({INSTALL_HINTS.get(module, 'pip install it')})"
    if url.get_backend_name() == "sqlite":
        engine.dispose()
        return None
    try:
        with engine.connect():
            pass
    except Exception as error:
        text = str(getattr(error, "orig", None) or error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        return f"{where}: cannot connect to {shown}: {reason}"
    finally:
        engine.dispose()
    return None


def java_version(java: str) -> int | None:
    """Major version of a `java` executable (8 for 1.8), None if it does not say."""
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', shown)
    if not found:
        return None
    major, minor = int(found.group(1)), int(found.group(2) or 0)
    return minor if major == 1 else major


def check_java(settings: Settings) -> str | None:
    """A local Spark driver needs Java 17+; a Spark Connect client (sc://) needs none."""
    if settings.spark_master.startswith("sc://"):
        return None
    java = shutil.which("java")
    if java is None:
        return f"Java {MIN_JAVA} or newer is needed by Spark and none is on PATH (Debian: apt-get install {JAVA_PACKAGE})"
    found = java_version(java)
    if found is None or found < MIN_JAVA:
        return f"Java {MIN_JAVA} or newer is needed by Spark; {java} is Java {found or 'of unknown version'}"
    return None


def check_disk(settings: Settings) -> str | None:
    """Enough free space under NEXGEN_HOME for the lake, the staged copies and the models."""
    folder = settings.home
    while not folder.exists():
        folder = folder.parent
    free_gib = shutil.disk_usage(folder).free / 2**30
    if free_gib < settings.min_free_disk_gib:
        return (
            f"only {free_gib:.1f} GiB free under {settings.home}; NEX GEN needs at least "
            f"{settings.min_free_disk_gib:g} GiB (NEXGEN_MIN_FREE_DISK_GIB)"
        )
    return None


def problems(settings: Settings, need_files: bool = True) -> list[str]:
    """Every reason the platform cannot do its job, cheapest check first (`nexgen dev` waits for files)."""
    found = [
        check_home(settings) if need_files else None,
        check_disk(settings),
        check_java(settings),
        check_database(WAREHOUSE_URL_VARIABLE, settings.warehouse_url),
        check_database(SOURCE_DB_URL_VARIABLE, settings.source_db_url),
        check_database(DAGSTER_STORAGE_URL_VARIABLE, settings.dagster_storage_url),
    ]
    return [problem for problem in found if problem]
