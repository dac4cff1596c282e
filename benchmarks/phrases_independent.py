"""A second French phrase bank for evaluation, written apart from ``synth/phrases.py`` and from every
training text of the project (the ASR recipe's corpora, the classifier's corpus): other greetings, names,
reasons, numbers and dates. ``synth.generate(..., phrasebank="benchmarks.phrases_independent")`` speaks
these instead of the demo's; the situations (and so the ground truth) stay the generator's.

Nothing in ``inference/`` may read this module: figures measured on it say how the pipeline does on
phrasing it never saw.
"""

from __future__ import annotations

COMPANY = "Maroc Connect"
AGENT_NAMES = ("Rachid", "Khadija", "Anouar", "Soukaina", "Ilyas", "Meryem", "Tarik")
CUSTOMER_NAMES = (
    "Brahim Ouazzani",
    "Zineb El Fassi",
    "Hamza Berrada",
    "Salma Bennani",
    "Yassine Lahlou",
    "Kenza Squalli",
)
DAYS = (
    "demain",
    "après-demain",
    "le quinze",
    "le vingt-deux",
    "la semaine prochaine",
    "jeudi prochain",
    "le premier du mois",
)

HELLO = ("Oui ?", "Oui, bonjour, qui est à l'appareil ?", "Allô, je vous écoute.", "Bonsoir, oui ?")

INTRO_COURTEOUS = (
    "Bonjour, {agent} du service technique de {company}, je vous téléphone pour {subject}.",
    "Bonjour, ici {agent}, {company}. C'est à propos de {subject}, je ne vous dérange pas ?",
    "Bonjour à vous, {agent} à l'appareil, de chez {company}, je reviens vers vous pour {subject}.",
    "Bonjour, vous êtes bien monsieur ou madame {customer} ? {agent}, {company}, pour {subject}.",
)
INTRO_RUDE = (
    "Bon, {company}. C'est pour {subject}. Je viens ou je viens pas ?",
    "Ouais, {agent}, de chez {company}. {subject}, on règle ça vite fait.",
    "{company}, technique. {subject}, j'ai encore douze clients après vous.",
)
SUBJECT = {
    "ACQUISITION": "la mise en service de votre ligne {offer}",
    "SAV": "la panne signalée sur votre ligne {offer}",
}
OFFER_WORDS = {"ADSL": "internet A D S L", "VULA": "fibre"}

ANSWER = {
    1: (
        "Écoutez, j'ai changé d'avis, je n'en veux plus, vous pouvez tout arrêter.",
        "C'est non, je ne signe rien et je ne veux personne chez moi.",
        "Laissez tomber, j'ai pris un abonnement ailleurs, je renonce à votre offre.",
    ),
    2: (
        "Là je ne peux pas, rappelez-moi {day}, on fixera une autre heure.",
        "Est-ce qu'on pourrait remettre ça à {day}, vers dix heures ?",
        "Pas cette fois, mettez-moi plutôt {day} en fin de matinée.",
    ),
    3: (
        "Je suis à Marrakech pour le travail, je ne rentre que dans dix jours.",
        "Il n'y a personne à la maison, nous sommes partis chez la famille.",
        "Je suis hospitalisé en ce moment, personne ne pourra vous ouvrir.",
    ),
    4: (
        "Parfait, je serai présent toute la journée, venez quand ça vous arrange.",
        "Oui bien sûr, je vous attends vers quatorze heures trente.",
        "Aucun problème, le gardien vous ouvrira, c'est au troisième étage.",
    ),
}
CLOSE_COURTEOUS = (
    "C'est enregistré, merci de votre patience et à bientôt.",
    "Je note tout cela, merci et excellente soirée.",
    "Bien reçu, je vous souhaite une bonne continuation.",
)
CLOSE_RUDE = ("Ouais. Salut.", "Bon, ben tant pis.", "C'est ça, à plus.")

GREETING = (
    "Bonjour, {customer} n'est pas joignable pour l'instant, parlez après le signal.",
    "Vous avez bien appelé {customer}, je vous rappellerai dès que possible, parlez après la tonalité.",
    "Ici le répondeur de {customer}, laissez vos coordonnées après le signal sonore.",
)
VOICEMAIL_MESSAGE = (
    "Oui bonjour, {agent} de {company}, c'était pour {subject}, vous pouvez me joindre au zéro six douze.",
    "Bonjour, {company} à l'appareil, rappel concernant {subject}, je retenterai cet après-midi.",
    "Message de {agent}, {company}, pour {subject}. N'hésitez pas à rappeler le service client.",
)
OPERATOR = (
    "Ce numéro n'existe pas, veuillez consulter votre correspondant.",
    "L'abonné que vous essayez de joindre n'est pas disponible, merci de renouveler votre appel.",
    "Suite à une erreur, votre appel ne peut aboutir.",
)


def subject(order_type: str, offer: str) -> str:
    return SUBJECT.get(order_type, SUBJECT["SAV"]).format(offer=OFFER_WORDS.get(offer, offer))
