"""The process's Prometheus metrics: what turns, LLM calls and deliveries did, counted where they happen.

They live in prometheus-client's default registry, which ``GET /metrics`` (``web/metrics.py``) and a
worker's ``--metrics-port`` serve. Each process counts its own work: scrape every web process and
every worker, and sum. What is waiting in the database (unanswered messages, the outbox) is not
counted here but read at each scrape (``conversations/backlog.py``).

Labels stay few and bounded: no message, conversation or contact ids; tenants only where cost is
counted, since that is what an operator bills or caps by.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

TURNS = Counter(
    "atende_turns",
    "Customer messages a turn handled, by what came of them: replied, handed_off, agent_failed, "
    "suppressed, human, rated, or failed (the turn raised: its job is retried)",
    ["outcome"],
)
TURN_SECONDS = Histogram(
    "atende_turn_seconds",
    "From a turn taking a message to its reply handed on (LLM calls, storing, queueing the delivery)",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120),
)
LLM_CALL_SECONDS = Histogram(
    "atende_llm_call_seconds",
    "One call to an LLM provider (a stream: until its last piece), by provider, model, kind of call "
    "(complete, stream, json) and outcome (ok, failed, cancelled)",
    ["provider", "model", "call", "outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
)
LLM_TOKENS = Counter(
    "atende_llm_tokens",
    "LLM tokens spent, by tenant id and direction (input, output)",
    ["tenant", "direction"],
)
LLM_COST = Counter("atende_llm_cost_usd", "LLM cost in US dollars, by tenant id", ["tenant"])
DELIVERIES = Counter(
    "atende_deliveries",
    "Attempts to send an outbox job, by kind (message, webhook) and how they ended: sent, retrying, "
    "dead (given up: see atende jobs failed), or lost (another worker took over the job meanwhile)",
    ["kind", "status"],
)
