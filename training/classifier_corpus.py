"""A deterministic, labelled corpus of technician calls for the call classifier.

Calls are assembled from this module's own phrasings (several pools per turn: customer hello, agent
introduction and proposal, the customer's answer that decides the call type, reactions and closings,
courteous or rude), then rendered the way transcripts reach the classifier: written French or English as a
call's ground truth is written, or speech-recognition output (lower case, no punctuation, numbers in words,
dropped, merged and misspelt words, fillers), as one line or as ``agent:``/``client:`` turns, with personal
data either spoken or replaced by redaction tokens. No-conversation calls cover silence, ring noise,
voicemail greetings with or without the technician's message, operator announcements and a technician
talking to a dead line. The demo generator's phrasings (``synth/phrases.py``) are deliberately not used:
they are an evaluation set.

One module (about 900 lines), most of it phrase pools: the corpus's phrasing is data read as a whole,
and one file keeps it apart from the evaluation phrasing of ``synth/`` at a glance.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from inference.asr_model import normalize_text
from inference.call_classifier import LabelledCall
from inference.text import REDACTION_TOKEN

SEED = 20261120
NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"

# An answer pool entry: (sentiment, text).
Answer = tuple[str, str]


# ----------------------------------------------------------------------------------- slot values

AGENTS = (
    "Rachid", "Mounir", "Brahim", "Imane", "Soufiane", "Khadija", "Julien", "Thomas", "Sophie", "Ayoub",
    "Zineb", "Adil", "Hamza", "Salma", "Nicolas", "Driss", "Malika", "Anass",
)  # fmt: skip
CUSTOMERS = (
    "madame Berrada", "monsieur El Fassi", "madame Lahlou", "monsieur Bennani", "Hind Kettani",
    "Yassine Amrani", "madame Dupuis", "monsieur Girard", "Nora Saidi", "Reda Ouazzani", "madame Haddad",
    "monsieur Lemaire", "Ilham Sebti", "Karima Naciri",
)  # fmt: skip
COMPANIES = (
    "Maroc Fibre Services", "Orion Réseaux", "NetConnect", "Telnova", "Fibralia", "Médina Télécom",
    "Horizon Box", "Réseau Plus", "Sahel Connect", "Atlantique Numérique",
)  # fmt: skip
CITIES = ("Rabat", "Tanger", "Agadir", "Fès", "Lyon", "Paris", "Oujda", "Meknès", "Bruxelles", "Kénitra")
DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
PARTS_FR = (
    "matin",
    "après-midi",
    "en fin de matinée",
    "vers midi",
    "en début de soirée",
    "en fin d'après-midi",
)
HOURS = ("8h30", "9h", "10h", "10h30", "11h", "14h", "14h30", "15h", "16h", "17h30", "18h")

SUBJECTS_FR = (
    "le raccordement de votre ligne", "votre demande de fibre", "la mise en service de votre box",
    "votre dossier de dépannage", "la réparation de votre connexion internet", "votre abonnement ADSL",
    "l'installation de la fibre optique", "votre commande {order}", "votre ticket d'incident {order}",
    "le branchement de votre prise optique", "votre ligne fixe en panne", "le remplacement de votre modem",
    "votre contrat internet", "votre dossier numéro {order}", "l'activation de votre accès très haut débit",
    "votre réclamation sur la ligne", "la pose du boîtier fibre", "votre intervention technique",
)  # fmt: skip
SUBJECTS_EN = (
    "your fibre installation", "your broadband order {order}", "the repair of your phone line",
    "your internet outage ticket", "connecting your new router", "your service request {order}",
)  # fmt: skip

WHEN_FR = (
    "aujourd'hui à {hour}", "ce matin", "cet après-midi", "demain matin", "{day} à {hour}",
    "dans une heure", "d'ici une demi-heure", "en fin de journée", "{day} {part}", "tout à l'heure",
)  # fmt: skip
WHEN_EN = ("today at {hour}", "this afternoon", "tomorrow morning", "on {day_en}", "in about an hour")


# ----------------------------------------------------------------------------------- French agent

GREET_FR = (
    "Bonjour", "Bonjour madame", "Bonjour monsieur", "Bonsoir", "Bonjour {customer}", "Allô, bonjour",
    "Bonjour, excusez-moi de vous déranger", "Bonjour, désolé de vous appeler à cette heure",
    "Bonjour, j'espère que je ne vous dérange pas", "Bien le bonjour", "Salam, bonjour",
)  # fmt: skip
IDENT_FR = (
    "{agent} à l'appareil, du service technique de {company}",
    "ici {agent}, de l'équipe d'intervention {company}",
    "je m'appelle {agent} et je travaille pour {company}",
    "c'est {agent}, l'installateur mandaté par {company}",
    "{agent}, technicien raccordement pour {company}",
    "je suis {agent}, le technicien {company} chargé de votre dossier",
    "vous êtes en ligne avec {agent}, intervenant pour {company}",
    "{agent} de la société {company}, service des interventions",
    "c'est le service après-vente de {company}, {agent} au téléphone",
    "je suis technicienne chez {company}, je m'appelle {agent}",
)
PURPOSE_FR = (
    "je vous contacte à propos de {subject}",
    "c'est au sujet de {subject}",
    "je me permets de vous appeler concernant {subject}",
    "j'ai un rendez-vous planifié avec vous pour {subject}",
    "je dois passer chez vous pour {subject}",
    "mon appel concerne {subject}",
    "je reprends contact avec vous pour {subject}",
    "je m'occupe de {subject}",
    "on m'a confié {subject}",
    "je fais suite à {subject}",
)
CHECK_FR = (
    "Vous avez un petit moment ?", "Est-ce que je vous dérange ?", "Je parle bien à {customer} ?",
    "C'est bien le titulaire de la ligne ?", "Vous m'entendez bien ?",
    "Vous avez deux minutes à m'accorder ?",
)  # fmt: skip
PROPOSE_FR = (
    "Je pourrais venir {when}, est-ce que cela vous arrange ?",
    "Je souhaitais savoir si mon passage {when} vous convient.",
    "Je voulais confirmer ma venue {when}.",
    "Mon créneau serait {when}, qu'en pensez-vous ?",
    "Serez-vous présent {when} pour l'intervention ?",
    "Est-ce que je peux passer {when} ?",
    "L'intervention est prévue {when}, c'est toujours d'actualité ?",
    "Je suis dans votre quartier, je peux être chez vous {when}.",
)
RUDE_OPEN_FR = (
    "Allô",
    "Ouais allô",
    "Oui allô",
    "Bon",
    "Allô, vous m'entendez là",
    "Allô ? C'est pas trop tôt",
    "Hé",
)
RUDE_IDENT_FR = (
    "c'est le technicien", "ici l'installateur", "c'est {company}", "technicien {company}",
    "c'est pour l'intervention", "c'est le gars de la fibre", "le technicien, là", "{company}, dépannage",
)  # fmt: skip
RUDE_PURPOSE_FR = (
    "c'est pour {subject}", "pour votre histoire de box", "c'est par rapport à {subject}",
    "j'appelle pour {subject}, encore", "bon, {subject}", "pour votre truc de fibre",
)  # fmt: skip
RUDE_PUSH_FR = (
    "Je suis en bas, vous descendez ou quoi ?",
    "Dites-moi vite si je viens, j'ai d'autres clients.",
    "Ça fait trois fois que je vous appelle, vous répondez jamais.",
    "Faut répondre quand on vous appelle.",
    "Je vais pas y passer ma journée.",
    "Alors, c'est oui ou c'est non ?",
    "Vous êtes chez vous ou pas ? Parce que moi j'attends pas.",
    "Magnez-vous, j'ai un planning chargé.",
    "Bon, vous me dites quoi, là ?",
    "J'ai pas que ça à faire, hein.",
    "Je passe maintenant, sinon tant pis pour vous.",
    "Écoutez, je vais pas vous courir après.",
    "Grouillez-vous de répondre, je suis pressé.",
    "Vous croyez que j'ai que vous comme client ?",
    "Réveillez-vous un peu, c'est le rendez-vous de ce matin.",
)
CLOSE_FR = (
    "Je comprends tout à fait, je transmets l'information. Je vous souhaite une excellente journée.",
    "C'est entendu, merci de m'avoir prévenu, bonne soirée.",
    "Bien noté, merci de votre retour et à bientôt.",
    "Très bien, je mets à jour votre dossier. Merci et au revoir madame.",
    "Aucun problème, je vous remercie pour votre disponibilité.",
    "D'accord, merci infiniment, passez une bonne journée.",
    "Je vous remercie, je fais le nécessaire de mon côté. Au revoir.",
    "Merci à vous, n'hésitez pas à nous contacter si besoin. Bonne continuation.",
    "Je vous en prie, c'est normal. Belle journée à vous.",
    "Parfait, merci pour ces précisions, au plaisir.",
)
RUDE_CLOSE_FR = (
    "Ouais bon, c'est noté.", "Ok, salut.", "Bon bah tant pis.", "Ça m'est égal, moi je note.",
    "Vous auriez pu le dire avant hein.", "Bon, je raccroche.", "Ok ok, on verra.",
    "C'est votre problème, pas le mien.", "Encore un déplacement pour rien.", "Bon ben voilà quoi.",
    "Ouais, si vous le dites.", "Pff, n'importe quoi.", "Bon, allez.",
)  # fmt: skip
REACT_FR: dict[int, tuple[str, ...]] = {
    1: (
        "Je suis désolé de l'apprendre, je signale votre décision au service commercial.",
        "Très bien, je note votre refus, vous recevrez une confirmation d'annulation.",
        "Je respecte votre choix, je clôture la demande.",
    ),
    2: (
        "Pas de souci, je décale le rendez-vous comme vous le souhaitez.",
        "Entendu, je vous inscris sur ce nouveau créneau.",
        "Aucun problème, je modifie la date dans le planning.",
    ),
    3: (
        "D'accord, je note que personne ne sera présent.",
        "Je comprends, nous vous recontacterons quand vous serez rentré.",
        "Bien compris, je signale votre absence.",
    ),
    4: (
        "Parfait, j'arrive, à tout de suite.",
        "Super, je serai là à l'heure prévue.",
        "Très bien, je prends la route, à tout à l'heure.",
    ),
}
RUDE_REACT_FR: dict[int, tuple[str, ...]] = {
    1: ("Ben fallait pas commander alors.", "Encore un qui annule, super.", "Bon ben je vous raye, voilà."),
    2: ("Toujours à décaler, vous.", "Bon, je verrai si j'ai de la place, je promets rien.", "Pff, encore."),
    3: (
        "Et vous pouviez pas prévenir avant ?",
        "Personne, évidemment.",
        "Génial, je me suis déplacé pour rien.",
    ),
    4: (
        "Ouais, j'arrive quand j'arrive.",
        "Bon, soyez là cette fois.",
        "Ok, mais je vais pas attendre en bas.",
    ),
}


# ----------------------------------------------------------------------------------- French customer

HELLO_FR = (
    "Allô ?", "Oui ?", "Oui, bonjour.", "Allô, qui est à l'appareil ?", "Oui, j'écoute ?", "Allô oui ?",
    "Bonjour, oui.", "Oui, je vous écoute.", "Allô, c'est qui ?", "Oui bonjour, c'est pour quoi ?",
)  # fmt: skip
ACK_FR = (
    "Oui, c'est moi.", "Ah oui, je vois.", "Oui, bonjour monsieur.", "Ah, c'est pour la fibre.", "Hmm, oui.",
    "D'accord, je vous écoute.", "Oui, allez-y.", "Ah, d'accord.", "Oui oui, c'est bien moi.",
)  # fmt: skip
COMPLAIN_FR = (
    "Vous pourriez être plus aimable quand même.", "Pas la peine de me parler sur ce ton.",
    "Ne me parlez pas comme ça, s'il vous plaît.", "Vous êtes bien mal poli, vous.",
)  # fmt: skip

# "Other" calls are open-ended: besides the answers below, a customer accepts in a few words and talks about
# access, equipment or timing.
ACCEPT_FR = (
    "C'est confirmé pour moi.", "Ça marche.", "Entendu, je serai là.", "D'accord, on fait comme ça.",
    "Oui, c'est bon.", "Allez-y, venez.", "Vous pouvez passer.", "Rendez-vous maintenu, pas de changement.",
    "Je vous attends.", "Oui, aucun souci.", "Bien sûr.", "Très bien, à tout à l'heure.",
)  # fmt: skip
LOGISTICS_FR = (
    "Le compteur est dans le couloir, à droite.",
    "Il y a une place pour vous garer devant la maison.",
    "Attention, l'ascenseur est en panne, il faudra prendre l'escalier.",
    "La prise téléphonique est dans la chambre du fond.",
    "Le chien sera dans le jardin, ne vous inquiétez pas.",
    "Sonnez au nom de {customer}, deuxième étage.",
    "Vous aurez besoin d'une échelle ? Il y en a une au garage.",
    "L'ancienne box est toujours branchée dans le salon.",
    "Vous restez combien de temps à peu près ?",
    "Il faudra percer le mur ou pas ?",
    "Vous pouvez m'envoyer un message en arrivant ?",
    "Le local technique est au sous-sol, j'ai la clé.",
    "C'est la maison blanche au bout de la rue.",
    "Je vous préviens, il y a des travaux dans la rue.",
    "Faut-il que je libère de la place près de la fenêtre ?",
)
ACCEPT_EN = ("Sure.", "That works.", "Fine, come over.", "Yes, that's confirmed.", "Okay, see you soon.")
LOGISTICS_EN = (
    "It's the blue door.", "Parking is round the back.", "How long will it take?",
    "The router is in the living room.", "Ring twice, the bell is weak.",
)  # fmt: skip

# Said before or after a neutral answer, they set the customer's sentiment whatever the call type.
NEGATIVE_FR = (
    "C'est inadmissible.", "J'en ai vraiment marre de vos retards.", "Vous êtes d'une incompétence !",
    "Ça suffit maintenant.", "C'est scandaleux, ce service.", "Je suis très mécontent.",
    "C'est la troisième fois qu'on me fait le coup.", "Franchement, c'est lamentable.", "Je suis furieux.",
    "Vous me fatiguez avec vos appels.", "Quelle galère avec vous.", "C'est insupportable d'attendre autant.",
    "Je suis déçu, vraiment déçu.", "Vous vous fichez du monde.", "C'est toujours la même chose avec vous.",
)  # fmt: skip
POSITIVE_FR = (
    "Merci beaucoup de m'avoir appelé.", "C'est très gentil de prévenir.", "Super, merci !",
    "Vous êtes bien aimable.", "Merci pour votre professionnalisme.", "Ah, ravi de vous entendre.",
    "Avec plaisir !", "Merci mille fois.", "Je vous remercie de votre gentillesse.", "Génial, merci à vous.",
    "C'est adorable de votre part d'appeler.",
)  # fmt: skip
NEGATIVE_EN = (
    "This is unacceptable.", "I'm fed up with your delays.", "Honestly, this is ridiculous.",
    "I'm really annoyed.", "Enough is enough.",
)  # fmt: skip
POSITIVE_EN = (
    "Thanks so much for calling.",
    "That's very kind of you.",
    "Lovely, thank you!",
    "Much appreciated.",
)

ANSWERS_FR: dict[int, tuple[Answer, ...]] = {
    1: (
        (NEUTRAL, "Écoutez, j'ai réfléchi et je ne souhaite plus cette installation."),
        (NEUTRAL, "Je préfère annuler ma demande, je n'en ai plus besoin."),
        (NEUTRAL, "Non, ce ne sera pas nécessaire, j'ai changé d'avis."),
        (NEUTRAL, "J'ai pris un abonnement chez un autre opérateur entre-temps, donc je renonce."),
        (NEUTRAL, "Je vous arrête tout de suite, je ne veux plus de votre offre."),
        (NEUTRAL, "Ce n'est plus la peine de venir, j'annule tout."),
        (NEUTRAL, "Mon mari a résilié la commande, on ne veut plus l'installation."),
        (NEUTRAL, "On déménage bientôt, donc on abandonne la demande de raccordement."),
        (NEUTRAL, "Non merci, finalement je garde mon ancienne box, ne venez pas."),
        (NEUTRAL, "Je ne donne pas suite, vous pouvez clôturer le dossier."),
        (NEUTRAL, "C'est trop cher pour moi, je retire ma commande."),
        (NEUTRAL, "Je ne veux pas de technicien chez moi, je refuse."),
        (NEUTRAL, "Je n'ai plus envie de la fibre, annulez ça s'il vous plaît."),
        (NEUTRAL, "Non, je ne suis plus intéressé par ce raccordement."),
        (NEUTRAL, "Finalement je laisse tomber, je n'en veux pas."),
        (NEUTRAL, "Je ne veux pas de cette intervention, merci de supprimer la demande."),
        (NEUTRAL, "Vous pouvez annuler, je reste avec mon fournisseur actuel."),
        (NEUTRAL, "Pas la peine, je renonce à l'abonnement."),
        (NEUTRAL, "Je ne souhaite pas que les travaux se fassent chez moi, je refuse."),
        (NEUTRAL, "Inutile de vous déranger, j'ai annulé la demande hier."),
        (NEUTRAL, "N'envoyez personne, je ne veux plus de ce service."),
        (NEUTRAL, "Je ne confirme pas, je ne veux plus être raccordé."),
        (NEUTRAL, "Non, c'est non, je ne prends pas l'installation."),
        (NEGATIVE, "Non ! Ça fait un mois que j'attends, je ne veux plus rien de chez vous, j'annule."),
        (NEGATIVE, "Vous plaisantez ? Après tout ce temps ? Laissez tomber, je refuse."),
        (NEGATIVE, "Je ne veux plus entendre parler de vous, supprimez ma commande."),
        (NEGATIVE, "Hors de question que vous veniez, j'ai déjà fait une réclamation, annulez."),
        (NEGATIVE, "Arrêtez de m'appeler, je refuse cette intervention, c'est clair ?"),
        (NEGATIVE, "Votre service est nul, je résilie et je pars à la concurrence."),
        (NEGATIVE, "C'est une honte, je ne veux plus de votre installation, point final."),
        (POSITIVE, "C'est gentil de m'appeler, mais je n'en veux plus, merci quand même."),
        (POSITIVE, "Merci beaucoup pour l'appel, mais j'ai décidé de renoncer à l'installation."),
        (POSITIVE, "Vous êtes très aimable, mais finalement j'annule, merci et bonne journée."),
    ),
    2: (
        (NEUTRAL, "Aujourd'hui ça tombe mal, est-ce qu'on pourrait voir ça {day2} ?"),
        (NEUTRAL, "Je travaille toute la journée, vous pouvez repousser à {day2} en fin d'après-midi ?"),
        (NEUTRAL, "Il faudrait déplacer le rendez-vous, {day2} ça m'irait mieux."),
        (NEUTRAL, "Est-ce possible de changer la date ? Plutôt la semaine prochaine."),
        (NEUTRAL, "Je ne peux pas ce matin, mais demain à partir de {hour2} c'est bon."),
        (NEUTRAL, "On peut remettre ça à plus tard ? Disons {day2} matin."),
        (NEUTRAL, "Je voudrais modifier le créneau, {day2} après-midi serait parfait."),
        (NEUTRAL, "Pouvez-vous revenir un autre jour ? {day2}, par exemple."),
        (NEUTRAL, "Ce n'est pas le bon moment, rappelez-moi pour fixer une autre date."),
        (NEUTRAL, "Je dois décaler, j'ai un imprévu, on dit {day2} ?"),
        (NEUTRAL, "Reportons à la semaine prochaine si ça ne vous dérange pas."),
        (NEUTRAL, "Je suis pris à cette heure-là, vous auriez un créneau plus tard, vers {hour2} ?"),
        (NEUTRAL, "Mettez-moi plutôt {day2}, je serai plus disponible."),
        (NEUTRAL, "J'ai un rendez-vous médical, on peut faire ça {day2} ?"),
        (NEUTRAL, "Demain ça m'arrangerait davantage, si c'est possible."),
        (NEUTRAL, "Je ne serai pas là aujourd'hui, venez plutôt {day2} à {hour2}."),
        (NEUTRAL, "Cette date ne me va pas, je voudrais un nouveau rendez-vous."),
        (NEUTRAL, "On pourrait avancer à ce soir ou repousser à {day2} ?"),
        (NEUTRAL, "Passez plutôt en fin de semaine, {day2} ce serait idéal."),
        (NEUTRAL, "Je suis coincé au bureau, vous pouvez reprogrammer l'intervention ?"),
        (NEUTRAL, "Je voudrais reporter notre rendez-vous, disons {day2}."),
        (NEUTRAL, "Est-ce qu'on peut reporter à {day2} ?"),
        (NEUTRAL, "Reportez l'intervention à la semaine suivante, s'il vous plaît."),
        (NEUTRAL, "Je préfère qu'on fasse ça {day2}, je serai libre."),
        (NEUTRAL, "Ma femme préfère {day2} après-midi, c'est elle qui sera là."),
        (NEUTRAL, "Il vaudrait mieux un autre jour, {day2} ou {day} plutôt."),
        (NEUTRAL, "Aujourd'hui c'est compliqué, revenez {day2}."),
        (NEGATIVE, "Vous prévenez toujours au dernier moment, c'est pénible. Venez {day2}, pas avant."),
        (NEGATIVE, "Encore changer ? Bon, pas aujourd'hui en tout cas, mettez {day2}."),
        (NEGATIVE, "C'est n'importe quoi votre organisation, je ne peux pas là, décalez à {day2}."),
        (POSITIVE, "Merci de prévenir ! Par contre je préférerais {day2}, ce serait super."),
        (POSITIVE, "Avec plaisir, mais plutôt {day2} à {hour2} si vous pouvez, merci beaucoup."),
        (POSITIVE, "Super, merci ! Est-ce qu'on peut juste glisser ça à {day2}, ce serait parfait."),
    ),
    3: (
        (NEUTRAL, "Je suis en déplacement professionnel, je ne rentre que dans dix jours."),
        (NEUTRAL, "Il n'y aura personne chez moi, je suis parti en vacances."),
        (NEUTRAL, "Je suis hospitalisé en ce moment, la maison est vide."),
        (NEUTRAL, "Je ne suis pas en ville cette semaine, je suis chez ma famille à {city}."),
        (NEUTRAL, "Je ne suis pas présent au domicile, je travaille à l'étranger."),
        (NEUTRAL, "Désolé, je suis loin de chez moi, en congé jusqu'à la fin du mois."),
        (NEUTRAL, "Personne ne pourra vous ouvrir, nous sommes tous absents."),
        (NEUTRAL, "Je suis actuellement hors du pays, je ne peux pas vous recevoir."),
        (NEUTRAL, "Je suis en mission pour mon travail, je ne suis pas là du tout."),
        (NEUTRAL, "J'ai quitté le logement pour quelques semaines, il n'y a personne."),
        (NEUTRAL, "Ma femme et moi sommes en voyage, l'appartement est fermé."),
        (NEUTRAL, "Je suis bloqué à {city} pour le moment, je ne suis pas chez moi."),
        (NEUTRAL, "Vous tombez mal, je suis à l'hôpital avec ma mère, je ne suis pas à la maison."),
        (NEUTRAL, "Je ne suis pas sur place, je suis en vacances au bord de la mer."),
        (NEUTRAL, "Je suis absent de mon domicile, je suis parti au bled."),
        (NEUTRAL, "Il n'y a absolument personne à l'adresse en ce moment."),
        (NEUTRAL, "Je suis à {city} chez mes enfants, la maison est inoccupée."),
        (NEUTRAL, "Je ne suis pas joignable à la maison, je suis en formation loin d'ici."),
        (NEUTRAL, "Je vis ailleurs pour l'instant, je ne passe plus à l'appartement."),
        (NEGATIVE, "Je vous ai déjà dit que je suis absent, je ne suis pas chez moi, arrêtez."),
        (NEGATIVE, "C'est pas possible, je suis en voyage, vous appelez toujours au mauvais moment."),
        (NEGATIVE, "Mais je suis à l'autre bout du pays, comment voulez-vous que je vous ouvre ?"),
        (POSITIVE, "Merci de votre appel ! Malheureusement je suis en vacances, personne à la maison."),
        (POSITIVE, "C'est gentil d'appeler, mais je suis à l'étranger pour un moment."),
    ),
    4: (
        (POSITIVE, "Parfait, je vous attends, je ne bouge pas de la journée."),
        (POSITIVE, "Très bien, venez quand vous voulez, je suis présent."),
        (POSITIVE, "Super, j'attendais votre appel, le portail sera ouvert."),
        (POSITIVE, "Oui oui, c'est bon pour moi, à tout à l'heure."),
        (POSITIVE, "Génial, enfin ! Je serai là, sonnez à l'interphone."),
        (POSITIVE, "Aucun problème, je suis à la maison toute la matinée."),
        (POSITIVE, "Oui, je confirme, l'adresse n'a pas changé, vous pouvez venir."),
        (POSITIVE, "Merci, c'est parfait, je vous ouvrirai."),
        (NEUTRAL, "D'accord, je descends vous ouvrir dès que vous arrivez."),
        (NEUTRAL, "Oui, c'est bon, appelez-moi quand vous êtes devant l'immeuble."),
        (NEUTRAL, "D'accord. Le code de la porte, c'est le {code}."),
        (NEUTRAL, "Ma fille sera là pour vous ouvrir, vous pouvez passer."),
        (NEUTRAL, "Oui, c'est au troisième étage, porte gauche."),
        (NEUTRAL, "Ça marche, j'ai libéré l'accès au local technique."),
        (NEUTRAL, "Ok, je reste ici, venez."),
        (NEUTRAL, "Oui, le modem est déjà branché, vous n'aurez qu'à vérifier."),
        (NEUTRAL, "C'est noté, je serai présent à l'heure dite."),
        (NEUTRAL, "Oui, maintenu, l'intervention peut se faire comme prévu."),
        (NEUTRAL, "Combien de temps ça va prendre ? Bon, d'accord, venez."),
        (NEUTRAL, "Oui, je suis bien chez moi, vous pouvez monter."),
        (NEUTRAL, "Je suis à la maison là, passez."),
        (NEUTRAL, "Il y a quelqu'un à la maison toute la journée, aucun souci."),
        (POSITIVE, "Pas de problème, je suis à mon domicile, venez quand ça vous arrange."),
        (NEUTRAL, "Vous aurez besoin d'accéder au garage ? Je vous l'ouvrirai."),
        (NEUTRAL, "Je suis à deux rues, j'arrive tout de suite, vous pouvez y aller."),
        (NEUTRAL, "Ça ne pose aucun souci, l'appartement est accessible."),
        (NEUTRAL, "Je suis chez moi cet après-midi, c'est bon pour moi."),
        (NEUTRAL, "Je suis disponible, vous pouvez faire l'installation."),
        (NEGATIVE, "Ma connexion ne marche plus depuis longtemps, venez vite s'il vous plaît."),
        (NEGATIVE, "Enfin ! Ça fait deux semaines que j'attends, venez aujourd'hui, je suis là."),
        (NEGATIVE, "Oui, je suis là, mais soyez à l'heure cette fois."),
        (NEGATIVE, "Bon, venez, mais j'espère que ça va marcher cette fois, j'en ai marre."),
        (NEGATIVE, "Il était temps, ça fait des jours sans internet, je vous attends."),
    ),
}


# ----------------------------------------------------------------------------------- English

GREET_EN = ("Hello", "Good morning", "Good afternoon", "Hi, good morning", "Hello {customer}")
IDENT_EN = (
    "this is {agent} from {company}", "my name is {agent}, I'm a technician with {company}",
    "{agent} speaking, field engineer for {company}", "I'm {agent}, calling on behalf of {company}",
)  # fmt: skip
PURPOSE_EN = ("I'm calling about {subject}", "it's regarding {subject}", "I'm following up on {subject}")
PROPOSE_EN = ("Would {when} suit you?", "I could come round {when}, is that okay?", "Can I drop by {when}?")
RUDE_EN = (
    "Yeah, it's the technician. {subject}. Are you in or not?",
    "Technician. Look, I've got other jobs, so hurry up and tell me.",
    "It's {company}. Third time I'm calling, pick up your phone next time.",
    "Right, it's about {subject}. Make up your mind, I haven't got time for this.",
    "Installer here. Don't keep me waiting, I'm not calling again.",
    "Yeah, {company}. I don't care what suits you, I'm coming now or never.",
    "It's about your box. Stop wasting my time and answer.",
)
CLOSE_EN = (
    "Thank you very much, have a lovely day.", "Noted, thanks for letting me know. Goodbye.",
    "Perfect, thank you for your time.", "Understood, I appreciate it, take care.",
)  # fmt: skip
RUDE_CLOSE_EN = (
    "Whatever.", "Fine. Bye.", "Yeah, yeah, noted.", "Your problem, not mine.", "Great, wasted trip.",
    "Don't care.", "Right, I'm hanging up.",
)  # fmt: skip
HELLO_EN = ("Hello?", "Yes?", "Hello, who's calling?", "Hi, yes.")
ANSWERS_EN: dict[int, tuple[Answer, ...]] = {
    1: (
        (NEUTRAL, "I've changed my mind, I don't want the installation any more."),
        (NEUTRAL, "Please cancel my order, I went with another provider."),
        (NEUTRAL, "No thanks, I'm not interested any more, you can close the request."),
        (NEUTRAL, "Don't bother coming, I'm keeping my current provider."),
        (NEGATIVE, "I've waited for weeks, forget it, I'm cancelling everything."),
        (NEGATIVE, "Stop calling me, I refuse, cancel it."),
        (POSITIVE, "Thanks for calling, but I've decided to cancel, have a nice day."),
    ),
    2: (
        (NEUTRAL, "Today doesn't work, could we move it to {day_en}?"),
        (NEUTRAL, "Can we push the appointment to next week?"),
        (NEUTRAL, "I'm stuck at work, could you come {day_en} afternoon instead?"),
        (NEUTRAL, "I need to reschedule, is {day_en} at {hour2} possible?"),
        (NEUTRAL, "Could you come another day? I'm busy today."),
        (NEUTRAL, "Not today please, come back on {day_en} instead."),
        (NEGATIVE, "Always last minute with you people. Not today, make it {day_en}."),
        (POSITIVE, "Thanks! Could we just change it to {day_en}? That would be great."),
    ),
    3: (
        (NEUTRAL, "I'm away on holiday, there's nobody at home."),
        (NEUTRAL, "I'm abroad at the moment, nobody can let you in."),
        (NEUTRAL, "I'm out of town for work for two weeks, the flat is empty."),
        (NEUTRAL, "We're travelling, the house is empty until the end of the month."),
        (NEUTRAL, "I'm not at home, I'm staying with relatives in another city."),
        (NEGATIVE, "I told you already, I'm not home, I'm in another country."),
        (POSITIVE, "Thanks for calling, sadly I'm away on a trip right now."),
    ),
    4: (
        (POSITIVE, "Great, I'll be home all day, come whenever you like."),
        (POSITIVE, "Perfect, I'm waiting for you, the gate is open."),
        (NEUTRAL, "Okay, ring the bell when you arrive, it's the second floor."),
        (NEUTRAL, "Yes, that's fine, my son will let you in."),
        (NEGATIVE, "Finally! I've been without internet for days, come now, I'm here."),
        (NEUTRAL, "Sure, the address is the same, see you then."),
        (NEUTRAL, "See you later then, it's flat three."),
        (POSITIVE, "No problem, I'm home, come round whenever."),
        (NEGATIVE, "My connection has been dead for ages, please hurry."),
    ),
}


# ----------------------------------------------------------------------------------- no conversation

VOICEMAIL_GREETING_FR = (
    "Bonjour, vous avez bien joint le répondeur de {customer}, je suis absent pour le moment, "
    "laissez vos coordonnées et je vous rappelle.",
    "Vous êtes sur la boîte vocale du {phone}, parlez après le signal sonore.",
    "Votre correspondant n'est pas disponible, vous pouvez laisser un message après le bip.",
    "Bonjour, c'est {customer}, je ne peux pas répondre, laissez-moi un petit message, merci.",
    "Le {phone} n'est pas disponible pour le moment, laissez un message ou rappelez plus tard.",
    "Messagerie de {customer}. Merci de laisser votre nom et votre numéro, je vous recontacte rapidement.",
    "Bonjour, vous êtes bien chez {customer}, nous sommes absents, laissez un message après la tonalité.",
    "Bienvenue sur la messagerie vocale, la personne que vous appelez est indisponible, "
    "enregistrez votre message après le bip.",
    "Salut, c'est {customer}, je ne suis pas joignable, laisse un message.",
    "Vous êtes bien sur le répondeur de {customer}. Je suis en réunion, laissez un message, je rappelle.",
    "Votre appel a été transféré vers une messagerie vocale. Le {phone} n'est pas disponible.",
    "Bonjour, je ne suis pas là, mais laissez-moi un message et je vous rappellerai dès mon retour.",
)
VOICEMAIL_GREETING_EN = (
    "Hi, you've reached {customer}, I can't take your call right now, please leave a message after the tone.",
    "The person you are calling is not available. Please record your message after the beep.",
    "Welcome to the voicemail of {phone}. Leave a message and I'll get back to you.",
)
VOICEMAIL_MSG_FR = (
    "Bonjour, c'est {agent} de {company}, je vous appelais pour {subject}, vous pouvez me recontacter "
    "au {phone}. Bonne journée.",
    "Bonjour {customer}, {agent}, technicien {company}. Je n'arrive pas à vous joindre concernant {subject}, "
    "merci de nous rappeler.",
    "Message pour {customer} : votre technicien {company} a essayé de vous joindre pour {subject}. "
    "Rappelez-nous au {phone}, merci.",
    "Bonjour, ici {agent}. Je devais passer {when} pour {subject}, pouvez-vous me rappeler pour confirmer ? "
    "Merci beaucoup.",
    "Bonjour, {agent} du service intervention {company}, c'est concernant {subject}. Je réessaierai plus "
    "tard, bonne journée.",
    "Oui bonjour, {company} à l'appareil, nous cherchons à vous joindre pour {subject}, merci de rappeler.",
)
VOICEMAIL_RUDE_FR = (
    "Ouais c'est le technicien, vous répondez jamais, rappelez si vous voulez votre ligne.",
    "C'est {company}. Troisième appel, je repasse pas, débrouillez-vous.",
    "Bon, messagerie, évidemment. Rappelez, hein.",
    "Technicien. Si vous rappelez pas aujourd'hui, votre dossier part à la poubelle.",
)
VOICEMAIL_MSG_EN = (
    "Hello, it's {agent} from {company} about {subject}, please call me back on {phone}. Thanks.",
    "Hi {customer}, {company} here, we tried to reach you regarding {subject}. Please get back to us.",
)
OPERATOR_FR = (
    "Ce numéro n'est pas en service. Vérifiez le numéro composé.",
    "Votre appel ne peut aboutir, le numéro demandé est incorrect.",
    "L'abonné que vous cherchez à joindre est momentanément indisponible, merci de renouveler votre appel.",
    "Le téléphone de votre correspondant est éteint ou hors zone de couverture.",
    "Suite à une modification, le numéro de votre correspondant a changé.",
    "Toutes les lignes de votre correspondant sont occupées, merci de rappeler plus tard.",
    "Le service demandé est temporairement indisponible.",
    "Ce numéro n'est plus attribué, nous vous invitons à vérifier votre saisie.",
    "Votre correspondant est injoignable, veuillez réessayer ultérieurement.",
    "Bienvenue chez {company}. Le numéro que vous composez n'est pas valide.",
    "L'accès à ce numéro est restreint. Votre appel ne peut être acheminé.",
    "Le numéro que vous avez composé est inexistant.",
)
OPERATOR_EN = (
    "The number you have dialled is not in service. Please check the number and try again.",
    "The person you are calling is unavailable. Please try again later.",
    "This number has been disconnected.",
    "The mobile phone you are calling is switched off.",
)
DEAD_LINE_FR = (
    "Allô ? Allô ? Vous m'entendez ? Bon, ça a raccroché.",
    "Allô ? Il y a quelqu'un ? Rien, la ligne est coupée.",
    "Allô madame ? Allô ? Je n'entends rien, je vous rappellerai.",
    "Allô ? Allô ? Ça sonne dans le vide.",
    "Allô, bonjour ? Allô ? Pas de réponse.",
)
DEAD_LINE_EN = ("Hello? Hello? Can you hear me? Nothing, the line's dead.",)
RING_NOISE = (
    "",
    " ",
    "\n",
    "euh",
    "hum",
    "mm",
    "bip",
    "tut tut tut",
    "ah",
    "hm hm",
    "tuuut",
    "bip bip",
    "oh",
)


# ----------------------------------------------------------------------------------- assembly


@dataclass(frozen=True)
class Language:
    """One language's phrase pools."""

    code: str
    greet: tuple[str, ...]
    ident: tuple[str, ...]
    purpose: tuple[str, ...]
    check: tuple[str, ...]
    propose: tuple[str, ...]
    close: tuple[str, ...]
    rude_close: tuple[str, ...]
    hello: tuple[str, ...]
    ack: tuple[str, ...]
    complain: tuple[str, ...]
    answers: dict[int, tuple[Answer, ...]]
    accept: tuple[str, ...]
    logistics: tuple[str, ...]
    negative: tuple[str, ...]
    positive: tuple[str, ...]
    react: dict[int, tuple[str, ...]]
    rude_react: dict[int, tuple[str, ...]]
    subjects: tuple[str, ...]
    when: tuple[str, ...]
    greeting: tuple[str, ...]
    message: tuple[str, ...]
    rude_message: tuple[str, ...]
    operator: tuple[str, ...]
    dead_line: tuple[str, ...]


FRENCH = Language(
    code="fr",
    greet=GREET_FR,
    ident=IDENT_FR,
    purpose=PURPOSE_FR,
    check=CHECK_FR,
    propose=PROPOSE_FR,
    close=CLOSE_FR,
    rude_close=RUDE_CLOSE_FR,
    hello=HELLO_FR,
    ack=ACK_FR,
    complain=COMPLAIN_FR,
    answers=ANSWERS_FR,
    accept=ACCEPT_FR,
    logistics=LOGISTICS_FR,
    negative=NEGATIVE_FR,
    positive=POSITIVE_FR,
    react=REACT_FR,
    rude_react=RUDE_REACT_FR,
    subjects=SUBJECTS_FR,
    when=WHEN_FR,
    greeting=VOICEMAIL_GREETING_FR,
    message=VOICEMAIL_MSG_FR,
    rude_message=VOICEMAIL_RUDE_FR,
    operator=OPERATOR_FR,
    dead_line=DEAD_LINE_FR,
)
ENGLISH = Language(
    code="en",
    greet=GREET_EN,
    ident=IDENT_EN,
    purpose=PURPOSE_EN,
    check=(),
    propose=PROPOSE_EN,
    close=CLOSE_EN,
    rude_close=RUDE_CLOSE_EN,
    hello=HELLO_EN,
    ack=("Yes, speaking.", "Oh, right.", "Go ahead."),
    complain=("There's no need to be rude.", "Don't talk to me like that."),
    answers=ANSWERS_EN,
    accept=ACCEPT_EN,
    logistics=LOGISTICS_EN,
    negative=NEGATIVE_EN,
    positive=POSITIVE_EN,
    react={},
    rude_react={},
    subjects=SUBJECTS_EN,
    when=WHEN_EN,
    greeting=VOICEMAIL_GREETING_EN,
    message=VOICEMAIL_MSG_EN,
    rude_message=(),
    operator=OPERATOR_EN,
    dead_line=DEAD_LINE_EN,
)

Turn = tuple[str, str]  # (speaker "agent" | "client", text)


def _slots(rng: random.Random, lang: Language) -> dict[str, str]:
    day, day2 = rng.sample(DAYS_FR, 2)
    order = (
        f"CMD-{rng.randrange(10**6, 10**7)}" if rng.random() < 0.5 else f"TCK{rng.randrange(10**7, 10**8)}"
    )
    phone = "0" + str(rng.choice((5, 6, 7))) + " " + " ".join(f"{rng.randrange(100):02d}" for _ in range(4))
    slots = {
        "agent": rng.choice(AGENTS),
        "customer": rng.choice(CUSTOMERS),
        "company": rng.choice(COMPANIES),
        "city": rng.choice(CITIES),
        "order": order,
        "phone": phone,
        "code": str(rng.randrange(1000, 9999)),
        "day": day,
        "day2": day2,
        "day_en": rng.choice(DAYS_EN),
        "part": rng.choice(PARTS_FR),
        "hour": rng.choice(HOURS),
        "hour2": rng.choice(HOURS),
    }
    slots["subject"] = rng.choice(lang.subjects).format(**slots)
    slots["when"] = rng.choice(lang.when).format(**slots)
    return slots


def _fill(rng: random.Random, options: Sequence[str], slots: dict[str, str]) -> str:
    return rng.choice(options).format(**slots)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[0].upper() + text[1:] if text else text


def _intro(rng: random.Random, lang: Language, courteous: bool, slots: dict[str, str]) -> str:
    if not courteous:
        if lang.code == "en":
            return _fill(rng, RUDE_EN, slots)
        parts = [_fill(rng, RUDE_OPEN_FR, slots), _fill(rng, RUDE_IDENT_FR, slots)]
        if rng.random() < 0.7:
            parts.append(_fill(rng, RUDE_PURPOSE_FR, slots))
        head = ", ".join(parts) + "."
        return f"{head} {_fill(rng, RUDE_PUSH_FR, slots)}"
    text = f"{_fill(rng, lang.greet, slots)}, {_fill(rng, lang.ident, slots)}."
    text += f" {_sentence(_fill(rng, lang.purpose, slots))}."
    if lang.check and rng.random() < 0.4:
        text += " " + _fill(rng, lang.check, slots)
    return text


def _answer(rng: random.Random, lang: Language, call_type: int) -> Answer:
    """The customer's deciding answer and its sentiment."""
    if call_type != 4 or rng.random() < 0.6:
        return rng.choice(lang.answers[call_type])
    accept, detail = rng.choice(lang.accept), rng.choice(lang.logistics)
    return NEUTRAL, rng.choice((f"{accept} {detail}", f"{detail} {accept}", detail))


def _conversation(
    rng: random.Random, lang: Language, call_type: int, courteous: bool
) -> tuple[list[Turn], str]:
    slots = _slots(rng, lang)
    turns: list[Turn] = []
    if rng.random() < 0.8:
        turns.append(("client", _fill(rng, lang.hello, slots)))
    turns.append(("agent", _intro(rng, lang, courteous, slots)))
    if rng.random() < 0.3:
        turns.append(("client", _fill(rng, lang.ack, slots)))
    if courteous and rng.random() < 0.5:
        turns.append(("agent", _fill(rng, lang.propose, slots)))
    sentiment, answer = _answer(rng, lang, call_type)
    answer = answer.format(**slots)
    if sentiment == NEUTRAL and rng.random() < 0.25:
        sentiment = rng.choice((NEGATIVE, POSITIVE))
        emotion = rng.choice(lang.negative if sentiment == NEGATIVE else lang.positive)
        answer = f"{emotion} {answer}" if rng.random() < 0.5 else f"{answer} {emotion}"
    turns.append(("client", answer))
    reactions = lang.react if courteous else lang.rude_react
    if call_type in reactions and rng.random() < 0.5:
        turns.append(("agent", _fill(rng, reactions[call_type], slots)))
    if not courteous and rng.random() < 0.1:
        turns.append(("client", _fill(rng, lang.complain, slots)))
        sentiment = NEGATIVE
    if rng.random() < 0.85:
        turns.append(("agent", _fill(rng, lang.close if courteous else lang.rude_close, slots)))
    return turns, sentiment


def _no_conversation(rng: random.Random, lang: Language) -> tuple[list[Turn], int]:
    """Turns of a call without a conversation and the technician's behaviour label."""
    slots = _slots(rng, lang)
    kind = rng.choices(("silence", "voicemail", "operator", "dead"), weights=(2, 5, 3, 1))[0]
    if kind == "silence":
        return [("client", rng.choice(RING_NOISE))], 1
    if kind == "operator":
        return [("client", _fill(rng, lang.operator, slots))], 1
    if kind == "dead":
        return [("agent", _fill(rng, lang.dead_line, slots))], 1
    turns: list[Turn] = [("client", _fill(rng, lang.greeting, slots))]
    roll = rng.random()
    if roll < 0.15 and lang.rude_message:
        turns.append(("agent", _fill(rng, lang.rude_message, slots)))
        return turns, 0
    if roll < 0.7:
        turns.append(("agent", _fill(rng, lang.message, slots)))
    return turns, 1


# ----------------------------------------------------------------------------------- rendering

_FILLERS = ("euh", "hum", "ben", "bah", "heu", "voilà", "donc")
_CONFUSIONS = {
    "c'est": "s'est", "et": "est", "à": "a", "ou": "où", "vous": "vou", "pas": "pa", "je": "j",
    "rendez-vous": "rendez vous", "ce": "se", "mais": "mes", "ça": "sa", "on": "ont", "est": "et",
}  # fmt: skip
_LETTERS = "abcdefghijklmnopqrstuvwxyzéèàç"


def _asr_words(text: str, rng: random.Random, level: float) -> str:
    """``normalize_text`` plus recognition errors at rate ``level``; redaction tokens pass unchanged."""
    out: list[str] = []
    at = 0
    for token in [*REDACTION_TOKEN.finditer(text), None]:
        for word in normalize_text(text[at : token.start() if token else len(text)]).split():
            out.extend(_corrupt(word, rng, level))
        if token:
            out.append(token.group())
            at = token.end()
    return " ".join(out)


def _corrupt(word: str, rng: random.Random, level: float) -> list[str]:
    r = rng.random()
    if r < level * 0.25:
        return []
    if r < level * 0.45 and word in _CONFUSIONS:
        return [_CONFUSIONS[word]]
    if r < level * 0.8 and len(word) > 3:
        i = rng.randrange(len(word))
        op = rng.random()
        if op < 0.4:
            return [word[:i] + rng.choice(_LETTERS) + word[i + 1 :]]
        if op < 0.7:
            return [word[:i] + word[i + 1 :]]
        return [word[:i], word[i:]] if 0 < i < len(word) else [word]
    if r < level and rng.random() < 0.5:
        return [rng.choice(_FILLERS), word]
    if rng.random() < level * 0.5:
        stripped = word.translate(str.maketrans("éèêàâçîôû", "eeeaacibu"))
        return [stripped]
    return [word]


def _merge(words: list[str], rng: random.Random, level: float) -> list[str]:
    out: list[str] = []
    for word in words:
        if out and not word.startswith("[") and not out[-1].startswith("[") and rng.random() < level * 0.2:
            out[-1] += word
        else:
            out.append(word)
    return out


def recognise(text: str, rng: random.Random, level: float) -> str:
    """A written transcript as noisy speech recognition would write it: one line, errors at rate ``level``."""
    return " ".join(_merge(_asr_words(text, rng, level).split(), rng, level))


def render(turns: Sequence[Turn], style: str, rng: random.Random, level: float = 0.0) -> str:
    """One transcript of the turns: ``written`` (joined like a ground-truth transcript), ``asr_mono`` (one
    recognised line) or ``asr_dialogue`` (``agent:``/``client:`` lines, one speaker's consecutive turns
    merged)."""
    texts = [t for _, t in turns if t.strip()]
    if style == "written":
        return " ".join(texts)
    if style == "asr_mono":
        return recognise(" ".join(texts), rng, level)
    merged: list[tuple[str, list[str]]] = []
    for speaker, text in turns:
        words = _merge(_asr_words(text, rng, level).split(), rng, level)
        if not words:
            continue
        if merged and merged[-1][0] == speaker:
            merged[-1][1].extend(words)
        else:
            merged.append((speaker, words))
    return "\n".join(f"{speaker}: {' '.join(words)}" for speaker, words in merged)


def _redact(turns: list[Turn]) -> list[Turn]:
    """Replace the names, phone numbers, order ids and cities the turns contain by redaction tokens."""
    tokens = {}
    for value in AGENTS:
        tokens[value] = "[PERSON_1]"
    for value in CUSTOMERS:
        tokens[value] = "[PERSON_2]"
    for value in CITIES:
        tokens[value] = "[LOCATION_1]"
    out: list[Turn] = []
    for speaker, text in turns:
        text = re.sub(r"(?:CMD-|TCK)\d+", "[ORDER_ID_1]", text)
        text = re.sub(r"0\d(?: \d\d){4}", "[PHONE_1]", text)
        for value, token in tokens.items():
            text = text.replace(value, token)
        out.append((speaker, text))
    return out


# ----------------------------------------------------------------------------------- corpus

CALL_TYPE_WEIGHTS = (0.24, 0.19, 0.19, 0.19, 0.19)
STYLE_WEIGHTS = {"written": 0.35, "asr_mono": 0.3, "asr_dialogue": 0.35}
NOISE_LEVELS = (0.0, 0.03, 0.06, 0.1, 0.15)


def make_labelled_turns(rng: random.Random) -> tuple[list[Turn], str, int, int, str]:
    """One random call before it is written down: ``(turns, language code, call_type, behavior,
    sentiment)``."""
    lang = ENGLISH if rng.random() < 0.12 else FRENCH
    call_type = rng.choices(range(5), weights=CALL_TYPE_WEIGHTS)[0]
    if call_type == 0:
        turns, behavior = _no_conversation(rng, lang)
        sentiment = NEUTRAL
    else:
        behavior = int(rng.random() >= 0.35)
        turns, sentiment = _conversation(rng, lang, call_type, bool(behavior))
    return turns, lang.code, call_type, behavior, sentiment


def make_call(rng: random.Random) -> LabelledCall:
    """One random labelled call."""
    turns, _, call_type, behavior, sentiment = make_labelled_turns(rng)
    if rng.random() < 0.5:
        turns = _redact(turns)
    style = rng.choices(list(STYLE_WEIGHTS), weights=list(STYLE_WEIGHTS.values()))[0]
    level = 0.0 if style == "written" else rng.choice(NOISE_LEVELS)
    return LabelledCall(render(turns, style, rng, level), call_type, behavior, sentiment)


def generate_corpus(n: int, seed: int = SEED) -> list[LabelledCall]:
    """``n`` labelled calls, the same for the same seed."""
    rng = random.Random(seed)
    return [make_call(rng) for _ in range(n)]
