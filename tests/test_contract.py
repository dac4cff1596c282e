"""The input contract's parsers (pure functions)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from inference.contract import (
    ContractError,
    fold,
    map_headers,
    normalize_phone,
    parse_date,
    parse_manifest_name,
    parse_timestamp,
)

TYPES, OFFERS = ["ACQUISITION", "SAV"], ["ADSL", "VULA"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0612345678", "212612345678"),
        ("06 12 34 56 78", "212612345678"),
        ("+212 6 12 34 56 78", "212612345678"),
        ("00212612345678", "212612345678"),
        ("212612345678", "212612345678"),
        ("+33 6 12 34 56 78", "33612345678"),
        (612345678, "212612345678"),  # a spreadsheet dropped the leading 0
        (612345678.0, "212612345678"),
        ("06.12.34.56.78", "212612345678"),
    ],
)
def test_phone_numbers_become_e164_digits(raw: object, expected: str) -> None:
    assert normalize_phone(raw, "212", 9) == expected


def test_default_country_is_configurable() -> None:
    assert normalize_phone("0612345678", "33", 9) == "33612345678"


@pytest.mark.parametrize("raw", ["n/a", "", None, "12", "06-12-AB"])
def test_bad_phone_numbers_say_why(raw: object) -> None:
    with pytest.raises(ContractError, match="phone number"):
        normalize_phone(raw, "212", 9)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20/11/2026", date(2026, 11, 20)),
        ("2026-11-20", date(2026, 11, 20)),
        ("05/03/2026", date(2026, 3, 5)),  # day first
        ("20/11/2026 14:30", date(2026, 11, 20)),
        (datetime(2026, 11, 20, 9, 0), date(2026, 11, 20)),
        (46346, date(2026, 11, 20)),  # Excel serial
    ],
)
def test_dates(raw: object, expected: date) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["31/02/2026", "hier", "", 12])
def test_bad_dates_are_contract_errors(raw: object) -> None:
    with pytest.raises(ContractError):
        parse_date(raw)


def test_manifest_names() -> None:
    name = parse_manifest_name("SAV_VULA_20261120.xlsx", TYPES, OFFERS)
    assert (name.order_type, name.offer, name.day, name.prefix) == (
        "SAV",
        "VULA",
        date(2026, 11, 20),
        "SAV_VULA",
    )
    for bad in ("SAV_FIBRE_20261120.csv", "SAV_VULA_2026.csv", "calls.csv", "SAV_VULA_20261320.csv"):
        with pytest.raises(ContractError):
            parse_manifest_name(bad, TYPES, OFFERS)


def test_timestamps_keep_offsets_and_default_to_the_deployment_zone() -> None:
    aware = parse_timestamp("2026-11-20T09:30:00+00:00", "Africa/Casablanca")
    assert aware.utcoffset().total_seconds() == 0
    naive = parse_timestamp("2026-11-20 09:30:00", "Africa/Casablanca")
    assert naive.utcoffset().total_seconds() == 3600
    with pytest.raises(ContractError, match="ISO 8601"):
        parse_timestamp("yesterday 9am", "Africa/Casablanca")


def test_headers_map_by_configuration_ignoring_case_and_accents() -> None:
    mapping = {"N° Commande": "order_id", "Numéro Client": "client_number", "Statut": "status"}
    columns = map_headers(
        ["numero client", " STATUT ", "N° Commande", "Extra"], mapping, ["order_id", "status"]
    )
    assert columns == {0: "client_number", 1: "status", 2: "order_id"}
    with pytest.raises(ContractError, match=r"order_id \(header 'N° Commande'\)"):
        map_headers(["Numéro Client", "Statut"], mapping, ["order_id", "status"])


def test_fold() -> None:
    assert fold("  Client  INJOIGNABLE ") == fold("client injoignable")
    assert fold("Créé") == "cree"
