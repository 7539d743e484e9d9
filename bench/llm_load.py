"""How long customers wait for the bot when many write at once and the LLM is slow.

    python bench/llm_load.py [--customers 200] [--llm-latency 2] [--workers M] [--json]

A contact centre's LLM takes seconds per answer; a runtime must let hundreds of turns wait on it at
once. This starts an OpenAI-compatible server on 127.0.0.1 that answers every call after
``--llm-latency`` seconds (quoting the first passage it was given, cited, so the guardrails let the
answer through), then a real ``atende demo`` (embedded PostgreSQL, the offline embedding model) whose
demo tenant uses that server: with ``--workers 0`` one process running its jobs in-process, with
``--workers M`` a Redis of its own, the demo as the web process (it only enqueues) and M
``atende worker`` processes (``bench/cluster.py``). After a short warm-up, ``--customers`` web chat
customers POST one question each at the same moment; the admin's inbox socket shows when each gets
the bot's reply. It prints p50, p95 and max time to reply (from the POST's start), replies a second,
and replies lost (none within ``--timeout``) or duplicated (two for one message). With ``--json`` the
last line is the report as JSON; the exit code is 1 when any reply was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets
from chat_customers import WebChatCustomers
from cluster import running
from inbox_latency import TENANT
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes._loopback import JSONObject
from tests.fakes.llm_servers import FakeDelay, FakeOpenAI, text_of

ADMIN = "admin@demo.atende.dev"
QUESTIONS = [
    "Vocês parcelam no cartão?",
    "Qual o prazo para devolver um produto?",
    "Do you ship plants to Portugal?",
    "How do I reset my password?",
]
PASSAGE = re.compile(r'<passage number="1"[^>]*>\n(.+?)\n</passage>', re.DOTALL)

err = Console(stderr=True)


def quoting_answer(latency: float) -> Any:
    """The slow LLM: after ``latency`` seconds, the first sentence of passage 1, cited."""

    def respond(body: JSONObject) -> Any:
        prompt = "\n".join(text_of(m.get("content")) for m in body.get("messages", []))
        found = PASSAGE.search(prompt)
        sentence = re.split(r"(?<=[.!?])\s", found.group(1).strip())[0] if found else "NO_ANSWER"
        return FakeDelay(latency, then=f"{sentence} [1]")

    return respond


async def _listen(
    url: str, token: str, seen: dict[str, list[tuple[str, float]]], ready: asyncio.Event
) -> None:
    """Every message the admin's inbox shows, by conversation: (author and marker, when)."""
    ws_url = url.replace("http://", "ws://") + f"/api/v1/inbox/events?token={token}"
    async with websockets.connect(ws_url, max_size=None, ping_interval=None) as socket_:
        ready.set()
        async for raw in socket_:
            event = json.loads(raw)
            message = event.get("message")
            if event.get("type") == "message.created" and isinstance(message, dict):
                seen.setdefault(str(message["conversation_id"]), []).append(
                    (f"{message['author']}:{message.get('text', '')}", time.perf_counter())
                )


def _ms(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)) * 1000) if values else None


async def measure(url: str, data_dir: Path, llm: FakeOpenAI, args: argparse.Namespace) -> dict[str, Any]:
    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    limits = httpx.Limits(max_connections=args.customers + 10)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=args.timeout) as client:
        login = await client.post("/api/v1/auth/login", json={"email": ADMIN, "password": credentials[ADMIN]})
        login.raise_for_status()
        token = login.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        primary = {
            "provider": "openai",
            "model": "slow-fake",
            "base_url": llm.base_url,
            "api_key": "sk-bench",
        }
        saved = await client.put("/api/v1/admin/llm", json={"primary": primary}, headers=headers)
        saved.raise_for_status()
        seen: dict[str, list[tuple[str, float]]] = {}
        ready = asyncio.Event()
        listener = asyncio.create_task(_listen(url, token, seen, ready))
        await asyncio.wait_for(ready.wait(), 30)
        await asyncio.sleep(1)  # the socket's subscription settles just after it is accepted

        run = uuid.uuid4().hex[:8]
        customers = WebChatCustomers(client, TENANT)

        async def ask(key: str, text: str) -> tuple[str, float]:
            started = time.perf_counter()
            response = await customers.post("", f"load-{run}-{key}", f"{text} #{run}:{key}#")
            response.raise_for_status()
            return key, started

        def conversation_of(key: str) -> str | None:
            marker = f"#{run}:{key}#"
            return next((c for c, said in seen.items() if any(marker in what for what, _ in said)), None)

        def bot_replies(conversation: str | None) -> list[float]:
            return [when for what, when in seen.get(conversation or "", []) if what.startswith("bot:")]

        err.print("warming up…")
        warm = [await ask(f"w{i}", QUESTIONS[i % len(QUESTIONS)]) for i in range(2)]
        deadline = time.perf_counter() + 300
        while not all(bot_replies(conversation_of(key)) for key, _ in warm):
            if time.perf_counter() > deadline:
                raise RuntimeError("warm-up: no reply within 300 s")
            await asyncio.sleep(0.1)
        calls_before = len(llm.requests)

        err.print(f"{args.customers} customers write at once; the LLM answers after {args.llm_latency:g} s…")
        started = time.perf_counter()
        asked = await asyncio.gather(
            *(ask(f"c{i}", QUESTIONS[i % len(QUESTIONS)]) for i in range(args.customers))
        )
        deadline = time.perf_counter() + args.timeout
        while not all(bot_replies(conversation_of(key)) for key, _ in asked):
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(args.quiet)  # a duplicate would come just after the first reply
        ended = max((max(bot_replies(conversation_of(k)), default=0.0) for k, _ in asked), default=started)
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
            await listener

    waits = [
        bot_replies(conversation_of(key))[0] - at for key, at in asked if bot_replies(conversation_of(key))
    ]
    counts = Counter(len(bot_replies(conversation_of(key))) for key, _ in asked)
    return {
        "customers": args.customers,
        "llm_latency_s": args.llm_latency,
        "workers": args.workers,
        "p50_s": (_ms(waits, 50) or 0) / 1000,
        "p95_s": (_ms(waits, 95) or 0) / 1000,
        "max_s": (_ms(waits, 100) or 0) / 1000,
        "replies_per_s": round(len(waits) / (ended - started), 2) if ended > started else None,
        "answered": len(waits),
        "lost": counts.get(0, 0),
        "duplicated": sum(n for replies, n in counts.items() if replies > 1),
        "llm_calls": len(llm.requests) - calls_before,
    }


def print_table(report: dict[str, Any]) -> None:
    where = f"{report['workers']} worker(s)" if report["workers"] else "one process"
    table = Table(
        title=f"{report['customers']} customers at once, LLM {report['llm_latency_s']:g} s, {where}"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name in ("p50_s", "p95_s", "max_s", "replies_per_s", "answered", "lost", "duplicated", "llm_calls"):
        table.add_row(name, str(report[name]))
    Console().print(table)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--llm-latency", type=float, default=2.0, help="seconds the LLM takes per call")
    parser.add_argument("--timeout", type=float, default=180, help="how long to wait for every reply")
    parser.add_argument("--quiet", type=float, default=3, help="seconds to watch for duplicates at the end")
    parser.add_argument("--workers", type=int, default=0, help="worker processes on Redis (0: one process)")
    parser.add_argument("--startup-timeout", type=float, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.customers < 1 or args.llm_latency < 0 or args.workers < 0:
        parser.error("--customers must be at least 1, --llm-latency and --workers not negative")

    data_dir = Path(tempfile.mkdtemp(prefix="atende-llm-load-"))
    keep = False
    with FakeOpenAI(quoting_answer(args.llm_latency)) as llm:
        try:
            with running(data_dir, workers=args.workers, startup_timeout=args.startup_timeout) as cluster:
                report = asyncio.run(measure(cluster.url, data_dir, llm, args))
        except BaseException:
            keep = True
            err.print(f"[red]failed[/red]; the processes' logs are in {data_dir}")
            raise
        finally:
            if not keep:
                shutil.rmtree(data_dir, ignore_errors=True)
    print_table(report)
    if args.json:
        print(json.dumps(report))
    return 0 if report["lost"] == report["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
