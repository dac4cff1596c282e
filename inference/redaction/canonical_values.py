"""Canonical values: ``canonical`` normalises a value (case, spaces, separators, spoken digits, phone
country codes, date formats) so that the same value always gets the same token."""

from __future__ import annotations

import re
from datetime import date

from inference.redaction.patterns import _PHONE_RES
from inference.redaction.spoken import spoken_to_written
from inference.text import MONTHS, fold_aligned, strip_accents_aligned


def canonical(entity_type: str, value: str, country_code: str = "212", language: str = "fr") -> str:
    """The normalised value that decides token identity (case, spaces, separators, spoken digits)."""
    written = spoken_to_written(value, language).text if entity_type != "PERSON" else value
    if entity_type == "PHONE":
        return _canonical_phone(written, country_code)
    if entity_type in ("ORDER_ID", "NATIONAL_ID", "IBAN"):
        written = re.sub(r"\b(?:tiret|dash|hyphen)\b", "", written, flags=re.I)
        return re.sub(r"[\W_]", "", fold_aligned(written)).upper()
    if entity_type == "EMAIL":
        return written.strip().lower()
    if entity_type == "DATE_OF_BIRTH":
        return _canonical_date(written)
    return " ".join(re.sub(r"[^\w]+", " ", fold_aligned(written)).split())


def _canonical_phone(written: str, country_code: str) -> str:
    matches = [m.group(0) for regex, _ in _PHONE_RES for m in regex.finditer(strip_accents_aligned(written))]
    if matches:
        written = max(matches, key=len)
    digits = re.sub(r"\D", "", written)
    if digits.startswith("00"):
        return digits[2:]
    if written.lstrip().startswith("+"):
        return digits
    if len(digits) == 10 and digits.startswith("0"):
        return country_code + digits[1:]
    if len(digits) == 9 and not digits.startswith("0"):
        return country_code + digits
    return digits


def _canonical_date(written: str) -> str:
    folded = fold_aligned(written)
    numbers = [int(n) for n in re.findall(r"\d+", folded)]
    month = next((MONTHS[w] for w in re.findall(r"[a-z]+", folded) if w in MONTHS), None)
    if "premier" in folded or "first" in folded:
        numbers.insert(0, 1)
    try:
        if month and len(numbers) >= 2:
            day, year = numbers[0], numbers[-1]
            return date(year + (1900 if year < 100 else 0), month, day).isoformat()
        if len(numbers) == 3 and numbers[0] > 31:
            return date(numbers[0], numbers[1], numbers[2]).isoformat()
        if len(numbers) == 3:
            year = numbers[2] + (1900 if numbers[2] < 100 else 0)
            return date(year, numbers[1], numbers[0]).isoformat()
        digits = "".join(re.findall(r"\d", folded))
        if not month and len(digits) in (6, 8):
            year = int(digits[4:]) + (1900 if len(digits) == 6 else 0)
            return date(year, int(digits[2:4]), int(digits[:2])).isoformat()
    except ValueError:
        pass
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())
