"""The sentiment lexicon (Portuguese, English, Spanish): intensity that a few examples cannot teach.

Words are matched without accents and weigh from -3 (insults, fury) to 3 (delight); words that only
describe a problem ("quebrado", "late") weigh little, since a plain report of a fault is not anger.
The score feeds the sentiment head as one feature, scales how far the sentiment score goes, and for
very angry messages (strong words, shouting, exclamation marks) sets its floor.
"""

from __future__ import annotations

from knowledge.text import normalize, words


def _weights(weight: float, listing: str) -> dict[str, float]:
    return dict.fromkeys(listing.split(), weight)


SENTIMENT_LEXICON: dict[str, float] = {
    # Portuguese
    **_weights(3, "excelente maravilhoso maravilhosa adorei amei perfeito perfeita sensacional incrivel"),
    **_weights(2, "otimo otima gostei parabens satisfeito satisfeita recomendo lindo linda top show"),
    **_weights(1, "bom boa rapido rapida obrigado obrigada certinho tranquilo resolvido"),
    **_weights(-0.5, "atrasado atrasada atrasou defeito problema demora demorou quebrado quebrada quebrou"),
    **_weights(-1, "nunca cansado cansada"),
    **_weights(
        -2,
        "ruim irritado irritada decepcionado decepcionada insatisfeito insatisfeita frustrado frustrada "
        "procon decepcao descontente chateado chateada enrolacao",
    ),
    **_weights(
        -3,
        "pessimo pessima horrivel terrivel lixo odeio odiei absurdo vergonha raiva enganado enganada roubo "
        "golpe palhacada ridiculo ridicula inaceitavel descaso merda porcaria furioso furiosa bosta "
        "lamentavel vergonhoso ladroes ladrao",
    ),
    # English
    **_weights(3, "excellent amazing love loved perfect awesome fantastic wonderful"),
    **_weights(2, "great happy recommend pleased glad"),
    **_weights(1, "good thanks fast quick nice"),
    **_weights(-0.5, "late delay delayed broken"),
    **_weights(-1, "never"),
    **_weights(-2, "bad disappointed annoyed frustrated upset unhappy poor"),
    **_weights(
        -3,
        "terrible awful horrible worst hate angry furious ridiculous unacceptable scam useless stupid "
        "garbage crap fraud disgusting pathetic shameful",
    ),
    # Spanish
    **_weights(3, "excelente encanto maravilloso perfecto increible"),
    **_weights(2, "genial contento contenta recomiendo"),
    **_weights(1, "gracias rapido bueno buena"),
    **_weights(-0.5, "retraso atrasado roto rota"),
    **_weights(-2, "malo mala molesto molesta decepcionado decepcionada enojada"),
    **_weights(-3, "pesimo pesima enojado enfadado fatal estafa basura horrible verguenza ladrones"),
}
NEGATIONS = frozenset("nao not no nunca never nem sem dont didnt isnt wasnt doesnt ni tampoco".split())


def lexicon_score(text: str) -> float:
    """Lexicon score with negation, shouting and exclamation marks, squashed into [-1, 1]."""
    tokens = words(normalize(text).replace("'", ""))
    total = 0.0
    for i, token in enumerate(tokens):
        weight = SENTIMENT_LEXICON.get(token, 0.0)
        if weight and any(t in NEGATIONS for t in tokens[max(0, i - 2) : i]):
            weight = -weight * 0.6
        total += weight
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    if total < 0:
        total *= 1.0 + 0.25 * min(text.count("!"), 4) + (0.5 if shouting else 0.0)
    return max(-1.0, min(1.0, total / 4.0))
