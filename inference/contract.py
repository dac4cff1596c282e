"""The input contract as pure functions: file names, phone numbers, dates, timestamps, labels.

Each parser returns a value or raises ``ContractError`` with a message that says what to fix; the
loader turns that message into an ``ops.rejects`` row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from inference.text import fold

MAX_CALL_DURATION_S = 86_400  # a call's duration_s above a day is a data error (raw.calls' GX range)


class ContractError(ValueError):
    """A value that does not follow the input contract."""


MANIFEST_NAME = re.compile(
    r"^(?P<type>[A-Za-z]+)_(?P<offer>[A-Za-z]+)_(?P<day>\d{8})\.(?P<ext>csv|xlsx)$", re.IGNORECASE
)
_EXCEL_EPOCH = datetime(1899, 12, 30)
_PHONE_FORBIDDEN = re.compile(r"[^\d\s+().\-/]")
_NON_DIGIT = re.compile(r"\D")
_DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATE_FORMATS = (
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d/%m/%y",
    "%Y/%m/%d",
    "%Y%m%d",
)
_DATETIME_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
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


def normalize_phone(raw: object, country_code: str = "212", national_length: int = 9) -> str:
    """E.164 digits without '+': ``0612345678`` → ``212612345678``, ``+33 6 12 34 56 78`` → ``33612345678``.

    A national number that lost its leading 0 (a spreadsheet stored it as a number) is accepted too.
    """
    if raw is None:
        raise ContractError("phone number is empty")
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ContractError(f"phone number {raw!r} is not a whole number")
        raw = int(raw)
    text = str(raw).strip()
    if not text:
        raise ContractError("phone number is empty")
    if _PHONE_FORBIDDEN.search(text):
        raise ContractError(f"phone number {text!r} contains characters other than digits and separators")
    digits = text if text.isdigit() else _NON_DIGIT.sub("", text)
    if not digits:
        raise ContractError(f"phone number {text!r} has no digits")
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    elif digits.startswith("0") and len(digits) == national_length + 1:
        number = country_code + digits[1:]
    elif len(digits) == national_length:
        number = country_code + digits
    else:
        number = digits
    if not 8 <= len(number) <= 15:
        raise ContractError(f"phone number {text!r} gives {number!r}: E.164 numbers have 8 to 15 digits")
    return number


def parse_date(value: object) -> date:
    """A calendar date from a manifest cell: dd/mm/yyyy (day first), ISO, Excel dates or serials."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ContractError("date is empty")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000:  # an Excel serial day number (1954–2119)
            return (_EXCEL_EPOCH + timedelta(days=float(value))).date()
        raise ContractError(f"date {value!r} is a number but not an Excel date serial")
    text = str(value).strip()
    fast = _DAY_FIRST.match(text) or _ISO_DAY.match(text)
    if fast:  # the common shapes, without strptime's cost
        a, b, c = (int(g) for g in fast.groups())
        try:
            return date(c, b, a) if fast.re is _DAY_FIRST else date(a, b, c)
        except ValueError as exc:
            raise ContractError(f"date {text!r} is not a calendar date") from exc
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ContractError(f"date {text!r} is not a date (expected dd/mm/yyyy or yyyy-mm-dd)")


def parse_timestamp(value: object, timezone: str) -> datetime:
    """An ISO 8601 timestamp; one without an offset is read in the deployment's time zone."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value or "").strip()
        if not text:
            raise ContractError("start_time is empty")
        try:
            parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
        except ValueError as exc:
            raise ContractError(
                f"start_time {text!r} is not ISO 8601 (e.g. 2026-11-20T09:30:00+01:00)"
            ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed


def parse_duration(value: object) -> float:
    text = str(value if value is not None else "").strip().replace(",", ".")
    try:
        seconds = float(text)
    except ValueError as exc:
        raise ContractError(f"duration_s {text!r} is not a number of seconds") from exc
    if not seconds >= 0:  # also catches NaN
        raise ContractError(f"duration_s {text!r} is negative or not a number")
    if not seconds <= MAX_CALL_DURATION_S:  # also catches inf
        raise ContractError(
            f"duration_s {text!r} is more than a day ({MAX_CALL_DURATION_S} s): not a call's length"
        )
    return seconds


def required_text(value: object, column: str) -> str:
    if value is None:
        raise ContractError(f"{column} is empty")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        raise ContractError(f"{column} is empty")
    return text


@dataclass(frozen=True)
class DateBounds:
    """The dates a row may hold (settings ``earliest_date`` / ``latest_date``): a manifest date or a call's
    start outside them (1900, 2999: a typo or a placeholder) quarantines the row."""

    earliest: date
    latest: date

    def check(self, value: date, column: str) -> date:
        if not self.earliest <= value <= self.latest:
            raise ContractError(
                f"{column} {value.isoformat()} is outside the accepted dates {self.earliest.isoformat()} to "
                f"{self.latest.isoformat()} (CALLAUDIT_EARLIEST_DATE / CALLAUDIT_LATEST_DATE)"
            )
        return value


@dataclass(frozen=True)
class ManifestRow:
    order_type: str
    offer: str
    file_date: date
    order_id: str
    client_number: str
    client_number_raw: str
    ordered_on: date
    suspended_on: date
    status: str
    motif: str
    offer_label: str | None

    def as_row(self) -> tuple:
        return (
            self.order_type,
            self.offer,
            self.file_date,
            self.order_id,
            self.client_number,
            self.client_number_raw,
            self.ordered_on,
            self.suspended_on,
            self.status,
            self.motif,
            self.offer_label,
        )


@dataclass(frozen=True)
class CallRecord:
    call_id: str
    branch: str
    caller_number: str
    client_number: str
    client_number_raw: str
    start_time: datetime
    duration_s: float
    audio_path: str | None


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


def parse_manifest_row(
    cells: dict[str, object],
    name: ManifestName,
    country_code: str,
    national_length: int,
    bounds: DateBounds | None = None,
    offers: list[str] | None = None,
) -> ManifestRow:
    """One manifest row; ``bounds`` limits its dates, and an offer column naming another of ``offers``
    than the file name's contradicts it (a label that names no known offer, "Fibre", is kept as written)."""
    raw_phone = cells.get("client_number")
    ordered_on = parse_date(cells.get("ordered_on"))
    suspended_on = parse_date(cells.get("suspended_on"))
    if bounds is not None:
        bounds.check(ordered_on, "ordered_on")
        bounds.check(suspended_on, "suspended_on")
    if suspended_on < ordered_on:
        raise ContractError(f"suspended_on {suspended_on} is before ordered_on {ordered_on}")
    offer_label = cells.get("offer")
    label = "" if offer_label is None else str(offer_label).strip().upper()
    if offers and label in offers and label != name.offer:
        raise ContractError(
            f"offer {label!r} contradicts the file name's offer {name.offer!r}: the row belongs in "
            f"{name.order_type}_{label}_{name.day:%Y%m%d}"
        )
    return ManifestRow(
        order_type=name.order_type,
        offer=name.offer,
        file_date=name.day,
        order_id=required_text(cells.get("order_id"), "order_id"),
        client_number=normalize_phone(raw_phone, country_code, national_length),
        client_number_raw=str(raw_phone).strip(),
        ordered_on=ordered_on,
        suspended_on=suspended_on,
        status=required_text(cells.get("status"), "status"),
        motif=required_text(cells.get("motif"), "motif"),
        offer_label=None if offer_label is None else str(offer_label).strip() or None,
    )


def parse_call_row(
    cells: dict[str, object],
    timezone: str,
    country_code: str,
    national_length: int,
    bounds: DateBounds | None = None,
) -> CallRecord:
    raw_phone = cells.get("client_number")
    audio = str(cells.get("audio_path") or "").strip().lstrip("/")
    start_time = parse_timestamp(cells.get("start_time"), timezone)
    if bounds is not None:
        bounds.check(start_time.date(), "start_time")
    return CallRecord(
        call_id=required_text(cells.get("call_id"), "call_id"),
        branch=required_text(cells.get("branch"), "branch"),
        caller_number=normalize_phone(cells.get("caller_number"), country_code, national_length),
        client_number=normalize_phone(raw_phone, country_code, national_length),
        client_number_raw=str(raw_phone).strip(),
        start_time=start_time,
        duration_s=parse_duration(cells.get("duration_s")),
        audio_path=audio or None,
    )
