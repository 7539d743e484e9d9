"""High-precision rules over the intent head: an explicit request for a person.

A customer who asks for a human must reach one, however phrased; the head learns most phrasings,
this rule makes the explicit ones certain. A person word ("atendente", "human", "agente") counts
when a verb of asking or talking comes with it, or when the message is little more than that word;
"o atendente foi grosso" tells of a person, it does not ask for one. Matched without accents.
"""

from __future__ import annotations

import re

from knowledge.text import normalize, words


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


STAFF = _rx(
    r"atendentes?",
    r"humanos?",
    r"humanas?",
    r"humans?",
    r"operador(?:a|as|es)?",
    r"operators?",
    r"representatives?",
    r"reps?",
    r"agentes?",
    r"agents?",
    r"asesor(?:a|as|es)?",
    r"gerentes?",
    r"managers?",
    r"supervisor(?:a|es)?",
)
"""Words for the company's people: asking for one is enough."""
ANYONE = _rx(
    r"pessoas?",
    r"persons?",
    r"personas?",
    r"someone",
    r"somebody",
    r"anyone",
    r"alguem",
    r"alguien",
    r"responsavel",
    r"funcionari[oa]s?",
    r"staff",
    r"people",
)
"""Words for anybody: they need a verb of talking ("I need gifts for 5 people" asks for no one)."""
TALKING = (
    r"falar",
    r"fala",
    r"conversar",
    r"chamar?",
    r"transfer\w*",
    r"passa(?:r)?",
    r"talk",
    r"speak",
    r"chat",
    r"connect",
    r"contact",
    r"reach",
    r"hablar",
    r"comunicar\w*",
    r"contactar",
    r"get me",
    r"me (?:coloca|passa|transfere|pasa|pone|comunica)",
)
TALK = _rx(*TALKING)
ASKING = _rx(
    *TALKING,
    r"quero",
    r"queria",
    r"gostaria",
    r"want",
    r"would like",
    r"quiero",
    r"quisiera",
    r"need",
    r"preciso",
    r"necesito",
    r"tem (?:algum|alguma|um|uma)",
    r"is there",
    r"hay (?:algun|alguna|un|una)",
    r"cade",
    r"disponivel",
    r"disponible",
    r"available",
    r"atende",
    r"atiende",
)
UNMISTAKABLE = _rx(
    r"real person",
    r"real human",
    r"live (?:agent|person|chat|support|operator)",
    r"pessoa (?:real|de verdade)",
    r"persona (?:real|de verdad)",
    r"alguem de verdade",
    r"alguien de verdad",
    r"ser humano",
    r"atendimento humano",
    r"atencion humana",
)
SHORT_MESSAGE_WORDS = 4


def asks_for_human(text: str) -> bool:
    """Asking for a person, in Portuguese, English or Spanish."""
    plain = normalize(text)
    if UNMISTAKABLE.search(plain):
        return True
    if STAFF.search(plain):
        return bool(ASKING.search(plain)) or len(words(plain)) <= SHORT_MESSAGE_WORDS
    return bool(ANYONE.search(plain) and TALK.search(plain))
