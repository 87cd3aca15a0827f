"""Settings: one typed reading of every NEXGEN_* variable, and nowhere else reads them."""

import datetime as dt
import re
from pathlib import Path

import pytest

import nexgen_assets
from nexgen_assets.settings import Settings, variables


def test_defaults_are_rooted_at_home(tmp_path):
    settings = Settings.from_env({"NEXGEN_HOME": str(tmp_path)})
    assert settings.home == tmp_path.resolve()
    assert settings.lake == str(tmp_path / "lake") and settings.model_store == str(tmp_path / "models")
    assert settings.embedded_warehouse_url.endswith(str(tmp_path / "warehouse" / "nexgen.db"))
    assert settings.warehouse_url is None and settings.landing_interval_seconds == 5


def test_values_are_typed_and_a_bad_number_names_its_variable(tmp_path):
    settings = Settings.from_env({"NEXGEN_HOME": str(tmp_path), "NEXGEN_LANDING_INTERVAL_SECONDS": "30",
                                  "NEXGEN_LAKE": "s3a://bucket/lake", "NEXGEN_RETRAIN_CRON": "0 1 * * *"})
    assert settings.landing_interval_seconds == 30 and settings.lake == "s3a://bucket/lake"
    assert settings.retrain_cron == "0 1 * * *"
    with pytest.raises(ValueError, match="NEXGEN_SPARK_CONNECT_PORT='fifteen'"):
        Settings.from_env({"NEXGEN_SPARK_CONNECT_PORT": "fifteen"})
    assert Settings.from_env({"NEXGEN_EARLIEST_DATE": "2010-01-01"}).earliest_date == dt.date(2010, 1, 1)
    with pytest.raises(ValueError, match="NEXGEN_EARLIEST_DATE='01/01/2010': expected an ISO date"):
        Settings.from_env({"NEXGEN_EARLIEST_DATE": "01/01/2010"})


def test_secrets_stay_out_of_repr():
    settings = Settings.from_env({"NEXGEN_WAREHOUSE_URL": "postgresql://u:hunter2@db/x"})
    assert settings.warehouse_url.endswith("@db/x")
    assert "hunter2" not in repr(settings)


def test_no_other_module_reads_a_nexgen_variable_and_every_one_is_a_setting():
    package = Path(nexgen_assets.__file__).parent
    reads = re.compile(r"(environ\.get|getenv)\(\s*[\"']NEXGEN_|environ\[[\"']NEXGEN_\w+[\"']\](?!\s*=)")
    readers = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "settings.py" and reads.search(path.read_text())
    ]
    assert readers == []
    mentioned = {name for path in package.rglob("*.py") for name in re.findall(r"NEXGEN_[A-Z_]+", path.read_text())}
    assert mentioned - {"NEXGEN_"} <= set(variables())


def test_holiday_country_subdivision_and_retail_events_make_the_holiday_calendar():
    default = Settings.from_env({})
    assert (default.holiday_country, default.holiday_subdivision, default.retail_events) == ("US", None, True)
    assert default.fiscal_calendar == "calendar_months"
    chosen = Settings.from_env({"NEXGEN_HOLIDAY_COUNTRY": "DE", "NEXGEN_HOLIDAY_SUBDIVISION": "BY",
                                "NEXGEN_RETAIL_EVENTS": "false", "NEXGEN_FISCAL_CALENDAR": "4-5-4"})
    calendar = chosen.holiday_calendar
    assert (calendar.country, calendar.subdivision, calendar.retail_events) == ("DE", "BY", False)
    assert chosen.fiscal_calendar == "4-5-4"
    assert Settings.from_env({"NEXGEN_RETAIL_EVENTS": "On"}).retail_events is True


def test_an_unknown_holiday_region_or_fiscal_calendar_fails_at_load_naming_its_variable():
    with pytest.raises(ValueError, match=r"NEXGEN_HOLIDAY_COUNTRY='XX': .*holidays.list_supported_countries"):
        Settings.from_env({"NEXGEN_HOLIDAY_COUNTRY": "XX"})
    with pytest.raises(ValueError, match="NEXGEN_HOLIDAY_SUBDIVISION='ZZ': not a subdivision of DE; use one of BB, BE"):
        Settings.from_env({"NEXGEN_HOLIDAY_COUNTRY": "DE", "NEXGEN_HOLIDAY_SUBDIVISION": "ZZ"})
    with pytest.raises(ValueError, match="NEXGEN_HOLIDAY_SUBDIVISION='BY': not a subdivision of US"):
        Settings.from_env({"NEXGEN_HOLIDAY_SUBDIVISION": "BY"})
    with pytest.raises(ValueError, match="NEXGEN_RETAIL_EVENTS='maybe': expected true or false"):
        Settings.from_env({"NEXGEN_RETAIL_EVENTS": "maybe"})
    with pytest.raises(ValueError, match="NEXGEN_FISCAL_CALENDAR='4-4-5': expected calendar_months or 4-5-4"):
        Settings.from_env({"NEXGEN_FISCAL_CALENDAR": "4-4-5"})
