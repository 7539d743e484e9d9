"""Grouping unanswered questions: the same need in other words is one gap; another product is another."""

from __future__ import annotations

from conversations.services import Services
from knowledge.gaps import group_gaps


async def test_questions_group_by_what_they_ask_for(services: Services) -> None:
    gaps = await group_gaps(
        [
            "Vocês vendem bicicletas?",
            "vocês vendem bicicleta elétrica?",
            "Vocês vendem celulares?",
            "Vocês vendem bicicletas infantis?",
            "Do you sell bicycles?",
            "Qual o telefone do CEO?",
        ],
        services.embedder,
    )
    assert gaps[0].count == 3
    assert "biciclet" in gaps[0].question.lower()
    assert all("celulares" not in example for example in gaps[0].examples)
    assert sum(g.count for g in gaps) == 6
