"""The audited day: its default (yesterday in the deployment's time zone, the one definition the CLI and
the flows share) and the ``--prefix`` selection. The marts carry each order's day as ``listed_on`` (the
date in its manifest's file name)."""

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
