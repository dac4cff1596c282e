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
from dataclasses import dataclass
from typing import Any

from inference.llm_schema import Classification
from inference.text import JOINERS, MONTHS, SCALES, UNITS, fold_aligned, token_key, words_to_numbers
from inference.text import LOOSE_TOKEN as TOKEN

AUDITED_FIELDS = ("summary", "action_items")

IDENT = re.compile(r"\b[a-z]{2,6}[-_]?\d{3,}[a-z0-9]*\b")
PHONE = re.compile(r"(?<![\w/.-])\+?\d{1,4}(?:[ .\-]?\(?\d{1,4}\)?){3,}(?![\w/])")
DATE_NUMERIC = re.compile(r"\b(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2,4}))?\b")
DATE_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")

DATE_WORDS = re.compile(
    r"\b(\d{1,2})(?:er|st|nd|rd|th)?\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
    r"(?:\s+(\d{4}))?\b"
)


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
    tokens = {token_key(m) for m in TOKEN.finditer(text)}
    tokens |= {token_key(m) for t in vault_tokens for m in TOKEN.finditer(t)}
    plain = [TOKEN.sub(" ", s) for s in (fold_aligned(text), digitize(text))]
    runs = {r for s in plain for r in re.findall(r"\d+", s)}
    runs |= {_digits(m.group()) for s in plain for m in PHONE.finditer(s)}
    numbers = {_number(m.group()) for s in plain for m in NUMBER.finditer(s)}
    dates = {d for s in plain for d in _dates(s)}
    return _Evidence(frozenset(tokens), _alnum(text), frozenset(runs), frozenset(numbers), frozenset(dates))


def digitize(text: str) -> str:
    """``text`` folded, number words as digits: 'douze mars a quatorze heures' → '12 mars a 14 heures'."""
    out: list[str] = []
    run: list[str] = []
    for piece in re.split(r"([^a-z0-9]+)", fold_aligned(text)):
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


# -- the answer ------------------------------------------------------------------------------------------
def _check_text(text: str, field: str, ev: _Evidence) -> list[Violation]:
    """The violations of one text; ``folded`` is blanked where a claim has been checked."""
    folded = fold_aligned(text)
    found = [
        Violation("token", m.group(), field) for m in TOKEN.finditer(text) if token_key(m) not in ev.tokens
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
def _alnum(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", fold_aligned(text)).upper()


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
