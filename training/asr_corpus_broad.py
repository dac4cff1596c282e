"""Broad French training text for the bundled ASR model: French at large, not a template list.

The first bundled model learned its 52 templates (about 390 words) and little French beyond them: on
sentences it never saw it scored 81 % WER. This module widens the training text with sources that install
offline from Debian, plus generated material a call centre hears:

- ``wfrench`` 1.2.7: 346,205 lower-case French words (many conjugated forms), for word strings that teach
  the spelling of words no sentence contains, and as the dictionary that filters the other sources;
- ``stardict-xmlittre``: the Littré dictionary's quotations and examples (291,165 quotations), cut into
  clauses of 3–14 words, kept only when nearly every word is a modern ``wfrench`` word (drops Old French);
- generated spoken material: digits, phone numbers in pairs, dates, times, amounts, spelled letters and
  identifiers, first names and surnames of several origins;
- telecom after-sales and installation phrasing written for this recipe (``TELECOM_TEMPLATES``), on top of
  the call-centre templates of :mod:`training.asr_corpus`.

Neither ``synth/phrases.py`` nor any evaluation phrase bank is read here, so figures measured on the
generator's calls and on independent phrasings remain out-of-sample. The Debian packages are fetched with
``apt-get download`` and unpacked with ``dpkg-deb -x`` into a cache folder (training machines only;
the pipeline never needs them).
"""

from __future__ import annotations

import gzip
import random
import re
import subprocess
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from inference.asr_model import normalize_text
from inference.text import number_to_words
from training import asr_corpus as base

DEBIAN_PACKAGES = ("wfrench", "stardict-xmlittre")
DEFAULT_CACHE = Path.home() / ".cache" / "callaudit-asr-text"

# names as paragraphs (a 150-item list literal would take 150 lines)
FIRST_NAMES = """
Adam Adèle Adrien Agathe Ahmed Aïcha Alain Albert Alexandre Alice Amandine Amina Anas Anaïs André Anne
Annie Arnaud Arthur Aurélie Axel Aya Bastien Baptiste Benoît Bilal Brahim Brigitte Caroline Catherine
Cédric Charles Charlotte Christian Christine Clément Corinne Damien Daniel David Delphine Denis Didier
Dominique Driss Élise Élodie Emma Éric Étienne Fabrice Farid Fatiha Florian Françoise Gabriel Gaël
Georges Gilles Guillaume Hafsa Hamza Hanane Hassan Henri Ibrahim Imane Inès Jacques Jamal Jean Jérôme
Joël Jonathan Joseph Kamal Kenza Khadija Lucas Lucie Louise Malika Marie Mariam Marine Martine Mathilde
Maxime Mélanie Michel Mohamed Mounir Mustapha Naïma Nicole Noémie Noura Océane Pascal Patrick Paul
Philippe Rachid Rania Raphaël Rémi Richard Salma Samia Sébastien Simone Soufiane Stéphane Sylvie Tarik
Théo Valérie Vincent Virginie Walid Xavier Yasmine Yassine Zineb Zakaria Ali Ayoub Hajar Meryem Othmane
Ilyas Reda Souad Latifa Abdelkader Abdellah Najat Houda Jalal Adil Aziz Said Khalid Loubna Sanaa Ghita
""".split()  # noqa: SIM905

SURNAMES = """
Alami Amrani Azoulay Bakkali Barbier Benjelloun Bennani Benmoussa Berrada Bertrand Blanc Boucher
Bouchard Brun Chaoui Charpentier Chevalier Clément Colin Da_Silva David Denis Dumas Dupuis El_Amrani
El_Fassi El_Idrissi Ennaji Fabre Faure Fontaine Gauthier Gautier Guerin Hamdaoui Henry Jacob Kabbaj
Kettani Lacroix Lahlou Lamrani Lefèvre Lemaire Leroy Lopez Lucas Marchand Mathieu Mercier Meyer
Mouline Muller Nicolas Ouazzani Perrin Petit Renard Robin Rousseau Roussel Sebti Skalli Slaoui Tahiri
Tazi Tounsi Vidal Zniber Boutaleb Cherkaoui Filali Guessous Hajji Jabri Kadiri Lazrak Mansouri
Naciri Ouali Rami Sefrioui Sqalli Touzani Yacoubi Zerouali Belkadi Bensaïd Chraïbi Guédira
""".split()  # noqa: SIM905
SURNAMES = [name.replace("_", " ") for name in SURNAMES]

# Telecom installation and after-sales phrasing written for this recipe. Slots: see _telecom_slot.
TELECOM_TEMPLATES: list[str] = [
    "Votre box internet ne se synchronise plus depuis {day}, on va envoyer quelqu'un.",
    "La ligne est coupée au niveau du répartiteur, un technicien doit intervenir.",
    "Le débit est très faible le soir, surtout après {time}.",
    "Le voyant rouge du modem clignote sans arrêt.",
    "Il faut passer la fibre depuis le boîtier dans la cage d'escalier jusqu'au salon.",
    "Nous devons raccorder votre logement au point de branchement optique.",
    "La prise téléphonique est dans la chambre, au fond du couloir.",
    "Le routeur redémarre tout seul plusieurs fois par jour.",
    "Vous avez souscrit à l'offre {offer} le {date}.",
    "Votre demande de raccordement a bien été enregistrée sous le numéro {digits}.",
    "Je passe entre {time} et {time2}, il faudra que quelqu'un soit présent.",
    "Le syndic n'a pas encore donné l'autorisation de travaux dans l'immeuble.",
    "Mon mari s'occupe de ça, rappelez plutôt ce soir après le travail.",
    "Je ne peux pas vous recevoir cette semaine, je pars en déplacement.",
    "Je ne veux plus de cet abonnement, vous pouvez tout annuler.",
    "Ça fait trois fois qu'on me déplace le rendez-vous, j'en ai assez.",
    "On peut convenir d'un autre jour, {day} ou {day2} par exemple ?",
    "Je vous rappelle dès que j'ai une disponibilité, merci de votre compréhension.",
    "Personne ne décroche, je laisse un message et je rappellerai plus tard.",
    "C'est bien le {phone} ? Je n'arrive pas à joindre le client.",
    "Le client ne répond ni sur le fixe ni sur le portable.",
    "La ligne sonne dans le vide, je réessaierai dans deux heures.",
    "Vous avez le code wifi au dos de la box, sous le code-barres.",
    "Il faut débrancher le câble d'alimentation et attendre trente secondes.",
    "Je vais ouvrir un ticket d'incident pour votre panne.",
    "Votre dossier est suspendu tant que nous n'avons pas de nouvelles de votre part.",
    "L'intervention est annulée à votre demande, vous recevrez un message de confirmation.",
    "Nous sommes au regret de vous informer que le créneau est complet.",
    "Je suis chargé de l'installation de votre fibre optique.",
    "Pouvez-vous me confirmer votre adresse exacte et l'étage ?",
    "L'antenne de {city} est saturée, les délais sont un peu plus longs.",
    "Votre conseiller {first} reste à votre disposition pour toute question.",
    "Je vous laisse mon numéro direct, le {phone}.",
    "Ce n'est pas la bonne personne, {first} n'habite plus ici.",
    "Je suis au travail jusqu'à {time}, je ne pourrai pas être chez moi.",
    "Ma fille sera là pour ouvrir au technicien.",
    "Votre installation est terminée, tout fonctionne correctement.",
    "La référence de votre contrat commence par {letters}.",
    "Le modèle du routeur est le {letters} {num}.",
    "Vous pouvez suivre votre demande sur l'espace client ou par téléphone.",
]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ELISION = re.compile(r"^(?:[ldjmntsc]|qu|jusqu|lorsqu|puisqu|quoiqu)'")
_CLAUSE = re.compile(r"\s*[,;:.!?()«»\"]+\s*")


def fetch_debian(packages: tuple[str, ...] = DEBIAN_PACKAGES, cache: Path = DEFAULT_CACHE) -> Path:
    """Download and unpack Debian packages (no installation) into ``cache``; returns the unpacked root."""
    root = cache / "root"
    cache.mkdir(parents=True, exist_ok=True)
    for name in packages:
        stamp = cache / f"{name}.unpacked"
        if stamp.exists():
            continue
        subprocess.run(["apt-get", "download", name], cwd=cache, check=True, capture_output=True)
        deb = max(cache.glob(f"{name}_*.deb"), key=lambda p: p.stat().st_mtime)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        stamp.write_text(deb.name + "\n")
    return root


@lru_cache(maxsize=2)
def wordlist(cache: Path = DEFAULT_CACHE) -> frozenset[str]:
    """``wfrench``'s words, normalised like transcripts (single words only)."""
    text = (fetch_debian(cache=cache) / "usr/share/dict/french").read_text(encoding="utf-8")
    return frozenset(w for w in (normalize_text(x) for x in text.splitlines()) if w and " " not in w)


def _known(word: str, words: frozenset[str]) -> bool:
    return word in words or _ELISION.sub("", word) in words


@lru_cache(maxsize=2)
def littre_clauses(cache: Path = DEFAULT_CACHE, min_words: int = 3, max_words: int = 14) -> tuple[str, ...]:
    """Distinct clauses of the Littré's quotations and examples whose words are all modern French."""
    words = wordlist(cache)
    with gzip.open(fetch_debian(cache=cache) / "usr/share/stardict/dic/XMLittre.dict.dz", "rt") as f:
        raw = f.read()
    quotes = re.findall(r'<span foreground="#0000CD">(.*?)</span>', raw, flags=re.S)
    seen: set[str] = set()
    out: list[str] = []
    for quote in quotes:
        quote = re.sub(r"\[[^\]]*\]|<[^>]+>", " ", quote)
        for clause in _CLAUSE.split(quote):
            norm = normalize_text(clause)
            tokens = norm.split()
            if not (min_words <= len(tokens) <= max_words) or norm in seen:
                continue
            if re.search(r"[A-Z]{2}|\d", clause) or not all(_known(t, words) for t in tokens):
                continue
            seen.add(norm)
            out.append(clause.strip())
    return tuple(out)


def _letters(rng: random.Random) -> str:
    return " ".join(rng.choice(_LETTERS) for _ in range(rng.randint(2, 4)))


def _telecom_slot(slot: str, rng: random.Random) -> str:
    generated = base._generated(slot.rstrip("2"), rng)
    if generated is not None:
        return generated
    match slot:
        case "day" | "day2":
            return rng.choice(base.VALUES["day"])
        case "offer":
            return rng.choice(["fibre", "A D S L", "V D S L", "internet et téléphone", "quadruple play"])
        case "letters":
            return _letters(rng)
        case "city":
            return rng.choice(base.VALUES["city"])
        case "first":
            return rng.choice(FIRST_NAMES)
    raise KeyError(slot)


def telecom_sentence(rng: random.Random) -> str:
    template = rng.choice(TELECOM_TEMPLATES)
    values: dict[str, str] = {}
    for slot in base._SLOT.findall(template):
        values.setdefault(slot, _telecom_slot(slot, rng))
    return template.format(**values)


def spoken_material(rng: random.Random) -> str:
    """Numbers, dates, times, phone numbers, spelled identifiers and names, as a call centre says them."""
    kind = rng.randrange(8)
    if kind == 0:
        return base._generated("phone", rng) or ""
    if kind == 1:
        return " ".join(number_to_words(rng.randint(0, 9)) for _ in range(rng.randint(4, 10)))
    if kind == 2:
        day = rng.randint(1, 31)
        month = rng.choice(base._MONTHS)
        year = rng.choice(["", f" {number_to_words(rng.randint(2020, 2030))}"])
        spoken_day = "premier" if day == 1 else number_to_words(day)
        return f"{rng.choice(base.VALUES['day'])} {spoken_day} {month}{year}"
    if kind == 3:
        return f"à {base._time(rng)}, {rng.choice(base.VALUES['part'])}"
    if kind == 4:
        return f"{_letters(rng)} {number_to_words(rng.randint(1, 9999))}"
    if kind == 5:
        unit = rng.choice(["euros", "dirhams", "minutes", "jours"])
        return f"{number_to_words(rng.randint(1, 999_999))} {unit}"
    names = [f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}" for _ in range(rng.randint(1, 3))]
    return ", ".join(names) if kind == 6 else f"{rng.choice(base.VALUES['civ'])} {rng.choice(SURNAMES)}"


def word_string(rng: random.Random, words: list[str]) -> str:
    """3–8 dictionary words in random order: spellings that no sentence here contains."""
    return " ".join(rng.choice(words) for _ in range(rng.randint(3, 8)))


# share of each kind in the training text (the rest: the call-centre templates of asr_corpus)
MIX = {"littre": 0.40, "words": 0.10, "spoken": 0.15, "telecom": 0.15}


def broad_sentences(
    count: int, seed: int, cache: Path = DEFAULT_CACHE, exclude: set[str] | None = None
) -> list[str]:
    """``count`` distinct sentences in the proportions of :data:`MIX`, deterministic for a seed."""
    rng = random.Random(f"broad-{seed}")
    clauses = list(littre_clauses(cache))
    words = sorted(wordlist(cache))
    makers: list[tuple[float, Callable[[random.Random], str]]] = [
        (MIX["littre"], lambda g: g.choice(clauses)),
        (MIX["words"], lambda g: word_string(g, words)),
        (MIX["spoken"], spoken_material),
        (MIX["telecom"], telecom_sentence),
    ]
    templates = 1.0 - sum(share for share, _ in makers)
    makers.append((templates, lambda g: base._fill(g.choice(base.TEMPLATES), g, base.VALUES, set())))

    def make(g: random.Random) -> str:
        r, acc = g.random(), 0.0
        for share, maker in makers:
            acc += share
            if r < acc:
                return maker(g)
        return makers[-1][1](g)

    return base._unique(rng, count, make, exclude or set())
