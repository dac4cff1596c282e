"""The input contract of whole files: manifest file names and header rows.

Each parser returns a value or raises ``ContractError`` with a message that says what to fix; the
loader turns that message into an ``ops.rejects`` row. The cells of each row (phone numbers, dates,
timestamps, durations, required text) are typed in SQL, by the functions of
``sql/015_contract_functions.sql`` that flows/landing.py calls: one definition, run by the database over
every row of a file at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from inference.text import fold


class ContractError(ValueError):
    """A value that does not follow the input contract."""


MANIFEST_NAME = re.compile(
    r"^(?P<type>[A-Za-z]+)_(?P<offer>[A-Za-z]+)_(?P<day>\d{8})\.(?P<ext>csv|xlsx)$", re.IGNORECASE
)


@dataclass(frozen=True)
class ManifestName:
    order_type: str
    offer: str
    day: date
    extension: str

    @property
    def prefix(self) -> str:
        return f"{self.order_type}_{self.offer}"


def parse_manifest_name(name: str, types: list[str], offers: list[str]) -> ManifestName:
    match = MANIFEST_NAME.match(name)
    if not match:
        raise ContractError(
            f"file name {name!r} does not follow <TYPE>_<OFFER>_<YYYYMMDD>.(csv|xlsx), "
            "e.g. SAV_ADSL_20261120.csv"
        )
    order_type, offer = match.group("type").upper(), match.group("offer").upper()
    if order_type not in types:
        raise ContractError(f"file name {name!r}: type {order_type!r} is not one of {types}")
    if offer not in offers:
        raise ContractError(f"file name {name!r}: offer {offer!r} is not one of {offers}")
    try:
        day = datetime.strptime(match.group("day"), "%Y%m%d").date()
    except ValueError as exc:
        raise ContractError(f"file name {name!r}: {match.group('day')!r} is not a date YYYYMMDD") from exc
    return ManifestName(order_type, offer, day, match.group("ext").lower())


def map_headers(headers: list[object], mapping: dict[str, str], required: list[str]) -> dict[int, str]:
    """Column index → canonical name, from a header row and the configured {header: canonical} map."""
    folded = {fold(header): canonical for header, canonical in mapping.items()}
    columns: dict[int, str] = {}
    for index, header in enumerate(headers):
        canonical = folded.get(fold(str(header or "")))
        if canonical is not None and canonical not in columns.values():
            columns[index] = canonical
    missing = [c for c in required if c not in columns.values()]
    if missing:
        expected = {canonical: header for header, canonical in mapping.items()}
        raise ContractError(
            "missing column(s) "
            + ", ".join(f"{c} (header {expected.get(c, c)!r})" for c in missing)
            + f"; headers found: {[str(h) for h in headers]}. Fix the file or config/contract.toml"
        )
    return columns
