"""PII redaction: every entity type in written and spoken (ASR) form, shared tokens, rehydration.

One Redactor for the module (loading Presidio + spaCy takes tens of seconds). Values here come from the
synthetic calls' pools (Karim, Sara Idrissi, Atlas Télécom ...); the benchmark uses other ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest

from inference.redaction import (
    REDACTOR_VERSION,
    Redaction,
    Redactor,
    canonical,
    rehydrate,
    spoken_to_written,
    token_map,
)


@pytest.fixture(scope="module")
def redactor() -> Iterator[Redactor]:
    """The default Redactor (the session's settings are the defaults), borrowed from the process's cache
    the redaction stage lends from: built once for this module and the session's daily runs."""
    from flows.config import Settings
    from flows.redact import redactor_for

    settings = Settings()
    defaults = inspect.signature(Redactor).parameters
    assert settings.redact_languages == defaults["languages"].default
    assert settings.redact_keep == defaults["keep"].default
    assert settings.default_country_code == defaults["country_code"].default
    with redactor_for(settings) as shared:
        yield shared


def _types_covering(red: Redaction, value: str, text: str) -> set[str]:
    start = text.index(value)
    end = start + len(value)
    return {e.entity_type for e in red.entities if e.start < end and e.end > start}


def _check(red: Redaction, text: str, value: str, etype: str) -> None:
    assert etype in _types_covering(red, value, text), (text, red.entities)
    assert value not in red.text, red.text
    for entity in red.entities:
        assert text[entity.start : entity.end] == entity.value


WRITTEN = [
    ("Je suis Karim, technicien chez Atlas Télécom.", "Karim", "PERSON"),
    ("Bonjour Mme Sara Idrissi, je vous appelle pour l'installation.", "Sara Idrissi", "PERSON"),
    ("Vous pouvez parler à M. Benali demain.", "Benali", "PERSON"),
    ("My name is Omar Tazi and I'm waiting for the technician.", "Omar Tazi", "PERSON"),
    ("Rappelez-moi au 0612345678.", "0612345678", "PHONE"),
    ("Rappelez-moi au 06 12 34 56 78 s'il vous plaît.", "06 12 34 56 78", "PHONE"),
    ("Mon numéro : 06.12.34.56.78.", "06.12.34.56.78", "PHONE"),
    ("Joignable au +212 6 12 34 56 78 après 18h.", "+212 6 12 34 56 78", "PHONE"),
    ("Joignable au 00212612345678.", "00212612345678", "PHONE"),
    ("En France : +33 6 12 34 56 78.", "+33 6 12 34 56 78", "PHONE"),
    ("Le numéro client est 212612345678.", "212612345678", "PHONE"),
    ("Écrivez à amine.benali@gmail.com pour la confirmation.", "amine.benali@gmail.com", "EMAIL"),
    ("Votre commande CMD-0001234 est suspendue.", "CMD-0001234", "ORDER_ID"),
    ("Le ticket TCK00012340 a été créé hier.", "TCK00012340", "ORDER_ID"),
    ("Numéro de commande 1234567, client injoignable.", "1234567", "ORDER_ID"),
    ("J'habite au 12 rue des Orangers à Casablanca.", "12 rue des Orangers", "ADDRESS"),
    ("Livraison avenue Mohammed V, résidence Nour, appartement 4.", "avenue Mohammed V", "ADDRESS"),
    ("C'est au quartier Maarif, près du marché.", "quartier Maarif", "ADDRESS"),
    ("Ma CIN est BE123456.", "BE123456", "NATIONAL_ID"),
    ("Numéro de sécurité sociale : 1 85 03 75 123 456 59.", "1 85 03 75 123 456 59", "NATIONAL_ID"),
    ("Mon IBAN est FR76 3000 6000 0112 3456 7890 189.", "FR76 3000 6000 0112 3456 7890 189", "IBAN"),
    ("Mon RIB : 011 780 0000123456789012 34.", "011 780 0000123456789012 34", "IBAN"),
    ("Je suis née le 12/03/1985 à Rabat.", "12/03/1985", "DATE_OF_BIRTH"),
    ("Date de naissance : 3 juin 1978.", "3 juin 1978", "DATE_OF_BIRTH"),
]

SPOKEN = [
    ("bonjour ici karim de atlas télécom", "karim", "PERSON"),
    ("je voudrais parler à madame sara idrissi", "sara idrissi", "PERSON"),
    ("je m'appelle mehdi chraibi", "mehdi chraibi", "PERSON"),
    ("mon numéro c'est zéro six douze trente quatre cinquante six soixante dix huit", None, "PHONE"),
    ("rappelez moi au zéro six un deux trois quatre cinq six sept huit merci", None, "PHONE"),
    ("c'est le plus deux cent douze six douze trente-quatre cinquante-six soixante-dix-huit", None, "PHONE"),
    ("mon email c'est karim point benali arobase gmail point com", None, "EMAIL"),
    ("la commande c m d tiret zéro zéro zéro un deux trois quatre", None, "ORDER_ID"),
    ("le numéro de commande c'est un deux trois quatre cinq six sept", None, "ORDER_ID"),
    ("ma cin c'est b e un deux trois quatre cinq six", None, "NATIONAL_ID"),
    ("cin ab 12345", "ab 12345", "NATIONAL_ID"),
    ("j'habite au douze rue des orangers quartier maarif", None, "ADDRESS"),
    ("je suis né le douze mars mille neuf cent quatre vingt cinq", None, "DATE_OF_BIRTH"),
]


@pytest.mark.parametrize(("text", "value", "etype"), WRITTEN, ids=[f"{t}:{v}" for _, v, t in WRITTEN])
def test_written_forms_are_redacted(redactor: Redactor, text: str, value: str, etype: str) -> None:
    _check(redactor.redact(text), text, value, etype)


@pytest.mark.parametrize(("text", "value", "etype"), SPOKEN, ids=[f"{t}:{x[:24]}" for x, _, t in SPOKEN])
def test_spoken_forms_are_redacted(redactor: Redactor, text: str, value: str | None, etype: str) -> None:
    red = redactor.redact(text)
    if value is not None:
        _check(red, text, value, etype)
        return
    # the whole spoken value must disappear: no digit word of it is left next to the token
    assert [e.entity_type for e in red.entities].count(etype) == 1, red.entities
    entity = next(e for e in red.entities if e.entity_type == etype)
    assert entity.value not in red.text and entity.token in red.text
    if etype in ("PHONE", "ORDER_ID", "NATIONAL_ID", "DATE_OF_BIRTH"):
        assert not any(w in red.text.split() for w in ("zéro", "six", "douze", "quatre", "cinq", "sept"))


def test_english_sentence(redactor: Redactor) -> None:
    text = (
        "Hello, this is Fatima Alaoui from Atlas Telecom. Call me back on +212 6 61 23 45 67 or write to "
        "fatima.alaoui@menara.ma. I live at 221B Baker Street. I was born on March 3rd, 1990."
    )
    red = redactor.redact(text, language="en")
    for value, etype in [
        ("Fatima Alaoui", "PERSON"),
        ("+212 6 61 23 45 67", "PHONE"),
        ("fatima.alaoui@menara.ma", "EMAIL"),
        ("221B Baker Street", "ADDRESS"),
        ("March 3rd, 1990", "DATE_OF_BIRTH"),
    ]:
        _check(red, text, value, etype)
    assert "Atlas Telecom" in red.text


def test_english_spoken_numbers(redactor: Redactor) -> None:
    text = "hi this is karim my number is oh six one two three four five six seven eight"
    red = redactor.redact(text, language="en")
    assert red.text == "hi this is [PERSON_1] my number is [PHONE_1]"


def test_same_value_same_token_and_numbering_by_first_appearance(redactor: Redactor) -> None:
    text = (
        "Mon numéro est le 06 12 34 56 78, je répète : 0612345678, ou +212 6 12 34 56 78. "
        "Le fixe de mon mari c'est le 05 22 11 22 33."
    )
    red = redactor.redact(text)
    phones = [e for e in red.entities if e.entity_type == "PHONE"]
    assert [e.token for e in phones] == ["[PHONE_1]", "[PHONE_1]", "[PHONE_1]", "[PHONE_2]"]
    assert red.mapping == {"[PHONE_1]": "06 12 34 56 78", "[PHONE_2]": "05 22 11 22 33"}


def test_same_name_any_case_same_token(redactor: Redactor) -> None:
    red = redactor.redact("Bonjour Madame Sara Idrissi. Oui, sara idrissi, c'est bien ça. Merci Hicham.")
    people = [(e.value, e.token) for e in red.entities if e.entity_type == "PERSON"]
    assert people == [
        ("Sara Idrissi", "[PERSON_1]"),
        ("sara idrissi", "[PERSON_1]"),
        ("Hicham", "[PERSON_2]"),
    ]


def test_known_tokens_are_shared_across_channels(redactor: Redactor) -> None:
    agent = (
        "Bonjour, je suis Youssef d'Atlas Télécom, je cherche à joindre Madame Fatima Alaoui au 0661234567."
    )
    customer = (
        "oui c'est fatima alaoui mon autre numéro c'est zéro sept douze trente quatre cinquante six dix"
    )
    dialogue = f"{agent} {customer} Mon email est f.alaoui@gmail.com."
    first = redactor.redact(agent)
    second = redactor.redact(customer, known=token_map([first]))
    third = redactor.redact(dialogue, known=token_map([first, second]))

    assert first.text == (
        "Bonjour, je suis [PERSON_1] d'Atlas Télécom, je cherche à joindre Madame [PERSON_2] au [PHONE_1]."
    )
    assert second.text == "oui c'est [PERSON_2] mon autre numéro c'est [PHONE_2]"
    assert third.text == f"{first.text} {second.text} Mon email est [EMAIL_1]."
    assert redactor.redact_all([agent, customer, dialogue]) == [first, second, third]


def test_known_names_are_found_even_without_a_cue(redactor: Redactor) -> None:
    red = redactor.redact("idrissi a appelé deux fois", known={"Idrissi": "[PERSON_3]"})
    assert red.text == "[PERSON_3] a appelé deux fois"


def test_no_original_value_remains(redactor: Redactor) -> None:
    values = [
        "Karim",
        "Amine Benali",
        "0698765432",
        "amine.benali@hotmail.fr",
        "CMD-0007654",
        "TCK00098760",
        "7 rue Ibn Sina",
        "AB654321",
        "FR14 2004 1010 0505 0001 3M02 606",
        "21/07/1990",
    ]
    text = (
        "Allô, bonjour, ici Karim, technicien d'Atlas Télécom. Je voudrais parler à Monsieur Amine Benali. "
        "C'est lui. Je vous appelle pour la commande CMD-0007654 et le ticket TCK00098760. Je confirme "
        "votre adresse : 7 rue Ibn Sina, et votre numéro, le 0698765432. Votre email, "
        "amine.benali@hotmail.fr. Pour la pièce d'identité, CIN AB654321. Le prélèvement se fait sur l'IBAN "
        "FR14 2004 1010 0505 0001 3M02 606. Vous êtes né le 21/07/1990 ? Oui. Merci monsieur Benali."
    )
    red = redactor.redact(text)
    for value in values:
        assert value not in red.text, value
    assert "Benali" not in red.text
    assert rehydrate(red.text, red.mapping) == text


@pytest.mark.parametrize(
    "text",
    [
        "Allô ? Oui, allô, j'écoute.",
        "Numéro de la box : 2. Bonjour, merci, au revoir.",
        "Très bien, c'est noté. Merci beaucoup et bonne journée.",
        "Le numéro que vous avez demandé n'est pas attribué. Veuillez vérifier votre numéro.",
        "Bonjour madame, bonjour monsieur, je vous appelle pour votre commande d'installation A D S L.",
        "Je préfère reporter le rendez-vous à mardi matin, vers 10 heures, pour 2 heures d'intervention.",
        "je suis absent je ne suis pas chez moi aujourd'hui rappelez à quatorze heures trente",
        "Votre box fibre 100 Mbps coûte 349 dirhams par mois.",
        "",
    ],
)
def test_text_without_pii_comes_back_unchanged(redactor: Redactor, text: str) -> None:
    red = redactor.redact(text)
    assert red.text == text
    assert red.entities == ()


def test_greetings_and_call_words_are_not_people(redactor: Redactor) -> None:
    red = redactor.redact("Allô ? Bonjour. Numéro de commande CMD-0001234. Merci, au revoir. Allô Karim ?")
    assert [(e.entity_type, e.value) for e in red.entities] == [
        ("ORDER_ID", "CMD-0001234"),
        ("PERSON", "Karim"),
    ]


def test_rehydrate_round_trip_and_nested_objects(redactor: Redactor) -> None:
    text = "Madame Sara Idrissi refuse l'installation, rappeler au 06 12 34 56 78."
    red = redactor.redact(text)
    assert rehydrate(red.text, red.mapping) == text
    llm_output = {
        "call_type": 1,
        "summary": f"{red.entities[0].token} refuses; callback {red.entities[1].token}.",
        "quotes": [red.text, {"who": red.entities[0].token, "unknown": "[PERSON_9]"}],
        "pair": ("[PHONE_1]", 3.5, None),
    }
    back = rehydrate(llm_output, red.mapping)
    assert back == {
        "call_type": 1,
        "summary": "Sara Idrissi refuses; callback 06 12 34 56 78.",
        "quotes": [text, {"who": "Sara Idrissi", "unknown": "[PERSON_9]"}],
        "pair": ("06 12 34 56 78", 3.5, None),
    }


def test_redacting_twice_changes_nothing_more(redactor: Redactor) -> None:
    once = redactor.redact("Je suis Karim, mon numéro est le 0612345678, ma CIN BE123456.")
    assert redactor.redact(once.text).text == once.text


def test_bad_arguments_are_refused(redactor: Redactor) -> None:
    with pytest.raises(ValueError, match="language"):
        redactor.redact("hola", language="es")
    with pytest.raises(ValueError, match="token"):
        redactor.redact("Karim", known={"Karim": "PERSON-1"})


def test_spoken_numbers_are_written_out_with_offsets_back_to_the_text() -> None:
    text = "au zéro six douze trente-quatre, quatre-vingt-dix-sept et mille neuf cent quatre vingt cinq"
    shadow = spoken_to_written(text)
    assert shadow.text == "au 0 6 12 34, 97 et 1985"
    start = shadow.text.index("0 6 12 34")
    assert text[slice(*shadow.to_original(start, start + len("0 6 12 34")))] == "zéro six douze trente-quatre"
    assert spoken_to_written("plus deux cent douze six soixante et onze").text == "+212 6 71"
    assert spoken_to_written("oh six double two", "en").text == "0 6 22"
    assert spoken_to_written("un technicien passera").text == "un technicien passera"


def test_canonical_values_decide_token_identity() -> None:
    forms = ["0612345678", "06 12 34 56 78", "+212 6 12 34 56 78", "00212612345678", "zéro six douze trente "
             "quatre cinquante six soixante dix huit"]  # fmt: skip
    assert {canonical("PHONE", f) for f in forms} == {"212612345678"}
    assert canonical("ORDER_ID", "c m d tiret zéro zéro zéro un deux trois quatre") == "CMD0001234"
    assert canonical("ORDER_ID", "cmd 0001234") == canonical("ORDER_ID", "CMD-0001234")
    assert (
        canonical("DATE_OF_BIRTH", "12 mars 1985") == canonical("DATE_OF_BIRTH", "12/03/1985") == "1985-03-12"
    )
    assert canonical("PERSON", "Sara  IDRISSI") == canonical("PERSON", "sara idrissi")
    assert REDACTOR_VERSION == "pii-1"
