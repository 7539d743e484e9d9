"""Tell Portuguese, English and Spanish apart by their most common words."""

from __future__ import annotations

from knowledge.text import normalize, words

_MARKERS = {
    "pt": set(
        "o os a as um uma de do da dos das não nao é e em no na para pra com que você voce vocês voces meu minha "
        "quero falar atendente obrigado obrigada oi olá ola bom dia tudo como está esta isso qual quando onde "
        "posso preciso produto pedido minha seu sua ainda já ja muito estou tenho".split()
    ),
    "en": set(
        "the a an of to and is are i you my your it this that what how when where can could please want "
        "talk speak human agent hello hi thanks thank order password my do does not with for".split()
    ),
    "es": set(
        "el la los las un una de del y es en para con que usted mi mis quiero hablar agente gracias hola "
        "buenos días dias cómo como está donde cuándo puedo necesito pedido no por favor persona".split()
    ),
}


def detect_language(text: str, default: str = "pt") -> str:
    tokens = words(normalize(text))
    scores = {lang: sum(1 for t in tokens if t in markers) for lang, markers in _MARKERS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] > 0 else default


FTS_CONFIGS = {"pt": "portuguese", "en": "english", "es": "spanish"}
"""PostgreSQL text search configuration per language; anything else uses 'simple' (no stemming)."""


def fts_config(language: str | None) -> str:
    return FTS_CONFIGS.get(language or "", "simple")
