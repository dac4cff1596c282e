"""French phrasings spoken in the synthetic calls (several per situation)."""

from __future__ import annotations

COMPANY = "Atlas Télécom"
AGENT_NAMES = ("Karim", "Youssef", "Hicham", "Nadia", "Samir", "Leila")
CUSTOMER_NAMES = ("Amine Benali", "Sara Idrissi", "Omar Tazi", "Fatima Alaoui", "Mehdi Chraibi")
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi")

HELLO = ("Allô ?", "Oui, allô ?", "Allô, oui, j'écoute.", "Allô, bonjour.")

INTRO_COURTEOUS = (
    "Bonjour, je suis {agent}, technicien chez {company}. Je vous appelle au sujet de {subject}.",
    "Bonjour madame, bonjour monsieur, ici {agent}, technicien {company}, concernant {subject}.",
    "Bonjour, {agent} de {company} à l'appareil, je vous contacte pour {subject}. Vous avez un instant ?",
)
INTRO_RUDE = (
    "Oui, c'est le technicien de {company}. C'est pour {subject}, vous êtes là ou pas ?",
    "Allô, technicien {company}. Bon, {subject}, je passe quand moi ?",
    "C'est {company}. Pour {subject}, faut se décider, j'ai pas toute la journée.",
)
SUBJECT = {
    "ACQUISITION": "votre commande d'installation {offer}",
    "SAV": "votre ticket de dépannage {offer}",
}
OFFER_WORDS = {"ADSL": "A D S L", "VULA": "fibre optique"}

ANSWER = {
    1: (
        "Non merci, je ne veux plus de l'installation, j'annule.",
        "Je refuse l'installation, ça ne m'intéresse plus.",
        "Non, non, je ne veux pas que vous veniez, annulez la commande.",
    ),
    2: (
        "Aujourd'hui ce n'est pas possible, vous pouvez passer {day} plutôt ?",
        "Je préfère reporter le rendez-vous à {day} matin.",
        "On peut décaler à {day} après-midi s'il vous plaît ?",
    ),
    3: (
        "Je ne suis pas à la maison, je suis en voyage jusqu'à la semaine prochaine.",
        "Désolé, je suis absent, je ne suis pas chez moi aujourd'hui.",
        "Je suis à l'étranger en ce moment, il n'y a personne au domicile.",
    ),
    4: (
        "Oui très bien, je suis là, vous pouvez venir.",
        "D'accord, je vous attends, l'adresse est la bonne.",
        "Oui pas de souci, passez quand vous voulez, je suis chez moi.",
    ),
}
CLOSE_COURTEOUS = (
    "Très bien, c'est noté. Merci beaucoup et bonne journée.",
    "Entendu, je vous remercie, au revoir.",
    "Parfait, merci pour votre réponse, bonne fin de journée.",
)
CLOSE_RUDE = ("Bon. D'accord.", "Ouais, ouais, c'est noté.", "Comme vous voulez, au revoir.")

GREETING = (
    "Bonjour, vous êtes bien sur la messagerie de {customer}. Je ne suis pas disponible, "
    "laissez un message après le bip.",
    "Bonjour, vous êtes bien sur la messagerie vocale de {customer}, laissez un message après le bip sonore.",
    "Vous êtes bien sur la messagerie de {customer}, merci de laisser un message après le bip.",
)
VOICEMAIL_MESSAGE = (
    "Bonjour, c'est {agent}, technicien de {company}, je vous appelais pour {subject}. Merci de me rappeler.",
    "Bonjour, ici {agent} de {company}, au sujet de {subject}. Rappelez-moi s'il vous plaît.",
    "Bonjour, {agent}, technicien {company}. Je n'ai pas pu vous joindre pour {subject}, rappelez-nous.",
)
OPERATOR = (
    "Le numéro que vous avez demandé n'est pas attribué. Veuillez vérifier votre numéro.",
    "Le numéro que vous avez demandé n'est pas attribué, merci de consulter l'annuaire.",
    "Votre correspondant n'est pas joignable pour le moment, veuillez rappeler ultérieurement.",
    "Le numéro de votre correspondant n'est plus en service actuellement.",
)


def subject(order_type: str, offer: str) -> str:
    return SUBJECT.get(order_type, SUBJECT["SAV"]).format(offer=OFFER_WORDS.get(offer, offer))


# The QA scorecard's truth (synth/qa.py): the items of the dbt seed qa_items each line meets, by template.
# Most are what the technician did (his introduction and close); new_slot_named and availability_confirmed
# are what the customer's answer says. Values are sets, not text: nothing here is a phrase to speak.
_OPENING = frozenset({"names_company", "refers_to_order", "states_purpose"})
QA_MET: dict[str, frozenset[str]] = {
    **{template: _OPENING | {"greeting", "names_self"} for template in INTRO_COURTEOUS},
    **{template: _OPENING for template in INTRO_RUDE},  # no greeting, no name
    **{template: frozenset({"new_slot_named"}) for template in ANSWER[2]},
    **{template: frozenset({"availability_confirmed"}) for template in ANSWER[4]},
    **{template: frozenset({"polite_close"}) for template in CLOSE_COURTEOUS},
}
