"""The inbox in English or Portuguese.

English text is the key, so a string missing from a catalog still reads. The language comes from
``?lang=`` (then kept in a cookie), else the cookie, else the browser's ``Accept-Language``.
The page hands its catalog to the JavaScript too, for what it writes itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

LANGUAGES = ("en", "pt")
COOKIE = "atende_lang"

PT: dict[str, str] = {
    # page
    "Atende inbox": "Caixa de entrada Atende",
    "E-mail": "E-mail",
    "Password": "Senha",
    "Log in": "Entrar",
    "Log out": "Sair",
    "Account": "Conta",
    "6-digit code": "Código de 6 dígitos",
    "Authentication code": "Código de autenticação",
    "Type the 6-digit code from your authenticator app, or a recovery code.": (
        "Digite o código de 6 dígitos do seu app autenticador, ou um código de recuperação."
    ),
    (
        "Your organisation requires two-factor authentication: scan this code with an authenticator app "
        "(or type the key {secret}), then type the 6-digit code it shows."
    ): (
        "Sua organização exige autenticação em dois fatores: leia este código com um app autenticador "
        "(ou digite a chave {secret}) e depois digite o código de 6 dígitos que ele mostrar."
    ),
    (
        "Two-factor authentication is on. Keep these recovery codes somewhere safe: each works once, "
        "and they are not shown again."
    ): (
        "A autenticação em dois fatores está ativa. Guarde estes códigos de recuperação em lugar seguro: "
        "cada um funciona uma vez, e eles não serão mostrados de novo."
    ),
    "Continue": "Continuar",
    "Login failed": "Falha no login",
    "Online": "Online",
    "Away": "Ausente",
    "Offline": "Offline",
    "online": "online",
    "away": "ausente",
    "offline": "offline",
    "Only online agents are given new tickets": "Só atendentes online recebem novos tickets",
    "KB": "Base",
    "Admin": "Admin",
    "Evals": "Avaliações",
    "Integrations": "Integrações",
    "Failed jobs": "Jobs com falha",
    "Pending": "Pendentes",
    "Open": "Abertos",
    "Closed": "Fechados",
    "Search contact, protocol or message…": "Buscar contato, protocolo ou mensagem…",
    "Accept": "Aceitar",
    "Transfer": "Transferir",
    "Back to bot": "Devolver ao bot",
    "Close": "Fechar",
    "Same queue": "Mesma fila",
    "Anyone in the queue": "Qualquer pessoa da fila",
    "Note for whoever takes it…": "Nota para quem assumir…",
    "Summarize": "Resumir",
    "Summarize the whole conversation": "Resumir a conversa inteira",
    "Pick a ticket on the left.": "Escolha um ticket à esquerda.",
    "Reply to the customer…": "Responda ao cliente…",
    "Write a note for the team…": "Escreva uma nota para a equipe…",
    "Only the team sees notes": "Só a equipe vê as notas",
    "Note": "Nota",
    "Attach a file": "Anexar arquivo",
    "Send": "Enviar",
    "Contact": "Contato",
    "Name": "Nome",
    "Phone": "Telefone",
    "Custom fields": "Campos personalizados",
    "field": "campo",
    "value": "valor",
    "Add field": "Adicionar campo",
    "Save": "Salvar",
    "Saved": "Salvo",
    "Channels": "Canais",
    "Past tickets": "Tickets anteriores",
    "Keyboard shortcuts": "Atalhos de teclado",
    "next ticket": "próximo ticket",
    "previous ticket": "ticket anterior",
    "reply": "responder",
    "internal note": "nota interna",
    "accept": "aceitar",
    "close the ticket": "fechar o ticket",
    "transfer": "transferir",
    "search": "buscar",
    "this help": "esta ajuda",
    "leave the text box": "sair da caixa de texto",
    "send": "enviar",
    "Language": "Idioma",
    # written by the script
    "No tickets here.": "Nenhum ticket aqui.",
    "SLA missed": "SLA estourado",
    "⏱ {minutes} min left": "⏱ faltam {minutes} min",
    "{status} · escalated because {reason}": "{status} · transferido porque {reason}",
    "pending": "pendente",
    "open": "aberto",
    "closed": "fechado",
    "Wants: ": "Quer: ",
    "Bot tried: ": "O bot tentou: ",
    "Escalated because: ": "Transferido porque: ",
    "Use": "Usar",
    "Ticket opened": "Ticket aberto",
    "Ticket reopened": "Ticket reaberto",
    "{actor} took the ticket": "{actor} assumiu o ticket",
    "Assigned to {agent} ({queue})": "Atribuído a {agent} ({queue})",
    "{actor} transferred it to {target}": "{actor} transferiu para {target}",
    "Note by {actor}: {text}": "Nota de {actor}: {text}",
    "{actor} handed the conversation back to the bot": "{actor} devolveu a conversa ao bot",
    "{actor} closed the ticket": "{actor} fechou o ticket",
    "Someone": "Alguém",
    "an agent": "um atendente",
    "another queue": "outra fila",
    "The customer is typing…": "O cliente está digitando…",
    "{name} is typing…": "{name} está digitando…",
    "Close this ticket? The customer will be asked to rate the service.": (
        "Fechar este ticket? O cliente será convidado a avaliar o atendimento."
    ),
    "Summarizing…": "Resumindo…",
    "by {source}": "por {source}",
    "rated {rating}/5": "nota {rating}/5",
    "(this conversation)": "(esta conversa)",
    "Take over": "Assumir",
    "Take the conversation from the bot: it stops answering": "Assumir a conversa: o bot para de responder",
    "not sent: {reason}": "não enviada: {reason}",
    "a human took the conversation first": "uma pessoa assumiu a conversa antes",
}
CATALOGS: dict[str, dict[str, str]] = {"en": {}, "pt": PT}

# Why the bot handed off, as agents.nodes words it: (pattern, replacement with $1-style groups).
REASONS_PT: list[tuple[str, str]] = [
    (r"^the customer asked to talk to a person$", "o cliente pediu para falar com uma pessoa"),
    (r"^intent (\S+) always goes to a human$", "a intenção $1 sempre vai para uma pessoa"),
    (r"^sentiment (\S+) is at or below (\S+)$", "sentimento $1, no limite de $2 ou abaixo"),
    (r"^churn risk (\S+) is at or above (\S+)(.*)$", "risco de churn $1, no limite de $2 ou acima$3"),
    (
        r"^(\d+) bot answers in a row without the customer saying it is solved$",
        "$1 respostas do bot seguidas sem o cliente dizer que resolveu",
    ),
    (r"^best passage relevance (\S+) is below (\S+)$", "a base não tem resposta (relevância $1, mínimo $2)"),
    (r"^the language model failed: (.*)$", "o modelo de linguagem falhou: $1"),
    (r"^the reply would reveal the instructions$", "a resposta revelaria as instruções do bot"),
    (r"^the model found no answer in the passages$", "o modelo não achou resposta na base"),
    (r"^answered from the business's phone$", "respondido pelo celular da empresa"),
    (r"^taken over by a person on the team$", "assumido por uma pessoa da equipe"),
]
REASONS: dict[str, list[tuple[str, str]]] = {"en": [], "pt": REASONS_PT}


def browser_language(accept_language: str | None, supported: Collection[str]) -> str | None:
    """The browser's most preferred of ``supported`` by ``Accept-Language`` (q-values, then order)."""
    preferred: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        code, _, params = part.partition(";")
        weight = params.strip().removeprefix("q=")
        try:
            quality = float(weight) if weight else 1.0
        except ValueError:
            quality = 0.0
        primary = code.strip().lower().split("-")[0]
        if primary in supported and quality > 0:
            preferred.append((-quality, position, primary))
    return min(preferred)[2] if preferred else None


def choose_language(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    return browser_language(accept_language, LANGUAGES) or "en"


def page_context(language: str) -> dict[str, Any]:
    """What a translated template needs: ``_`` for its text, the catalog for its script."""
    catalog = CATALOGS[language]
    translate: Callable[[str], str] = lambda text: catalog.get(text, text)  # noqa: E731
    return {"lang": language, "_": translate, "catalog": catalog, "reasons": REASONS[language]}
