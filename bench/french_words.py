"""Real French words and names for the benchmark corpus (`corpus_fr.py`).

Real words carry what makes French text hard for a matcher: accents, elisions, hyphenated
compounds, acronyms in capitals and multi-word names. Pseudo-words generated from syllables
(`corpus_fr.py`) fill out a vocabulary of a few thousand words around them.
"""

from __future__ import annotations


def words(text: str) -> tuple[str, ...]:
    """The words of `text`, split on whitespace: word lists stay readable as prose."""
    return tuple(text.split())


# Function words: most of any French sentence. Listed apart so the generator can weigh them.
FUNCTION_WORDS = words(
    """
    le la les de des du un une et à en dans pour par sur avec que qui ne pas plus se son sa ses
    au aux ce cette ces il elle ils elles nous vous on mais ou donc ni car selon après avant
    depuis pendant contre entre sous vers chez sans leur leurs dont où tout tous toute toutes
    même autre autres comme si est sont a ont été être avoir fait faire dit peut doit va
    """
)

# Common content words, with their accents; verbs mostly in the forms news prose uses.
COMMON_WORDS = words(
    """
    gouvernement ministre président présidente élection élections économie sécurité défense
    accord réunion frontière frontières armée crise guerre paix négociations sommet européen
    européenne français française étrangère étrangères aérienne militaire militaires député
    députés réforme retraites énergie électricité prix hausse baisse inflation marché
    entreprise entreprises société salariés grève syndicats manifestation manifestants police
    justice tribunal enquête procès victime victimes attentat incendie inondations climat
    année semaine jour mois heure heures ville pays région commune maire habitants école
    élèves hôpital santé médecin médecins vaccin épidémie budget dette impôts déficit
    croissance chômage emploi travail loi projet texte vote débat opposition majorité parti
    gauche droite candidat candidate campagne sondage résultats premier première dernier
    dernière nouveau nouvelle grand grande petit petite important importante difficile
    possible nécessaire déjà toujours encore aussi très trop peu beaucoup notamment
    également ainsi cependant toutefois alors hier demain lundi mardi mercredi jeudi
    vendredi samedi dimanche janvier février mars avril mai juin juillet août septembre
    octobre novembre décembre déclaré annoncé affirmé estimé expliqué souligné rappelé
    indiqué précisé condamné demandé exigé refusé accepté signé adopté rejeté publié lancé
    ouvert fermé décidé prévu attendu porte-parole cessez-le-feu week-end peut-être
    c’est-à-dire après-midi vis-à-vis aide aides soutien sanctions sanction livraisons armes
    missiles drones troupes soldats civils blessés morts bilan offensive attaque attaques
    frappes frappe bombardements réfugiés exil humanitaire convoi ambassade ambassadeur
    diplomatie diplomate diplomates dialogue rencontre visite déplacement conférence
    presse journalistes journal médias réseaux information informations rapport experts
    analyse question questions réponse décision décisions mesure mesures plan stratégie
    objectif objectifs situation tension tensions menace menaces risque risques alerte
    exclusion zone zones territoire territoires population populations État États
    pouvoir pouvoirs autorités responsable responsables dirigeant dirigeants chef chefs
    conseil commission comité agence organisation institution institutions centre service
    services public publique privé privée national nationale international internationale
    mondial mondiale local locale social sociale politique politiques économique
    économiques financier financière agricole agriculteurs industrie usine usines emplois
    logement transports train trains avion avions routes route autoroute carburant gaz
    pétrole nucléaire centrale éolien solaire électrique véhicule véhicules voiture
    """
)

# Named entities, roughly from most to least frequent in French international news. Acronyms
# are in capitals (docs/design.md §4 rule 7), names keep their accents and hyphens.
ENTITIES: tuple[str, ...] = (
    "Ukraine", "Russie", "France", "Emmanuel Macron", "OTAN", "Union européenne", "Kyiv",
    "Moscou", "Vladimir Poutine", "États-Unis", "Paris", "Volodymyr Zelensky", "Bruxelles",
    "Kremlin", "ONU", "Allemagne", "Joe Biden", "Gaza", "Israël", "Chine", "UE",
    "Washington", "Berlin", "Londres", "Commission européenne", "Conseil de sécurité",
    "Nations unies", "Assemblée nationale", "Sénat", "Élysée", "Matignon", "Quai d’Orsay",
    "Bercy", "Olaf Scholz", "Ursula von der Leyen", "Jens Stoltenberg", "Dmitri Peskov",
    "Sergueï Lavrov", "Antony Blinken", "Xi Jinping", "Recep Tayyip Erdoğan",
    "Benyamin Netanyahou", "Giorgia Meloni", "Pedro Sánchez", "Jean-Luc Mélenchon",
    "Marine Le Pen", "Gabriel Attal", "Élisabeth Borne", "Bruno Le Maire", "Gérald Darmanin",
    "Édouard Philippe", "Anne Hidalgo", "Valérie Pécresse", "Christine Lagarde",
    "António Guterres", "Pékin", "Ankara", "Téhéran", "Jérusalem", "Beyrouth", "Damas",
    "Bagdad", "Kharkiv", "Odessa", "Marioupol", "Crimée", "Donbass", "Italie", "Espagne",
    "Pologne", "Royaume-Uni", "Iran", "Liban", "Syrie", "Turquie", "Côte d’Ivoire",
    "Sénégal", "Mali", "Niger", "Burkina Faso", "Algérie", "Maroc", "Tunisie", "Québec",
    "Île-de-France", "Marseille", "Lyon", "Toulouse", "Bordeaux", "Lille", "Nantes",
    "Strasbourg", "Hauts-de-France", "Bretagne", "Normandie", "AFP", "Reuters", "FMI", "BCE",
    "SNCF", "Gazprom", "TotalEnergies", "Airbus", "Renault", "Pentagone", "Maison Blanche",
)  # fmt: skip

# Real multi-word expressions of news prose, planted now and then so phrase terms can hit.
PHRASES: tuple[str, ...] = (
    "zone d’exclusion aérienne", "réforme des retraites", "prix de l’énergie",
    "conseil des ministres", "projet de loi", "état d’urgence", "droits de l’homme",
    "crimes de guerre", "aide humanitaire", "pouvoir d’achat", "taux d’intérêt",
    "transition énergétique", "sommet de l’OTAN", "garde à vue", "mise en examen",
    "motion de censure", "Organisation du traité de l’Atlantique nord", "Alliance atlantique",
    "accord de paix", "cessez-le-feu immédiat", "livraisons d’armes", "forces armées",
    "ministre des Affaires étrangères", "ministre de l’Intérieur", "chef de l’État",
    "Premier ministre", "porte-parole du gouvernement", "élection présidentielle",
    "zone euro", "dette publique", "fonction publique", "contre-offensive ukrainienne",
)  # fmt: skip

# Other spellings a watchlist would list for an entity (docs/design.md §3 `aliases`).
ALIASES: dict[str, tuple[str, ...]] = {
    "OTAN": ("NATO", "Alliance atlantique", "Organisation du traité de l'Atlantique nord"),
    "ONU": ("Nations unies", "Organisation des Nations unies"),
    "UE": ("Union européenne",),
    "Kyiv": ("Kiev",),
    "Vladimir Poutine": ("Poutine",),
    "Volodymyr Zelensky": ("Zelensky", "Zelenski"),
    "Dmitri Peskov": ("Peskov",),
    "États-Unis": ("USA", "Etats Unis"),
    "Benyamin Netanyahou": ("Netanyahou", "Netanyahu"),
    "Recep Tayyip Erdoğan": ("Erdogan",),
    "Commission européenne": ("Bruxelles",),
    "Élysée": ("palais de l'Élysée",),
}
