"""The text toolkit: folding keeps offsets, months and spoken numbers both ways agree."""

from __future__ import annotations

import re

import pytest

from inference.text import (
    LOOSE_TOKEN,
    MONTH_PATTERN,
    MONTHS,
    PLACEHOLDER,
    REDACTION_TOKEN,
    fold,
    fold_aligned,
    number_to_words,
    strip_accents_aligned,
    token_key,
    words_to_numbers,
)


def test_fold_compares_labels_whatever_their_case_accents_and_spacing() -> None:
    assert fold("  Client  INJOIGNABLE ") == fold("client injoignable")
    assert fold("Numéro Client") == "numero client"


@pytest.mark.parametrize("text", ["Août, Zoé ÉTÉ’s\u00a0œ", "İstanbul ﬁn", "Ça coûte 12 €", ""])
def test_aligned_folds_keep_every_offset(text: str) -> None:
    assert len(fold_aligned(text)) == len(text)
    assert len(strip_accents_aligned(text)) == len(text)


def test_aligned_folds() -> None:
    assert fold_aligned("Août, Zoé ÉTÉ’s\u00a0x") == "aout, zoe ete's x"
    assert strip_accents_aligned("Zoé ÉTÉ") == "Zoe ETE"


def test_tokens() -> None:
    assert REDACTION_TOKEN.fullmatch("[PHONE_NUMBER_12]")
    assert not REDACTION_TOKEN.fullmatch("[person_1]")
    loose = LOOSE_TOKEN.search("appeler [ person _ 02 ] demain")
    assert loose and token_key(loose) == "[PERSON_2]"
    assert PLACEHOLDER.fullmatch("[PHONE_NUMBER]") and not PLACEHOLDER.fullmatch("[phone]")


@pytest.mark.parametrize(
    ("spelled", "month"), [("août", 8), ("aout", 8), ("Févr", 2), ("décembre", 12), ("sept", 9), ("may", 5)]
)
def test_months_with_or_without_accents(spelled: str, month: int) -> None:
    assert MONTHS[fold(spelled)] == month
    assert re.fullmatch(f"(?:{MONTH_PATTERN})", spelled.lower())


@pytest.mark.parametrize("n", [0, 1, 17, 21, 71, 80, 81, 91, 99, 100, 101, 180, 200, 999, 1000, 2026, 71_091])
def test_spoken_numbers_both_ways(n: int) -> None:
    assert words_to_numbers(re.split(r"[\s-]+", fold(number_to_words(n)))) == [n]


def test_a_run_of_digits_says_each_digit() -> None:
    assert words_to_numbers(["zero", "six", "douze"]) == [0, 6, 12]
    assert words_to_numbers(["quatre", "vingt", "dix"]) == [90]
    with pytest.raises(ValueError):
        number_to_words(1_000_000)
