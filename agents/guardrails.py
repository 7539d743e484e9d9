"""Guardrails: text from customers or documents is data, never instructions; the prompt never leaks.

Three layers: sentences that address the assistant ("ignore previous instructions…") are never
quoted from a document; prompts fence passages and messages off as data; and a reply that would
reveal the system prompt (its canary) is blocked and handed to a human instead.
"""

from __future__ import annotations

import re
import secrets

from knowledge.text import normalize

_INJECTION = re.compile(
    r"\b("
    r"ignore (all |any |the |your )?(previous|prior|above|earlier|preceding) (instructions|rules|prompts?)"
    r"|disregard (all |any |the |your )?(previous|prior|above|earlier)?\s*(instructions|rules)"
    r"|forget (all |your )?(previous |prior )?instructions"
    r"|(reveal|show|print|repeat|tell me) (me )?(your|the) (system )?(prompt|instructions)"
    r"|system prompt|you are now|new instructions|developer mode|jailbreak"
    r"|ignore (as|todas as) (instrucoes|regras)( anteriores)?|esqueca (as|todas as|suas) instrucoes"
    r"|(mostre|revele|repita) (o seu|seu|o) prompt|voce agora e|novas instrucoes"
    r"|ignora (las|todas las) instrucciones|olvida (las|tus) instrucciones|muestra (tu|el) prompt"
    r"|ahora eres|nuevas instrucciones"
    r")\b"
)
_ROLE_MARKERS = re.compile(
    r"<\|?/?(im_start|im_end|system|assistant|user)\|?>|^\s*#{2,}\s*system", re.I | re.M
)


def looks_like_injection(text: str) -> bool:
    """Words that try to steer the assistant rather than say something about the business."""
    return bool(_INJECTION.search(normalize(text)) or _ROLE_MARKERS.search(text))


def fence(text: str) -> str:
    """Neutralise markup a passage or message could use to close its fence or fake a role."""
    return _ROLE_MARKERS.sub("[removed]", text).replace("<", "‹").replace(">", "›")


def new_canary() -> str:
    return f"ATD-{secrets.token_hex(6)}"


def leaks_prompt(reply: str, canary: str, system_prompt: str) -> bool:
    """The reply quotes the canary or a long run of the system prompt's own words."""
    if canary in reply:
        return True
    prompt_lines = [line.strip() for line in system_prompt.splitlines() if len(line.strip()) > 40]
    return any(line in reply for line in prompt_lines)
