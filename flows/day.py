"""The audited day: its default (yesterday in the deployment's time zone, the one definition the CLI and
the flows share), the manifests' day marker of the input contract, and the ``--prefix`` selection."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def yesterday(timezone: str) -> dt.date:
    """The day before today in ``timezone`` (the configured ``CALLAUDIT_TIMEZONE``)."""
    return dt.datetime.now(ZoneInfo(timezone)).date() - dt.timedelta(days=1)


def parse_prefixes(prefix: str | list[str] | None) -> list[str] | None:
    if prefix is None:
        return None
    items = prefix if isinstance(prefix, list) else prefix.split(",")
    cleaned = [p.strip().upper() for p in items if p and p.strip()]
    return cleaned or None


def day_file_marker(day: dt.date) -> str:
    """What the source file of an order listed for ``day`` contains: ``_<YYYYMMDD>.`` (input contract)."""
    return f"%\\_{day:%Y%m%d}.%"
