"""Word lists of the rules: first names and surnames (Moroccan, French, English), the ambiguous ones,
name particles, titles, the deny-list of call words, place names, address keywords and IBAN lengths.
Folded (lower case, no accents) like the text they are compared with."""

from __future__ import annotations

from inference.text import fold_aligned


def _words(text: str) -> frozenset[str]:
    return frozenset(fold_aligned(w) for w in text.split())


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
_LEADING_PARTICLES = _PARTICLES | _words("le la de du des di del della der")
_STREET_PARTICLES = _words("de du des la le les l' d' aux sidi moulay lalla mly")
