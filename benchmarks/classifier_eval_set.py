"""A second, independently phrased set of labelled calls for evaluating the call classifier.

Written separately from the training templates (``training/classifier_corpus.py``) with other words and
sentence shapes: each customer line below decides the call type and the customer's sentiment; it is framed
by a technician's opening and closing (courteous or rude, from pools of this file only) and given in two
formats: the written call (one string, as a ground-truth transcript is written) and speech-recognition
style ``agent:``/``client:`` lines (lower case, no punctuation, numbers in words). Mostly French, some
English. ``python -m benchmarks.classifier_eval_set`` prints the set's size per label.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from inference.asr_model import normalize_text
from inference.call_classifier import LabelledCall

NEG, NEU, POS = "negative", "neutral", "positive"

# (call_type, sentiment, customer line) -- French then English per type.
CUSTOMER_LINES: tuple[tuple[int, str, str], ...] = (
    # 1: refuses the installation
    (1, NEU, "En fait je me désiste, je ne compte plus faire les travaux."),
    (1, NEU, "Vous pouvez rayer mon nom de votre liste, je n'y tiens plus."),
    (1, NEU, "On s'est arrangé autrement avec les voisins, nous n'avons plus besoin de vous."),
    (1, NEU, "Ne vous déplacez pas, je ne donnerai pas suite à cette demande."),
    (1, NEU, "Ma décision est prise : pas de fibre chez moi, je renonce définitivement."),
    (1, NEU, "Je ne vais pas poursuivre, considérez ma commande comme annulée."),
    (1, NEU, "Mon propriétaire n'autorise pas le perçage, donc c'est non pour l'installation."),
    (1, NEU, "Nous avons opté pour une offre concurrente, merci d'arrêter la procédure."),
    (1, NEU, "Non, je ne signe pas, je ne veux pas de ce boîtier dans mon salon."),
    (1, NEG, "Trois rendez-vous ratés, ça suffit, je ne veux plus de vos services !"),
    (1, NEG, "Vous vous moquez de moi ? Oubliez ma commande, c'est terminé."),
    (1, NEG, "Je refuse catégoriquement qu'on touche à ma ligne, fichez-moi la paix."),
    (1, NEG, "J'ai résilié hier par courrier, et je ne reviendrai pas sur ma décision."),
    (1, NEU, "Je ne souhaite finalement pas être raccordé, désolé pour le dérangement."),
    (1, NEU, "Écoutez, annulez l'intervention, je n'en veux pas."),
    (1, POS, "Merci pour votre patience, mais j'ai décidé d'abandonner le projet."),
    (1, NEU, "Nous ne voulons plus la ligne internet, le contrat doit être annulé."),
    (1, NEU, "Je refuse l'intervention, je garde l'ancienne installation."),
    (1, NEG, "Non et non, je ne veux pas de votre installation, inutile d'insister."),
    (1, NEU, "I don't want it installed any more, please cancel the whole order."),
    (1, NEG, "Forget it, I've had enough of your company, I'm not going ahead."),
    (1, NEU, "We decided against the fibre, so you don't need to come, cancel it."),
    (1, POS, "That's kind of you, but I no longer want the service, thanks anyway."),
    (1, NEU, "I refuse the installation, I'm staying with my old provider."),
    # 2: reschedules
    (2, NEU, "On peut convenir d'un autre jour ? Jeudi prochain m'irait bien."),
    (2, NEU, "Remettons ça à après-demain si vous voulez bien."),
    (2, NEU, "Vous pourriez venir dans l'après-midi plutôt que le matin ? Vers seize heures ?"),
    (2, NEU, "Je suis indisponible ce jour-là, choisissons une autre date ensemble."),
    (2, NEU, "Le douze ne me convient pas, est-ce qu'on peut viser le quinze ?"),
    (2, NEU, "Je dois accompagner mon fils chez le médecin, décalons à mercredi."),
    (2, NEU, "Faisons plutôt lundi matin, à la première heure."),
    (2, NEU, "Je préférerais un passage samedi, je ne travaille pas ce jour-là."),
    (2, NEG, "Ce créneau est impossible, il me faut un autre rendez-vous, et vite."),
    (2, NEU, "Est-ce qu'on peut repousser d'une semaine ? Je vous confirme par SMS."),
    (2, POS, "Oh merci d'appeler ! Vous pourriez passer demain plutôt ? Ce serait top."),
    (2, NEU, "Là je ne peux pas, mais vendredi en fin de journée c'est possible."),
    (2, NEG, "Vous avez deux heures de retard, ce n'est plus possible, revenez mardi."),
    (2, NEU, "Fixons un nouveau rendez-vous, la semaine du vingt par exemple."),
    (2, NEU, "Mon mari préfère que vous veniez dimanche, il sera là pour vous montrer."),
    (2, NEU, "Pas aujourd'hui, j'ai des invités. Un autre jour de la semaine ?"),
    (2, POS, "D'accord pour l'installation, juste un autre jour : jeudi, ça vous va ?"),
    (2, NEU, "Je rentre tard ce soir, vous pourriez plutôt venir demain vers dix heures ?"),
    (2, NEU, "Could we do it on Thursday instead? Today is not good for me."),
    (2, NEU, "I'd like to move the visit to next Monday, if that's possible."),
    (2, NEG, "You're late again. Not today, come back tomorrow morning."),
    (2, POS, "Thanks for calling! Can we change the date to Friday? That would be lovely."),
    (2, NEU, "Let's reschedule for later this week, maybe Wednesday afternoon."),
    # 3: absent
    (3, NEU, "Je suis parti à Dubaï pour le travail, il n'y a personne chez nous."),
    (3, NEU, "Je suis chez ma sœur en province pour un mois, l'appartement est fermé."),
    (3, NEU, "Nous sommes partis pour l'été, la maison est inoccupée."),
    (3, NEU, "Je réside actuellement en France, je ne suis pas au Maroc."),
    (3, NEU, "Je suis à la clinique depuis lundi, personne n'est à la maison."),
    (3, NEU, "Je suis en pèlerinage, je ne suis pas chez moi en ce moment."),
    (3, NEU, "On est en congés à la montagne, personne ne pourra vous ouvrir."),
    (3, NEU, "Je suis retenu à l'étranger, je ne suis pas à mon domicile."),
    (3, NEG, "Mais je vous ai dit que je suis parti, je ne suis pas à la maison !"),
    (3, NEU, "Je suis actuellement hors de la ville, chez mes parents."),
    (3, NEU, "Il n'y a personne au logement, je suis en déplacement pour un bon moment."),
    (3, NEU, "Je ne suis pas là, je suis en voyage d'affaires à l'étranger."),
    (3, POS, "Merci pour l'appel, mais je suis en vacances, il n'y a personne chez moi."),
    (3, NEU, "Je travaille sur un chantier loin d'ici, je ne suis pas chez moi de la semaine."),
    (3, NEU, "Nous sommes à l'étranger, le domicile est vide pour le moment."),
    (3, NEG, "Je suis à l'hôpital, personne à la maison, vous ne pouvez pas venir."),
    (3, NEU, "Je suis absent, parti en voyage, la maison est vide."),
    (3, NEU, "Je ne vis pas là en ce moment, je suis en stage dans une autre ville."),
    (3, NEU, "Désolée, je suis absente, je suis en voyage chez ma fille."),
    (3, NEU, "I'm abroad right now, there's nobody at the house."),
    (3, NEU, "I'm away on a business trip, nobody is home to let you in."),
    (3, NEG, "I'm in hospital, I'm not at home, nobody can open the door."),
    (3, POS, "Thanks for letting me know, but I'm on holiday and the house is empty."),
    (3, NEU, "We are travelling, we're not home until next month."),
    # 4: other / installation goes ahead
    (4, POS, "Je vous attends de pied ferme, venez quand vous êtes prêt."),
    (4, NEU, "C'est bon, je suis chez moi, montez directement."),
    (4, NEU, "Vous pouvez venir, le gardien vous ouvrira le local."),
    (4, NEU, "Est-ce que je dois préparer quelque chose avant votre arrivée ? Sinon c'est d'accord."),
    (4, POS, "Oui oui, je serai à la maison, pas de problème, merci beaucoup."),
    (4, NEU, "Entendu, le rendez-vous est confirmé de mon côté."),
    (4, POS, "Excellent, j'ai hâte d'avoir internet, je vous attends."),
    (4, NEU, "Venez, la porte de l'immeuble est ouverte, c'est au rez-de-chaussée."),
    (4, NEU, "Oui, je suis disponible aujourd'hui, je vous laisse passer."),
    (4, NEG, "Oui, venez, mais j'en ai assez d'attendre, c'est inadmissible."),
    (4, NEU, "D'accord, ma femme sera présente pour vous accueillir."),
    (4, POS, "Oui, bien sûr, je suis là tout l'après-midi, à tout à l'heure."),
    (4, NEU, "Ok, je vous attends devant le portail."),
    (4, NEG, "Ça fait dix jours que je n'ai plus de ligne, dépêchez-vous de venir."),
    (4, NEU, "Ça me va, vous pouvez passer comme prévu."),
    (4, POS, "Parfait, je suis présent, merci de me tenir informé."),
    (4, NEU, "Oui, c'est d'accord pour l'installation aujourd'hui."),
    (4, NEU, "Je suis au bureau juste à côté, je serai chez moi dans cinq minutes, venez."),
    (4, NEU, "Très bien, le boîtier est dans l'entrée, vous verrez."),
    (4, POS, "Yes, come over, I'm at home all day. Thank you!"),
    (4, NEU, "That's fine, my husband will be there to open the door."),
    (4, NEG, "About time, I've had no internet for a week. I'm here, come now."),
    (4, NEU, "Okay, see you at two, the flat is on the first floor."),
    (4, POS, "Great, I'll be waiting for you, thanks a lot."),
)

# No-conversation calls: the whole recognised audio and the technician's behaviour label.
NO_CONVERSATION: tuple[tuple[int, str], ...] = (
    (1, ""),
    (1, "   "),
    (1, "Vous êtes bien chez Nadia et Omar, on n'est pas là, laissez un mot après le bip."),
    (1, "Boîte vocale de Hassan. Je vous rappelle dès que possible."),
    (1, "Votre correspondant est en communication, veuillez patienter ou rappeler plus tard."),
    (1, "Le numéro de votre correspondant n'est pas reconnu."),
    (1, "Cet abonné ne peut être joint actuellement."),
    (1, "Le numéro que vous avez composé n'est pas en service actuellement."),
    (
        1,
        "Bonjour, vous êtes sur la messagerie du zéro six douze. Laissez votre message. "
        "Bonjour madame, c'est le technicien de la fibre, je voulais fixer l'installation, "
        "merci de me rappeler.",
    ),
    (
        1,
        "Je suis indisponible pour le moment, merci de laisser un message après le signal. "
        "Bonjour, ici le service raccordement, nous vous rappellerons demain, bonne journée.",
    ),
    (
        0,
        "Laissez un message après le bip. Ouais, c'est le technicien, ça fait la troisième fois, "
        "rappelez-moi sinon je clôture.",
    ),
    (1, "Votre appel est transféré sur la messagerie de votre correspondant. Bip."),
    (1, "Allô ? Allô ? Bon, personne ne répond, je raccroche."),
    (1, "Le réseau est saturé, veuillez renouveler votre appel."),
    (1, "Ce numéro n'existe plus, merci de vérifier."),
    (1, "bip"),
    (1, "Vous êtes bien au domicile de la famille Tazi, laissez-nous un message."),
    (1, "Numéro inaccessible, votre appel ne peut aboutir."),
    (1, "Bonjour, vous êtes sur le répondeur, je suis en voyage, laissez un message et je rappellerai."),
    (1, "Sorry, the number you have called is not available."),
    (1, "You've reached Sam's phone, leave a message after the beep."),
    (1, "The subscriber cannot be reached at the moment. Please try again later."),
    (
        1,
        "Hi, this is Dana, I'm away, leave your name and number. Hello, it's the engineer, please call back.",
    ),
    (0, "Leave a message. Yeah, technician here, you never pick up, call me back or the job's cancelled."),
)

OPEN_COURTEOUS_FR = (
    "Bonjour, le service installation à l'appareil, je vous appelle pour convenir de mon passage.",
    "Bonjour madame, je suis l'intervenant prévu pour votre raccordement, je voulais m'assurer de votre "
    "disponibilité.",
    "Bonjour, excusez-moi du dérangement, c'est votre technicien pour la box internet, comment allez-vous ?",
    "Bonjour monsieur, je me présente, je suis chargé de vos travaux de fibre aujourd'hui.",
    "Bonjour, je vous contacte de la part de votre opérateur pour l'intervention programmée.",
)
OPEN_RUDE_FR = (
    "Ouais, c'est pour la box. Vous êtes où, là ?",
    "C'est le technicien, je vous appelle pour la dernière fois, faudrait savoir ce que vous voulez.",
    "Bon, c'est le raccordement, je vous préviens, je reviens pas deux fois.",
    "Allô, vous décrochez enfin. L'installation, c'est maintenant ou jamais.",
)
CLOSE_COURTEOUS_FR = (
    "Je vous remercie de votre compréhension, bonne fin de journée.",
    "Merci de m'avoir répondu, je m'occupe de la suite, au revoir.",
    "C'est parfait, je vous souhaite une agréable journée.",
    "Très bien, je vous remercie, à bientôt.",
)
CLOSE_RUDE_FR = ("Pas mon souci.", "Sérieux ? Bon.", "Faites comme vous voulez.", "Ouais, c'est ça.")
OPEN_COURTEOUS_EN = (
    "Good morning, I'm the installer booked for your broadband, I'm calling to check the visit.",
    "Hello, sorry to bother you, it's your engineer for the fibre connection.",
)
OPEN_RUDE_EN = ("Yeah, the engineer. Are you there or what?", "It's about the router. Don't waste my time.")
CLOSE_COURTEOUS_EN = ("Thank you, have a good day.", "Many thanks, goodbye.")
CLOSE_RUDE_EN = ("Whatever you say.", "Fine, I'm off.")
HELLO = ("Allô, oui ?", "Oui, c'est à quel sujet ?", "Bonjour.", "")
HELLO_EN = ("Hello?", "")


@dataclass(frozen=True)
class EvalCall:
    """One call: its turns and labels."""

    turns: tuple[tuple[str, str], ...]
    call_type: int
    behavior: int
    sentiment: str


def _is_english(line: str) -> bool:
    return any(w in line.split() for w in ("I", "I'm", "I've", "I'd", "We", "we", "the", "you", "it"))


def _conversation(i: int, call_type: int, sentiment: str, line: str) -> EvalCall:
    courteous = i % 4 != 3
    english = _is_english(line)
    if english:
        opens = OPEN_COURTEOUS_EN if courteous else OPEN_RUDE_EN
        closes = CLOSE_COURTEOUS_EN if courteous else CLOSE_RUDE_EN
        hellos = HELLO_EN
    else:
        opens = OPEN_COURTEOUS_FR if courteous else OPEN_RUDE_FR
        closes = CLOSE_COURTEOUS_FR if courteous else CLOSE_RUDE_FR
        hellos = HELLO
    turns = (
        ("client", hellos[i % len(hellos)]),
        ("agent", opens[(i // 2) % len(opens)]),
        ("client", line),
        ("agent", closes[(i // 3) % len(closes)]),
    )
    return EvalCall(tuple(t for t in turns if t[1]), call_type, int(courteous), sentiment)


def _no_conversation(behavior: int, text: str) -> EvalCall:
    return EvalCall((("client", text),) if text.strip() else (), 0, behavior, NEU)


def calls() -> list[EvalCall]:
    """Every call of the set, in a fixed order."""
    out = [_conversation(i, t, s, line) for i, (t, s, line) in enumerate(CUSTOMER_LINES)]
    return out + [_no_conversation(b, text) for b, text in NO_CONVERSATION]


def written(call: EvalCall) -> str:
    """The written form: the turns joined into one string."""
    return " ".join(text for _, text in call.turns)


def recognised(call: EvalCall) -> str:
    """The speech-recognition form: ``agent:``/``client:`` lines, normalised like the ASR output."""
    lines = [f"{speaker}: {normalize_text(text)}" for speaker, text in call.turns if normalize_text(text)]
    return "\n".join(lines)


FORMS = {"written": written, "recognised": recognised}


def eval_set(forms: tuple[str, ...] = tuple(FORMS)) -> list[LabelledCall]:
    """The labelled transcripts: every call in each of the given forms (default: written and recognised)."""
    return [
        LabelledCall(FORMS[form](call), call.call_type, call.behavior, call.sentiment)
        for call in calls()
        for form in forms
    ]


if __name__ == "__main__":
    items = eval_set()
    print(f"{len(items)} transcripts")
    for head in ("call_type", "behavior", "sentiment"):
        print(head, dict(sorted(Counter(getattr(c, head) for c in items).items())))
