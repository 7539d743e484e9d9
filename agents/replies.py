"""Fixed texts the bot says in the customer's language (pt, en, es)."""

from __future__ import annotations

import datetime

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
    "goodbye": {
        "pt": "Até logo! Foi um prazer ajudar.",
        "en": "Goodbye! It was a pleasure to help.",
        "es": "¡Hasta luego! Fue un placer ayudarte.",
    },
    "out_of_scope": {
        "pt": "Desculpe, só consigo ajudar com assuntos da {company}. Posso ajudar com algo sobre isso?",
        "en": "Sorry, I can only help with questions about {company}. Is there anything about that I can do?",
        "es": "Lo siento, solo puedo ayudar con temas de {company}. ¿Puedo ayudarte con algo de eso?",
    },
    "media_too_large": {
        "pt": "Não consegui receber seu arquivo: ele passa de {limit}. Pode enviar um menor ou descrever em texto?",
        "en": "I couldn't receive your file: it is over {limit}. Could you send a smaller one or describe it in text?",
        "es": "No pude recibir tu archivo: supera {limit}. ¿Puedes enviar uno más pequeño o describirlo por texto?",
    },
    "media_not_accepted": {
        "pt": "Não consigo receber esse tipo de arquivo. Pode enviar uma foto, um PDF ou descrever em texto?",
        "en": "I can't receive that type of file. Could you send a photo, a PDF or describe it in text?",
        "es": "No puedo recibir ese tipo de archivo. ¿Puedes enviar una foto, un PDF o describirlo por texto?",
    },
    "csat_question": {
        "pt": "Seu atendimento foi encerrado. Como você avalia o atendimento? Responda com uma nota de 1 a 5.",
        "en": "Your ticket is closed. How would you rate our service? Reply with a score from 1 to 5.",
        "es": "Tu atención fue cerrada. ¿Cómo calificas la atención? Responde con una nota del 1 al 5.",
    },
    "csat_thanks": {
        "pt": "Obrigado pela avaliação!",
        "en": "Thank you for your rating!",
        "es": "¡Gracias por tu calificación!",
    },
    "after_hours": {
        "pt": "Nossa equipe está fora do horário de atendimento agora e volta {when}. Sua conversa já está na fila.",
        "en": "Our team is offline right now and will be back {when}. Your conversation is already in the queue.",
        "es": "Nuestro equipo está fuera de horario ahora y vuelve {when}. Tu conversación ya está en la cola.",
    },
}

_WEEKDAYS = {
    "pt": (
        "segunda-feira",
        "terça-feira",
        "quarta-feira",
        "quinta-feira",
        "sexta-feira",
        "sábado",
        "domingo",
    ),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_AT = {"pt": "{day} às {time}", "en": "on {day} at {time}", "es": "el {day} a las {time}"}
_SOON = {"pt": "assim que possível", "en": "as soon as possible", "es": "lo antes posible"}


def when(moment: datetime.datetime | None, language: str) -> str:
    """'segunda-feira às 08:00' for the next opening, in the customer's language."""
    language = language if language in _AT else "pt"
    if moment is None:
        return _SOON[language]
    day = _WEEKDAYS[language][moment.weekday()]
    return _AT[language].format(day=day, time=moment.strftime("%H:%M"))


def say(key: str, language: str, **values: str) -> str:
    texts = _TEXTS[key]
    return texts.get(language, texts["pt"]).format(**values)
