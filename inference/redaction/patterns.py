"""The regular expressions the rules match: phones, e-mails, order ids, CIN and NIR, RIB and IBAN starts,
dates of birth, addresses, the words around names (triggers, titles, roles) and name tokens."""

from __future__ import annotations

import re

from inference.redaction.wordlists import _ADDRESS_KEYS, _ADDRESS_UNIT_KEYS, _ADDRESS_WEAK_KEYS
from inference.text import MONTH_PATTERN

_NAME_TOKEN_RE = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")
_NEXT_NAME_RE = re.compile(r"[ \t]+([^\W\d_]+(?:[-'][^\W\d_]+)*)")
_AFTER_TRIGGER_RE = re.compile(r"[ \t]*,?[ \t]*")
_AFTER_TITLE_RE = re.compile(r"[ \t]+")
_ALNUM_STEP_RE = re.compile(r"[ \t\-]?([a-z0-9])", re.I)
_ALNUM_CHAR_RE = re.compile(r"[a-z0-9]", re.I)
_TAIL_WORD_RE = re.compile(r"[ \t]*(?:'|,[ \t]*(?=\d))?[ \t]*([^\W_]+(?:[-'][^\W_]+)*)")

_S = r"[ \t.\-]?"
_PHONE_PATTERNS = (
    (rf"(?<![\w+])(?:\+|00){_S}(?:212|33)(?:{_S}\(0\))?{_S}[1-9](?:{_S}\d){{8}}(?!\d)", 0.95),
    (rf"(?<![\w+])0{_S}[1-9](?:{_S}\d){{8}}(?!\d)", 0.9),
    (rf"(?<![\w+])(?:212|33){_S}[1-9](?:{_S}\d){{8}}(?!\d)", 0.85),
    (rf"(?<![\w+])(?:\+|00){_S}[1-9]\d{{0,2}}(?:{_S}\(?\d\)?){{7,12}}(?!\d)", 0.8),
    (r"(?<![\w+])\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}(?!\d)", 0.75),
)
_PHONE_RES = tuple((re.compile(p), s) for p, s in _PHONE_PATTERNS)
_EMAIL_RE = re.compile(r"(?<![\w.+\-])[\w.+\-']*\w@\w[\w\-]*(?:\.[\w\-]+)*\.[a-z]{2,}(?![\w\-])", re.I)
_SEP_WORD_RE = r"(?:[-_]|tiret|dash|hyphen)"
_ORDER_PREFIXED_RE = re.compile(
    rf"(?<![^\W_])(?:c ?m ?d|t ?c ?k)[ \t]*{_SEP_WORD_RE}?[ \t]*\d(?:[ \t\-]?\d){{3,13}}(?!\d)", re.I
)
_ORDER_GENERIC_RE = re.compile(r"(?<![^\W_])[A-Z]{2,4}-\d{4,12}(?![^\W_])")
_FILL = r"(?:[ \t,:;'\-?!.]+(?:[^\W\d_]+|n°|#))"


def _context_re(context: str, value: str, fill: int) -> re.Pattern[str]:
    """``context`` then up to ``fill`` words, then ``value`` (the named group v)."""
    return re.compile(rf"(?:{context})(?:{_FILL}){{0,{fill}}}?[ \t,:;'#°\-?!.]*(?P<v>{value})", re.I)


_ORDER_CONTEXT_RE = _context_re(
    r"\b(?:commandes?|tickets?|dossiers?|r[ée]clamations?|contrats?|orders?|case|demandes?|interventions?"
    r"|r[ée]f[ée]rences?|ref)\b",
    r"(?<![^\W_])\d(?:[ \t\-]?\d){4,14}(?![ \t\-]?\d)",
    5,
)
_CIN_STRICT_RE = re.compile(r"(?<![^\W_])[A-Z]{1,2}\d{5,6}(?![^\W_])")
_CIN_CONTEXT_RE = _context_re(
    r"\b(?:cin|c\.i\.n|carte (?:nationale|d'identit[ée])|pi[èe]ce d'identit[ée]|identit[ée] nationale"
    r"|passeport|passport|identity card|id card|national id(?:entity)?)\b",
    r"(?<![^\W_])[a-z](?:[ \t]?[a-z])?[ \t]?-?[ \t]?\d(?:[ \t]?\d){4,7}(?![ \t]?\d)",
    6,
)
_NIR_RE = re.compile(r"(?<![\w])[12](?:[ \t.]?\d){12}(?:[ \t.]?\d[ \t.]?\d)?(?![ \t.]?\d)")
_NIR_CONTEXT_RE = re.compile(
    r"s[ée]curit[ée] sociale|\bs[ée]cu\b|\bnir\b|carte vitale|\binsee\b|social security", re.I
)
_RIB_RE = re.compile(r"(?<![\w])\d(?:[ \t.\-]?\d){23}(?![ \t.\-]?\d)")
_IBAN_START_RE = re.compile(r"(?<![^\W_])([a-z])[ \t]?([a-z])[ \t]?(\d)[ \t]?(\d)", re.I)
_IBAN_CONTEXT_RE = re.compile(r"\biban\b|\brib\b|bancaire|bank|compte", re.I)
_YEAR = r"\d{2}(?:[ \t]?\d{2})?"  # 1985, 85, "19 85" (English "nineteen eighty-five")
_DATE_VALUE = (
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[ \t]?[/.\-][ \t]?\d{1,2}[ \t]?[/.\-][ \t]?\d{2,4}"
    r"|(?:\d{1,2}|premier|first)(?:st|nd|rd|th|er)?[ \t]+(?:of[ \t]+)?"
    rf"(?:{MONTH_PATTERN})\.?,?[ \t]+{_YEAR}"
    rf"|(?:{MONTH_PATTERN})\.?[ \t]+\d{{1,2}}(?:st|nd|rd|th)?,?[ \t]+{_YEAR}"
    r"|\d(?:[ \t/.\-]?\d){5,7}(?![ \t/.\-]?\d)"
    r"|(?:19|20)\d\d(?!\d)"
)
_DOB_RE = _context_re(
    r"\b(?:n[ée]e?s?|n[ée]\(e\))[ \t]+(?:le|en|au|à|a)\b|\bdate[ \t]+de[ \t]+naissance\b|\bnaissance\b"
    r"|\bborn(?:[ \t]+(?:on|in))?\b|\bdate[ \t]+of[ \t]+birth\b|\bbirth[ \t]*date\b|\bbirthday\b"
    r"|\bd\.?o\.?b\b",
    rf"(?<![^\W_])(?:{_DATE_VALUE})",
    4,
)
_ADDRESS_RE = re.compile(
    r"(?:(?<![\w])(?:n°|num[ée]ro)?[ \t]*(?P<num>\d{1,4}(?:[ \t]?(?:bis|ter|[a-d]))?)[ \t]*,?[ \t]+)?"
    rf"\b(?P<key>(?P<strong>{_ADDRESS_KEYS})|(?P<weak>{_ADDRESS_WEAK_KEYS}))\b\.?",
    re.I,
)
_ADDRESS_UNIT_RE = re.compile(
    rf"\b(?:{_ADDRESS_UNIT_KEYS})\.?[ \t]*(?:n°|num[ée]ro|no\.?|number|#)?[ \t]*\d{{1,4}}[a-z]?\b", re.I
)
_ADDRESS_EN_RE = re.compile(
    r"(?<![\w])\d{1,5}[a-z]?,?[ \t]+(?:[a-z'\-]+[ \t]+){1,3}"
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|close|court|place|square"
    r"|terrace|crescent|grove)\b\.?",
    re.I,
)
_POSTCODE_TAIL_RE = re.compile(r"[ \t]*,?[ \t]*\d{5}(?:[ \t]+[^\W\d_][\w'\-]*)?")
_ROMAN_RE = re.compile(r"(?:i{1,3}|iv|v|vi{1,3}|ix|x)", re.I)
_ELISIONS = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu"})
_CONTRACTION_RE = re.compile(r"^(?:[ldjmnstc]|qu)'|'(?:ll|m|re|ve|d|s|t)$")
_ROLE_AFTER_RE = re.compile(
    r"[ \t,]+(?:technicien|technicienne|conseiller|conseillere|agent|technician|advisor|engineer"
    r"|a l'appareil|speaking)\b",
    re.I,
)
_VERB_FORM_RE = re.compile(r"(?:ing|é|ée|és|ées)$", re.I)  # "calling from", "passé de": not names
_FROM_AFTER_RE = re.compile(r"[ \t]+(?:from|de|d'|du|chez|with|at)[ \t]*([^\W\d_]+)", re.I)
_ADDRESS_KEYWORD_RE = re.compile(rf"(?:{_ADDRESS_KEYS}|{_ADDRESS_WEAK_KEYS}|{_ADDRESS_UNIT_KEYS})", re.I)
_UNIT_ONLY_NUMERO = re.compile(r"(?:num[ée]ro|n°|no)\.?[ \t]*\d{1,4}[a-z]?", re.I)
_PERSON_TRIGGERS = (
    (
        re.compile(
            r"\b(?:je m'appelle|m'appelle|mon nom (?:est|c'est)|mon prenom (?:est|c'est)|nom de famille"
            r"(?: (?:est|c'est))?|au nom de|de la part de|messagerie(?: vocale)? de|repondeur de"
            r"|my name is|my name's|name is|you(?:'ve| have) reached|voicemail of|on behalf of"
            r"|(?:under|in) the name(?: of)?|sous le nom(?: de)?|le nom (?:c'est|est))\b",
            re.I,
        ),
        "strong",
        0.85,
    ),
    (
        re.compile(
            r"\b(?:monsieur|madame|mademoiselle|mister|missus|miss|docteur|doctor|professeur|professor"
            r"|hajj?|hadj|hajja|haja)\b",
            re.I,
        ),
        "title",
        0.85,
    ),
    (re.compile(r"(?<![\w.])(?:M|MM|Mr|Mrs|Ms|Mme|Mlle|Mmes|Dr|Pr)\.?(?=[ \t])"), "title", 0.85),
    (
        re.compile(
            r"\b(?:je suis|c'est|moi c'est|ici|bonjour|bonsoir|salut|salam|allo|merci|au revoir|this is"
            r"|i am|i'm|it's|hello|hi|hey|thanks|thank you|goodbye|parler a|parler avec|speak (?:to|with)"
            r"|speaking with|chez|avec|with|dear|cher|chere|mon mari|ma femme|mon epoux|mon epouse|mon fils"
            r"|ma fille|mon frere|ma soeur|ma sœur|mon pere|ma mere|my husband|my wife|my son|my daughter"
            r"|my brother|my sister|le client|la cliente|the customer|technicien|technicienne|collegues?"
            r"|conseiller|conseillere|agent|livreur|livreuse|superviseur|superviseure|responsable|colleague"
            r"|technician|engineer|advisor|adviser|manager|supervisor)\b",
            re.I,
        ),
        "weak",
        0.7,
    ),
)
