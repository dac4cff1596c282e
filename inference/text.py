"""The text toolkit: one definition of each piece of text handling the stages share.

- **Folding**: :func:`fold` compares labels and headers (case, accents and whitespace ignored);
  :func:`fold_aligned` lower-cases and strips accents character for character, so offsets found in the
  folded text index the original (redaction spans, audited claims); :func:`strip_accents_aligned` does
  the same and keeps the case (name detection needs capitals).
- **Redaction tokens**: :data:`REDACTION_TOKEN` is the ``[TYPE_N]`` form the redactor writes;
  :data:`LOOSE_TOKEN` also accepts the spacing and case a language model may give back
  (``[ person_1 ]``); :data:`PLACEHOLDER` is any upper-case bracketed placeholder (``[PERSON_1]``,
  ``[PHONE_NUMBER]``), kept whole by the text keys of the embeddings.
- **Months**: :data:`MONTHS` maps folded French and English month names and abbreviations to 1-12;
  :data:`MONTH_PATTERN` matches them with or without accents.
- **Spoken numbers**, both ways: :data:`NUMBER_WORDS` (French and English number words by kind, the
  lexicon of the redactor's spoken-to-written rewrite), :func:`words_to_numbers` (a run of number words to
  the numbers it says) and :func:`number_to_words` (French words for a number, as speech says it).

Pure functions and constants; no I/O.
"""

from __future__ import annotations

import re
import unicodedata

# ----------------------------------------------------------------------------------------- folding

APOSTROPHES = {ord("’"): "'", ord("‘"): "'", ord("ʼ"): "'", ord("`"): "'"}
_SPACES = {0xA0: " ", 0x202F: " "}


def fold(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form used to compare labels and headers."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def _fold_char(c: str, lower: bool) -> str:
    mapped = APOSTROPHES.get(ord(c)) or _SPACES.get(ord(c))
    if mapped:
        return mapped
    base = "".join(x for x in unicodedata.normalize("NFKD", c) if not unicodedata.combining(x))
    out = base if len(base) == 1 else c
    if lower:
        lowered = out.lower()
        out = lowered if len(lowered) == 1 else out
    return out


class _AlignedFold(dict[int, str]):
    """A ``str.translate`` table filled on first sight of each character: one character in, one out."""

    def __init__(self, lower: bool) -> None:
        super().__init__()
        self.lower = lower

    def __missing__(self, code: int) -> str:
        self[code] = _fold_char(chr(code), self.lower)
        return self[code]


_KEEP_CASE, _LOWER = _AlignedFold(lower=False), _AlignedFold(lower=True)


def strip_accents_aligned(text: str) -> str:
    """Accents stripped character for character (``Zoé`` → ``Zoe``), typographic apostrophes as ``'``,
    non-breaking spaces as spaces; case kept and the length unchanged, so offsets stay valid."""
    return text.translate(_KEEP_CASE)


def fold_aligned(text: str) -> str:
    """:func:`strip_accents_aligned` in lower case (``Août`` → ``aout``), the length unchanged."""
    return text.translate(_LOWER)


# ------------------------------------------------------------------------------- redaction tokens

REDACTION_TOKEN = re.compile(r"\[([A-Z][A-Z_]*?)_(\d+)\]")
LOOSE_TOKEN = re.compile(r"\[\s*([A-Za-z][A-Za-z_]*?)\s*_\s*(\d+)\s*\]")
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*\]")


def token_key(match: re.Match[str]) -> str:
    """The canonical ``[TYPE_N]`` of a :data:`REDACTION_TOKEN` or :data:`LOOSE_TOKEN` match."""
    return f"[{match.group(1).upper()}_{int(match.group(2))}]"


# ----------------------------------------------------------------------------------------- months


def _seq(text: str) -> list[str]:
    return text.split()


_MONTH_NAMES = (
    _seq("janvier février mars avril mai juin juillet août septembre octobre novembre décembre"),
    _seq("january february march april may june july august september october november december"),
    _seq("jan feb mar apr may jun jul aug sep oct nov dec"),
)
_MONTH_ABBREVIATIONS = {"janv": 1, "fév": 2, "févr": 2, "avr": 4, "juil": 7, "sept": 9, "déc": 12}
MONTHS: dict[str, int] = {
    **{fold(name): i for names in _MONTH_NAMES for i, name in enumerate(names, 1)},
    **{fold(name): i for name, i in _MONTH_ABBREVIATIONS.items()},
}
_MONTH_SPELLINGS = {
    spelling
    for names in (*_MONTH_NAMES, list(_MONTH_ABBREVIATIONS))
    for name in names
    for spelling in (name, fold(name))
}
MONTH_PATTERN = "|".join(sorted(_MONTH_SPELLINGS, key=lambda s: (-len(s), s)))
"""A regex alternation of every month name and abbreviation, accented or not, longest first."""

# ------------------------------------------------------------------------------- spoken numbers


NUMBER_WORDS: dict[str, dict[str, tuple[str, int]]] = {
    "fr": {
        "zero": ("zero", 0),
        **{w: ("unit", v) for v, w in enumerate(_seq("un deux trois quatre cinq six sept huit neuf"), 1)},
        "une": ("unit", 1),
        **{w: ("teen", v) for v, w in enumerate(_seq("dix onze douze treize quatorze quinze seize"), 10)},
        **{w: ("tens", v) for w, v in (("vingt", 20), ("vingts", 20), ("trente", 30), ("quarante", 40))},
        **{w: ("tens", v) for w, v in (("cinquante", 50), ("soixante", 60), ("septante", 70))},
        **{w: ("tens", v) for w, v in (("huitante", 80), ("octante", 80), ("nonante", 90))},
        "cent": ("hundred", 100),
        "cents": ("hundred", 100),
        "mille": ("thousand", 1000),
        "et": ("and", 0),
        "double": ("mult", 2),
        "triple": ("mult", 3),
        "plus": ("plus", 0),
    },
    "en": {
        "zero": ("zero", 0),
        "oh": ("zero", 0),
        **{w: ("unit", v) for v, w in enumerate(_seq("one two three four five six seven eight nine"), 1)},
        **{
            w: ("teen", v)
            for v, w in enumerate(
                _seq("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"), 10
            )
        },
        **{
            w: ("tens", v)
            for v, w in zip(
                range(20, 100, 10), _seq("twenty thirty forty fifty sixty seventy eighty ninety"), strict=True
            )
        },
        "hundred": ("hundred", 100),
        "thousand": ("thousand", 1000),
        "and": ("and", 0),
        "double": ("mult", 2),
        "triple": ("mult", 3),
        "plus": ("plus", 0),
    },
}
"""Folded number words by language: word → (kind, value). Kinds: zero, unit, teen, tens, hundred, thousand,
and (the joiner of ``vingt et un``), mult (``double six``), plus (``plus deux cent douze``)."""

# "oh" is a number only inside a run of digits ("oh six"): alone it is an interjection.
_NOT_ALONE = frozenset({"oh"})
_ALL_WORDS = [(w, kind, v) for words in NUMBER_WORDS.values() for w, (kind, v) in words.items()]
_VALUES = ("zero", "unit", "teen", "tens")
UNITS = {w: v for w, kind, v in _ALL_WORDS if kind in _VALUES and w not in _NOT_ALONE}
SCALES = {w: v for w, kind, v in _ALL_WORDS if kind in ("hundred", "thousand")}
JOINERS = {w for w, kind, _ in _ALL_WORDS if kind == "and"}


def words_to_numbers(words: list[str]) -> list[int]:
    """The numbers a run of folded number words says: ['quatre', 'vingt', 'dix'] → [90]; ['zero', 'six'] →
    [0, 6]; ['vingt', 'et', 'un'] → [21]."""
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


_UNIT_WORDS = [
    "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
    "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf",
]  # fmt: skip
_TENS_WORDS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}


def number_to_words(n: int) -> str:
    """French words for 0 <= n < 1,000,000, hyphenated as written (``quatre-vingt-douze``)."""
    if n < 0 or n >= 1_000_000:
        raise ValueError(f"out of range: {n}")
    if n < 20:
        return _UNIT_WORDS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        if tens in (7, 9):
            base = "soixante" if tens == 7 else "quatre-vingt"
            rest = _UNIT_WORDS[10 + unit]
            return f"{base} et {rest}" if (tens == 7 and unit == 1) else f"{base}-{rest}"
        base = "quatre-vingt" if tens == 8 else _TENS_WORDS[tens]
        if unit == 0:
            return "quatre-vingts" if tens == 8 else base
        if unit == 1 and tens != 8:
            return f"{base} et un"
        return f"{base}-{_UNIT_WORDS[unit]}"
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = "cent" if hundreds == 1 else f"{_UNIT_WORDS[hundreds]} cent"
        if rest == 0:
            return head + ("s" if hundreds > 1 else "")
        return f"{head} {number_to_words(rest)}"
    thousands, rest = divmod(n, 1000)
    head = "mille" if thousands == 1 else f"{number_to_words(thousands)} mille"
    return head if rest == 0 else f"{head} {number_to_words(rest)}"
