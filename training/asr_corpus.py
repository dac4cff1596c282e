"""A deterministic corpus of call-centre French for the bundled ASR model.

Sentences come from templates filled with slot values; numbers, dates and times are already written in
words. Some names, companies, cities and streets are held out of training entirely, so that
:func:`unseen_word_sentences` measures words the model never heard.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from inference.asr_model import normalize_text
from inference.text import number_to_words

TEMPLATES: list[str] = [
    "Bonjour {civ} {last}, je suis {first} de la société {company}.",
    "Bonjour, {first} {last} à l'appareil, technicien chez {company}.",
    "Allô, bonjour, est-ce que je suis bien chez {civ} {last} ?",
    "Bonsoir {civ}, je vous appelle au sujet de votre demande d'intervention.",
    "Bonjour, ici {first} du service client de {company}, comment puis-je vous aider ?",
    "Je suis le technicien qui doit passer chez vous {date} pour {device}.",
    "Je vous appelle de la part de {company} pour {device}.",
    "Votre numéro de dossier est le {digits}.",
    "Le numéro de ticket est {digits}, je vous le répète, {digits}.",
    "Pouvez-vous me rappeler votre numéro de commande, s'il vous plaît ?",
    "Oui, c'est la commande {order}.",
    "Je vous propose un rendez-vous {day} {date} à {time}.",
    "Est-ce que {day} {part} vous conviendrait ?",
    "Je serai chez vous vers {time}, au {num} {street} à {city}.",
    "Je dois malheureusement reporter notre rendez-vous de {day}.",
    "Est-ce qu'on peut déplacer l'intervention {date} à {time} ?",
    "Le rendez-vous est avancé à {day} {time}, ça vous va ?",
    "Non, désolé, ce créneau ne me convient pas du tout.",
    "Je ne serai pas disponible {day}, je travaille toute la journée.",
    "Je ne suis pas intéressé, merci de ne plus m'appeler.",
    "Je refuse cette intervention, je vais annuler ma commande.",
    "{civ} {last} est absent pour le moment, vous pouvez rappeler {part} ?",
    "Il n'y a personne à la maison {day}, mon mari rentre à {time}.",
    "Vous êtes bien sur la messagerie de {first} {last}, laissez-moi un message après le bip sonore.",
    "Bonjour, vous êtes sur le répondeur de {company}, nos bureaux ouvrent à {time}.",
    "Le numéro que vous avez demandé n'est pas attribué.",
    "Votre correspondant n'est pas joignable pour le moment, veuillez rappeler ultérieurement.",
    "Toutes nos lignes sont occupées, merci de patienter.",
    "Ce numéro n'est plus en service actuellement.",
    "L'adresse est le {num} {street}, à {city}.",
    "J'habite au {num} {street}, le code postal c'est {postcode}.",
    "Le code de la porte est {code}, c'est au {floor} étage.",
    "{device} {problem} depuis {day} dernier.",
    "Depuis {date}, {device} {problem}.",
    "D'accord, c'est parfait, je note le rendez-vous pour {day} à {time}.",
    "Très bien, merci beaucoup, bonne journée {civ}.",
    "Oui, tout à fait, je suis d'accord avec vous.",
    "Excusez-moi pour le retard, je serai là dans {duration}.",
    "Je vous remercie de votre patience, au revoir {civ} {last}.",
    "Mon numéro de téléphone est le {phone}.",
    "Pouvez-vous m'envoyer une confirmation au {phone} ?",
    "La facture s'élève à {amount} euros.",
    "Le technicien {first} passera entre {time} et {time2}.",
    "Je vous passe mon collègue {first} {last}, ne quittez pas.",
    "Votre intervention est confirmée {date} {part}.",
    "Je suis devant votre immeuble au {num} {street}, mais personne ne répond.",
    "Il faudra prévoir environ {duration} pour l'installation.",
    "Je rappellerai {day} {part}, merci.",
    "Désolé, je me suis trompé de numéro.",
    "Pas de problème, je comprends tout à fait.",
    "Notre agence de {city} vous enverra un technicien {date}.",
    "{first} {last} de {company} a laissé un message pour vous.",
]

# Slot values used in training; the HELD_OUT values never appear in any training sentence.
VALUES: dict[str, list[str]] = {
    "civ": ["monsieur", "madame", "mademoiselle"],
    "first": [
        "Marc",
        "Julie",
        "Thomas",
        "Sophie",
        "Nicolas",
        "Camille",
        "Pierre",
        "Isabelle",
        "Antoine",
        "Nathalie",
        "Julien",
        "Céline",
        "Mathieu",
        "Claire",
        "Olivier",
        "Émilie",
        "Laurent",
        "Sandrine",
        "Hugo",
        "Léa",
        "Karim",
        "Fatima",
        "Yann",
        "Chloé",
        "Bruno",
        "Hélène",
        "Romain",
        "Manon",
    ],
    "last": [
        "Martin",
        "Bernard",
        "Dubois",
        "Durand",
        "Lefebvre",
        "Moreau",
        "Laurent",
        "Simon",
        "Michel",
        "Garcia",
        "Roux",
        "Fournier",
        "Girard",
        "Bonnet",
        "Dupont",
        "Lambert",
        "Fontaine",
        "Rousseau",
        "Vincent",
        "Muller",
        "Faure",
        "André",
        "Mercier",
        "Blanc",
        "Guérin",
        "Boyer",
        "Chevalier",
    ],
    "company": [
        "Télécom Services",
        "Fibre Plus",
        "Domotech",
        "Électro Dépannage",
        "Habitat Confort",
        "Thermo Ouest",
        "Clim Azur",
        "Réseau Direct",
        "Énergie Maison",
        "Installations Leroy",
    ],
    "city": [
        "Paris",
        "Lyon",
        "Marseille",
        "Toulouse",
        "Nantes",
        "Bordeaux",
        "Lille",
        "Rennes",
        "Nice",
        "Strasbourg",
        "Montpellier",
        "Grenoble",
        "Dijon",
        "Angers",
        "Reims",
        "Tours",
        "Limoges",
        "Nancy",
    ],
    "street": [
        "rue de la Paix",
        "avenue Victor Hugo",
        "boulevard Gambetta",
        "rue des Lilas",
        "rue Pasteur",
        "avenue de la République",
        "rue du Moulin",
        "place de l'Église",
        "rue Jean Jaurès",
        "chemin des Vignes",
        "rue de la Gare",
        "allée des Roses",
        "boulevard Voltaire",
        "rue du Château",
        "impasse des Pins",
        "avenue du Général de Gaulle",
        "rue Nationale",
        "quai de la Loire",
    ],
    "day": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
    "part": ["le matin", "l'après-midi", "en fin de journée", "en début de matinée", "vers midi"],
    "device": [
        "la box internet",
        "le chauffe-eau",
        "la chaudière",
        "le compteur électrique",
        "la fibre",
        "le décodeur",
        "la climatisation",
        "le lave-linge",
        "le réfrigérateur",
        "la pompe à chaleur",
        "le radiateur",
        "la ligne téléphonique",
    ],
    "problem": [
        "ne fonctionne plus",
        "fait un bruit bizarre",
        "affiche un code d'erreur",
        "ne s'allume plus",
        "coupe sans arrêt",
        "fuit un peu",
        "chauffe beaucoup trop",
        "ne capte plus rien",
    ],
    "duration": [
        "dix minutes",
        "un quart d'heure",
        "une demi-heure",
        "une heure",
        "deux heures",
        "vingt minutes",
    ],
    "floor": ["premier", "deuxième", "troisième", "quatrième", "cinquième", "sixième"],
}

HELD_OUT: dict[str, list[str]] = {
    "first": ["Gwendoline", "Anatole", "Bérénice", "Timothée", "Ophélie", "Maximilien"],
    "last": ["Vasseur", "Kowalski", "Lemarchand", "Tessier", "Brossard"],
    "company": ["Hydroflux", "Batiservices", "Ondulia"],
    "city": ["Carcassonne", "Quimper", "Besançon", "Perpignan", "Valenciennes"],
    "street": ["rue des Capucines", "allée des Glycines", "impasse des Tanneurs", "cours Mirabeau"],
}

_MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip
_SLOT = re.compile(r"{(\w+)}")


def _time(rng: random.Random) -> str:
    hour = rng.randint(7, 19)
    if hour == 12 and rng.random() < 0.5:
        return "midi"
    minute = rng.choice([0, 0, 15, 30, 30, 45, 10, 20, 40, 50])
    words = "une heure" if hour == 1 else f"{number_to_words(hour)} heures"
    if minute == 0:
        return words
    if minute == 30 and rng.random() < 0.5:
        return f"{words} et demie"
    return f"{words} {number_to_words(minute)}"


def _digits(rng: random.Random, n: int) -> str:
    return " ".join(number_to_words(rng.randint(0, 9)) for _ in range(n))


def _pairs(rng: random.Random, n: int) -> str:
    return ", ".join(number_to_words(rng.randint(10, 99)) for _ in range(n))


def _generated(slot: str, rng: random.Random) -> str | None:
    match slot:
        case "time" | "time2":
            return _time(rng)
        case "date":
            day = rng.randint(1, 31)
            return f"le {'premier' if day == 1 else number_to_words(day)} {rng.choice(_MONTHS)}"
        case "digits":
            return _digits(rng, rng.randint(5, 8))
        case "order":
            return _pairs(rng, 3)
        case "postcode":
            return _digits(rng, 5)
        case "code":
            return number_to_words(rng.randint(10, 9999))
        case "phone":
            return f"zéro {rng.choice(['six', 'sept', 'un', 'deux'])}, {_pairs(rng, 4)}"
        case "num":
            return number_to_words(rng.randint(1, 160))
        case "amount":
            return number_to_words(rng.randint(15, 990))
    return None


def _fill(template: str, rng: random.Random, pools: dict[str, list[str]], force: set[str]) -> str:
    values: dict[str, str] = {}
    for slot in _SLOT.findall(template):
        if slot in values:
            continue
        generated = _generated(slot, rng)
        if generated is not None:
            values[slot] = generated
        else:
            values[slot] = rng.choice(HELD_OUT[slot] if slot in force else pools[slot])
    text = template.format(**values)
    return text[0].upper() + text[1:]


def _unique(gen: random.Random, count: int, make, exclude: set[str]) -> list[str]:
    out: list[str] = []
    seen = set(exclude)
    attempts = 0
    while len(out) < count and attempts < count * 50:
        attempts += 1
        text = make(gen)
        key = normalize_text(text)
        if key not in seen:
            seen.add(key)
            out.append(text)
    return out


def train_sentences(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct training sentences (training slot values only)."""
    return _unique(random.Random(seed), count, lambda g: _fill(g.choice(TEMPLATES), g, VALUES, set()), set())


def heldout_sentences(count: int, seed: int = 7, train_count: int = 6000) -> list[str]:
    """Sentences from the same templates and vocabulary, none identical to a training sentence."""
    exclude = {normalize_text(t) for t in train_sentences(train_count, seed)}
    make = lambda g: _fill(g.choice(TEMPLATES), g, VALUES, set())  # noqa: E731
    return _unique(random.Random(seed + 1), count, make, exclude)


def unseen_vocabulary() -> set[str]:
    """Normalised words of the held-out slot values that no training value or template contains."""
    trained = {w for t in TEMPLATES for w in normalize_text(_SLOT.sub(" ", t)).split()}
    trained |= {w for pool in VALUES.values() for v in pool for w in normalize_text(v).split()}
    held = {w for pool in HELD_OUT.values() for v in pool for w in normalize_text(v).split()}
    return held - trained


def unseen_word_sentences(count: int, seed: int = 7) -> list[str]:
    """Sentences whose held-out-able slots are filled with values absent from training."""
    holdable = [t for t in TEMPLATES if set(_SLOT.findall(t)) & HELD_OUT.keys()]

    def make(g: random.Random) -> str:
        template = g.choice(holdable)
        slots = sorted(set(_SLOT.findall(template)) & HELD_OUT.keys())
        force = {s for s in slots if g.random() < 0.6} or {g.choice(slots)}
        return _fill(template, g, VALUES, force)

    return _unique(random.Random(seed + 2), count, make, set())


@dataclass(frozen=True)
class Voice:
    """One espeak-ng voice: a French language voice plus a timbre variant."""

    base: str
    variant: str

    @property
    def name(self) -> str:
        return f"{self.base}+{self.variant}" if self.variant else self.base


BASES = ["fr", "fr-be", "fr-ch"]
VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m7", "m8", "f1", "f2", "f3", "f5", "klatt", "klatt2"]
HELD_OUT_VARIANTS = ["m6", "f4"]  # never used in training: the "unseen voices" set


def train_voices() -> list[Voice]:
    return [Voice(b, v) for b in BASES for v in VARIANTS]


def unseen_voices() -> list[Voice]:
    return [Voice(b, v) for b in BASES for v in HELD_OUT_VARIANTS]
