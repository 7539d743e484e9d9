"""Fixed texts the bot says in the customer's language (pt, en, es)."""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "handoff": {
        "pt": "Vou transferir você para um atendente humano. Aguarde um momento, por favor.",
        "en": "I'm passing you to a human agent. Please wait a moment.",
        "es": "Te paso con un agente humano. Espera un momento, por favor.",
    },
    "protocol": {
        "pt": "Seu protocolo é {protocol}.",
        "en": "Your ticket number is {protocol}.",
        "es": "Tu número de protocolo es {protocol}.",
    },
    "greeting": {
        "pt": "Olá! Sou o assistente virtual. Como posso ajudar?",
        "en": "Hello! I'm the virtual assistant. How can I help?",
        "es": "¡Hola! Soy el asistente virtual. ¿En qué puedo ayudarte?",
    },
    "thanks": {
        "pt": "Por nada! Se precisar de mais alguma coisa, é só escrever.",
        "en": "You're welcome! If you need anything else, just write.",
        "es": "¡De nada! Si necesitas algo más, solo escribe.",
    },
}


def say(key: str, language: str, **values: str) -> str:
    texts = _TEXTS[key]
    return texts.get(language, texts["pt"]).format(**values)
