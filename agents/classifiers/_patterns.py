"""Word lists and patterns behind the rule-based classifiers, all matched without accents."""

from __future__ import annotations

import re


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


# Asking for a person. Strong words need nothing else; weak ones need a verb of talking.
HUMAN_STRONG = _rx(
    r"atendentes?", r"humanos?", r"operador(?:a|es)?", r"human(?:s|o)?", r"representative", r"operator",
    r"real person", r"live (?:agent|person|chat|support)", r"pessoa (?:real|de verdade)",
    r"persona (?:real|de verdad)", r"asesor(?:a|es)?", r"ser humano", r"alguem de verdade",
    r"customer (?:service|support) (?:agent|rep)", r"atencion al cliente",
)
HUMAN_WEAK = _rx(
    r"agentes?", r"agents?", r"pessoas?", r"person", r"someone", r"somebody", r"alguem", r"alguien",
    r"personas?", r"gerentes?", r"manager", r"supervisor(?:a)?", r"representante", r"responsavel",
    r"funcionarios?", r"staff", r"people", r"gente",
)
TALK_VERBS = _rx(
    r"falar", r"fala", r"conversar", r"chamar", r"chama", r"transfer\w*", r"passa\w*", r"talk", r"speak",
    r"chat", r"connect", r"contact", r"reach", r"hablar", r"comunicar\w*", r"contactar", r"quero", r"want",
    r"quiero", r"need", r"preciso", r"necesito", r"get me", r"me (?:coloca|passa|transfere)",
)

GREETING = _rx(
    r"oi+", r"ola", r"bom dia", r"boa tarde", r"boa noite", r"hello", r"hi", r"hey", r"good (?:morning|afternoon|evening)",
    r"hola", r"buenos dias", r"buenas tardes", r"buenas noches", r"e ai", r"opa",
)
THANKS = _rx(
    r"obrigad[oa]s?", r"valeu", r"agradeco", r"thanks?", r"thank you", r"cheers", r"gracias", r"muito obrigad[oa]",
)
CANCEL = _rx(
    r"cancel\w*", r"desistir", r"encerrar (?:minha )?conta", r"close my account", r"darme de baja", r"dar de baja",
    r"unsubscribe",
)
BILLING = _rx(
    r"cobran\w*", r"cobrad\w*", r"fatura\w*", r"boleto", r"pagamento", r"pagar", r"reembolso", r"estorno",
    r"refund\w*", r"charged?", r"billing", r"invoice", r"payment", r"factura", r"pago", r"cobro", r"pix",
)
ORDER_STATUS = _rx(
    r"rastre\w*", r"entrega\w*", r"pedido", r"encomenda", r"chegou", r"chega", r"track\w*", r"delivery",
    r"shipping", r"shipped", r"my order", r"where is", r"envio", r"llega",
)
TECHNICAL = _rx(
    r"erro", r"error", r"bug", r"nao funciona", r"not working", r"doesn t work", r"travou", r"crash\w*",
    r"senha", r"password", r"login", r"no funciona", r"falha",
)
COMPLAINT = _rx(
    r"reclama\w*", r"complain\w*", r"absurdo", r"pessimo", r"horrivel", r"terrible", r"awful", r"worst",
    r"descaso", r"procon", r"reclame aqui", r"inaceitavel", r"unacceptable", r"queja", r"pesimo",
)

# Sentiment lexicon: word → weight in [-3, 3].
SENTIMENT_LEXICON: dict[str, float] = {
    # Portuguese
    "otimo": 2, "otima": 2, "excelente": 3, "maravilhoso": 3, "adorei": 3, "amei": 3, "perfeito": 3, "bom": 1,
    "boa": 1, "gostei": 2, "rapido": 1, "obrigado": 1, "obrigada": 1, "parabens": 2, "satisfeito": 2,
    "ruim": -2, "pessimo": -3, "pessima": -3, "horrivel": -3, "terrivel": -3, "lixo": -3, "odeio": -3,
    "odiei": -3, "absurdo": -3, "vergonha": -3, "raiva": -3, "irritado": -2, "irritada": -2, "decepcionado": -2,
    "decepcionada": -2, "insatisfeito": -2, "insatisfeita": -2, "atrasado": -1, "atrasou": -1, "quebrado": -2,
    "quebrou": -2, "defeito": -1, "problema": -1, "demora": -1, "enganado": -3, "roubo": -3, "golpe": -3,
    "palhacada": -3, "ridiculo": -3, "inaceitavel": -3, "nunca": -1, "descaso": -3, "merda": -3, "porcaria": -3,
    "furioso": -3, "furiosa": -3, "cansado": -1, "frustrado": -2, "frustrada": -2, "procon": -2,
    # English
    "great": 2, "excellent": 3, "amazing": 3, "love": 3, "loved": 3, "perfect": 3, "good": 1, "happy": 2,
    "thanks": 1, "awesome": 3, "bad": -2, "terrible": -3, "awful": -3, "horrible": -3, "worst": -3,
    "hate": -3, "angry": -3, "furious": -3, "ridiculous": -3, "unacceptable": -3, "disappointed": -2,
    "broken": -2, "scam": -3, "useless": -3, "annoyed": -2, "frustrated": -2, "late": -1, "never": -1,
    "stupid": -3, "garbage": -3, "crap": -3, "fraud": -3,
    # Spanish
    "genial": 2, "gracias": 1, "malo": -2, "mala": -2, "pesimo": -3, "horrible": -3,
    "enojado": -3, "enfadado": -3, "fatal": -3, "estafa": -3, "basura": -3, "molesto": -2,
}
NEGATIONS = frozenset({"nao", "not", "no", "nunca", "never", "nem", "sem", "dont", "didnt", "isnt"})
