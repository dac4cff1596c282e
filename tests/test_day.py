"""The audited day: one default (yesterday in the configured zone), the manifests' marker, prefixes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from flows.day import parse_prefixes, yesterday


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Africa/Casablanca"])
def test_yesterday_is_the_day_before_today_where_the_deployment_is(zone: str) -> None:
    before = dt.datetime.now(ZoneInfo(zone)).date()
    got = yesterday(zone)
    after = dt.datetime.now(ZoneInfo(zone)).date()
    assert got + dt.timedelta(days=1) in (before, after)


def test_zones_a_day_apart_give_different_yesterdays() -> None:
    # UTC+14 and UTC-11 are always on different calendar days
    assert yesterday("Pacific/Kiritimati") != yesterday("Pacific/Pago_Pago")


def test_prefixes() -> None:
    assert parse_prefixes(" sav_adsl, ACQUISITION ,") == ["SAV_ADSL", "ACQUISITION"]
    assert parse_prefixes(["", " "]) is None
    assert parse_prefixes(None) is None
