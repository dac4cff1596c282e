"""Audit of a model's answer: nothing it claims may be absent from what it was shown.

:func:`audit` looks at the free-text fields of a classification (``summary``, ``action_items``) and returns
a :class:`Violation` for every placeholder token (``[PERSON_1]``), identifier (``CMD-0001234``,
``TCK00012340``, runs of 3+ digits), phone-like number, date (``12/03/2026``, ``2026-03-12``, ``12 mars``)
or other number that does not appear in the redacted input it was given (tokens may also be any of the
vault's tokens for that call). ``call_type`` and ``behavior`` are schema fields, not claims: never audited.

Comparisons are normalised: identifiers without case or separators, phone numbers and digit runs as digits
only, numbers by value (``12,5`` = ``12.5``, ``007`` = ``7``), dates as (day, month[, year]) whatever their
spelling. French (and basic English) number words in the input count as numbers (``quatorze heures`` backs
``14h``; ``douze mars`` backs ``12/03``), since transcripts spell numbers out. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from inference.llm_schema import Classification

AUDITED_FIELDS = ("summary", "action_items")

TOKEN = re.compile(r"\[\s*([A-Za-z][A-Za-z_]*?)\s*_\s*(\d+)\s*\]")
IDENT = re.compile(r"\b[a-z]{2,6}[-_]?\d{3,}[a-z0-9]*\b")
PHONE = re.compile(r"(?<![\w/.-])\+?\d{1,4}(?:[ .\-]?\(?\d{1,4}\)?){3,}(?![\w/])")
DATE_NUMERIC = re.compile(r"\b(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2,4}))?\b")
DATE_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")

MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "janv": 1, "fev": 2, "avr": 4, "juil": 7, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
}  # fmt: skip
DATE_WORDS = re.compile(
    r"\b(\d{1,2})(?:er|st|nd|rd|th)?\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
    r"(?:\s+(\d{4}))?\b"
)

UNITS = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
    "seize": 16, "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
SCALES = {"cent": 100, "cents": 100, "hundred": 100, "mille": 1000, "thousand": 1000}
JOINERS = {"et", "and"}  # vingt et un, one hundred and five


@dataclass(frozen=True)
class Violation:
    """One claim of the answer not backed by its input: kind is token, id, phone, date or number."""

    kind: str
    value: str
    field: str


@dataclass(frozen=True)
class _Evidence:
    """What the redacted input contains, normalised."""

    tokens: frozenset[str]
    alnum: str  # upper-case letters and digits only, for identifiers
    digit_runs: frozenset[str]  # every run of digits, and every phone-like number as digits
    numbers: frozenset[float]
    dates: frozenset[tuple[int, int, int | None]]


def audit(
    parsed: dict[str, Any] | Classification, redacted_input: str, vault_tokens: set[str]
) -> list[Violation]:
    """Every token, identifier, phone number, date and number of the answer's text fields not in the input."""
    data = parsed.model_dump() if isinstance(parsed, Classification) else dict(parsed or {})
    evidence = _evidence(redacted_input or "", vault_tokens or set())
    violations: list[Violation] = []
    for name, text in _texts(data):
        violations += _check_text(text, name, evidence)
    return violations


def _texts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(field name, text) of the audited fields: ``summary``, ``action_items[i]``."""
    out = []
    summary = data.get("summary")
    if summary is not None:
        out.append(("summary", str(summary)))
    items = data.get("action_items") or []
    if isinstance(items, str):
        items = [items]
    for i, item in enumerate(items if isinstance(items, list | tuple) else []):
        out.append((f"action_items[{i}]", str(item)))
    return out


# -- the input -------------------------------------------------------------------------------------------
def _evidence(text: str, vault_tokens: set[str]) -> _Evidence:
    tokens = {_token_key(m) for m in TOKEN.finditer(text)}
    tokens |= {_token_key(m) for t in vault_tokens for m in TOKEN.finditer(t)}
    plain = [TOKEN.sub(" ", s) for s in (fold(text), digitize(text))]
    runs = {r for s in plain for r in re.findall(r"\d+", s)}
    runs |= {_digits(m.group()) for s in plain for m in PHONE.finditer(s)}
    numbers = {_number(m.group()) for s in plain for m in NUMBER.finditer(s)}
    dates = {d for s in plain for d in _dates(s)}
    return _Evidence(frozenset(tokens), _alnum(text), frozenset(runs), frozenset(numbers), frozenset(dates))


def digitize(text: str) -> str:
    """``text`` folded, number words as digits: 'douze mars a quatorze heures' → '12 mars a 14 heures'."""
    out: list[str] = []
    run: list[str] = []
    for piece in re.split(r"([^a-z0-9]+)", fold(text)):
        if piece in UNITS or piece in SCALES or (run and piece in JOINERS):
            run.append(piece)
        elif run and re.fullmatch(r"[\s-]+", piece):
            continue  # spaces or hyphens inside a run of number words
        else:
            if run:
                out.append(" " + " ".join(map(str, words_to_numbers(run))) + " ")
                run.clear()
            out.append(piece)
    if run:
        out.append(" " + " ".join(map(str, words_to_numbers(run))))
    return "".join(out)


def words_to_numbers(words: list[str]) -> list[int]:
    """The numbers a run of number words says: ['quatre', 'vingt', 'dix'] → [90]; ['zero', 'six'] → [0, 6]."""
    numbers: list[int] = []
    total, current, last = 0, 0, None
    for word in words:
        if word in JOINERS:
            continue
        if word in SCALES:
            if SCALES[word] == 1000:
                total, current = total + max(current, 1) * 1000, 0
            else:
                current = max(current, 1) * 100
            last = SCALES[word]
            continue
        value = UNITS[word]
        if value == 20 and last == 4 and word.startswith("vingt"):
            current, last = current + 76, 80  # quatre-vingt(s)
            continue
        if last is not None and not _adds(last, value):
            numbers.append(total + current)
            total, current = 0, 0
        current += value
        last = value
    if last is not None:
        numbers.append(total + current)
    return numbers


def _adds(last: int, value: int) -> bool:
    """Whether ``value`` continues a number whose last word is worth ``last``: vingt-deux, soixante-douze."""
    if last >= 100:
        return value < 100
    if last in (60, 80):
        return 1 <= value <= 19
    if last >= 20:
        return 1 <= value <= 9
    return last == 10 and 7 <= value <= 9  # dix-sept, dix-huit, dix-neuf


# -- the answer ------------------------------------------------------------------------------------------
def _check_text(text: str, field: str, ev: _Evidence) -> list[Violation]:
    """The violations of one text; ``folded`` is blanked where a claim has been checked."""
    folded = fold(text)
    found = [
        Violation("token", m.group(), field) for m in TOKEN.finditer(text) if _token_key(m) not in ev.tokens
    ]
    folded = TOKEN.sub(lambda m: " " * len(m.group()), folded)
    checks = (
        (DATE_ISO, "date", lambda m: _date_check(_iso(m), ev)),
        (DATE_WORDS, "date", lambda m: _date_check(_worded(m), ev)),
        (DATE_NUMERIC, "date", lambda m: _date_check(_numeric(m), ev)),
        (IDENT, "id", lambda m: _alnum(m.group()) in ev.alnum),
        (
            PHONE,
            "phone",
            lambda m: _digits(m.group()) in ev.digit_runs if len(_digits(m.group())) >= 8 else None,
        ),
    )
    for pattern, kind, check in checks:
        folded, more = _take(text, folded, pattern, kind, field, check)
        found += more
    for m in NUMBER.finditer(folded):
        value = m.group()
        long_run = len(value) >= 3 and value.isdigit()
        ok = value in ev.digit_runs if long_run else _number(value) in ev.numbers
        if not ok:
            found.append(Violation("id" if long_run else "number", text[m.start() : m.end()], field))
    return found


def _take(
    text: str, folded: str, pattern: re.Pattern[str], kind: str, field: str, check: Any
) -> tuple[str, list[Violation]]:
    """Check the matches of ``pattern`` (True: backed, False: a violation, None: not a claim of this kind).

    Returns ``folded`` with the checked matches blanked, and the violations (quoted from ``text``).
    """
    violations = []
    chars = list(folded)
    for m in pattern.finditer(folded):
        verdict = check(m)
        if verdict is None:
            continue
        if not verdict:
            violations.append(Violation(kind, text[m.start() : m.end()].strip(), field))
        chars[m.start() : m.end()] = " " * (m.end() - m.start())
    return "".join(chars), violations


def _date_check(date: tuple[int, int, int | None] | None, ev: _Evidence) -> bool | None:
    """None when the match is no date (2026-13-45, 3.5): its numbers are then checked as numbers."""
    if date is None:
        return None
    day, month, year = date
    return any(d == day and m == month and (year is None or y is None or y == year) for d, m, y in ev.dates)


# -- normalisation ---------------------------------------------------------------------------------------
def fold(text: str) -> str:
    """Lower case without accents, character for character (août → aout), so positions stay aligned."""
    return "".join(_fold_char(c) for c in text)


def _fold_char(c: str) -> str:
    base = "".join(x for x in unicodedata.normalize("NFKD", c) if not unicodedata.combining(x)).lower()
    if len(base) == 1:
        return base
    lowered = c.lower()
    return lowered if len(lowered) == 1 else c


def _token_key(m: re.Match[str]) -> str:
    return f"[{m.group(1).upper()}_{int(m.group(2))}]"


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", fold(text)).upper()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _year(text: str | None) -> int | None:
    if not text:
        return None
    year = int(text)
    return year + 2000 if year < 100 else year


def _valid(day: int, month: int, year: int | None) -> tuple[int, int, int | None] | None:
    return (day, month, year) if 1 <= day <= 31 and 1 <= month <= 12 else None


def _iso(m: re.Match[str]) -> tuple[int, int, int | None] | None:
    return _valid(int(m.group(3)), int(m.group(2)), int(m.group(1)))


def _worded(m: re.Match[str]) -> tuple[int, int, int | None] | None:
    return _valid(int(m.group(1)), MONTHS[m.group(2)], _year(m.group(3)))


def _numeric(m: re.Match[str]) -> tuple[int, int, int | None] | None:
    if m.group(3) is None and "/" not in m.group():
        return None  # '3.5', '12-45' without a year: numbers, not a date
    return _valid(int(m.group(1)), int(m.group(2)), _year(m.group(3)))


def _dates(folded: str) -> set[tuple[int, int, int | None]]:
    found = {_iso(m) for m in DATE_ISO.finditer(folded)}
    found |= {_worded(m) for m in DATE_WORDS.finditer(folded)}
    found |= {_numeric(m) for m in DATE_NUMERIC.finditer(DATE_ISO.sub(" ", folded))}
    return {d for d in found if d is not None}
