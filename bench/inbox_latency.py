"""How long a customer's web chat message takes to appear in a connected agent's inbox, under load.

    python bench/inbox_latency.py [--rate 50] [--seconds 20] [--sessions 50] [--workers M] [--json]

An agent watching the inbox must see a customer's message as it arrives, however busy the bot is
answering everyone else. This starts a real ``atende demo`` (embedded PostgreSQL, the offline
embedding model) on a free port with a fresh data dir: one process running the bot in-process, or
with ``--workers M`` the demo as the web process and M ``atende worker`` processes on a Redis of its
own (``bench/cluster.py``). It logs in as the demo admin, opens
the inbox WebSocket (``/api/v1/inbox/events``), and POSTs web chat messages on a fixed schedule
(``--rate`` a second for ``--seconds``, spread over ``--sessions`` customers, each text carrying a
unique marker). A message's latency runs from the moment its POST starts to the moment the inbox
socket delivers its ``message.created`` event (one clock, ``time.perf_counter``). The bot answers
every message meanwhile; its replies are counted too, as they are the load. With ``--json`` the last
line is ``{"p50_ms", "p95_ms", "sent", "received", ...}`` (``sent``: messages POSTed; ``received``:
those the inbox showed; latencies over the received ones); the exit code is 1 unless every message
was accepted (202) and reached the inbox.
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
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets
from chat_customers import WebChatCustomers
from cluster import running
from rich.console import Console
from rich.table import Table

TENANT = "demo"
# Who watches the inbox. Since web/inbox_events.py (AgentView), an agent's socket carries only the
# conversations of tickets they may see, so a customer talking to the bot (no ticket yet) never
# reaches an agent's inbox; supervisors and admins hear the whole tenant. The admin watches here.
LOGINS = {"admin": "admin@demo.atende.dev", "agent": "agent@demo.atende.dev"}
# Questions the demo knowledge base answers (or small talk): the bot stays in charge of every
# conversation, so each message costs a whole bot turn. A hand-off would put the conversation in
# human mode and spare the bot the rest of that customer's messages.
MESSAGES = [
    "Vocês parcelam no cartão?",
    "Qual o prazo para devolver um produto?",
    "Do you ship plants to Portugal?",
    "minha planta chegou murcha, e agora?",
    "oi",
    "How do I reset my password?",
]

err = Console(stderr=True)


@dataclass
class Inbox:
    """What the agent's inbox socket has shown, by marker, with the time each arrived."""

    run: str
    seen: dict[str, float] = field(default_factory=dict)
    replies: list[tuple[float, str | None]] = field(default_factory=list)
    """(when, the marker of the customer message it most likely answers)"""
    tickets: int = 0
    events: int = 0
    _waiting: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))

    def take(self, raw: str | bytes, now: float) -> None:
        event = json.loads(raw)
        self.events += 1
        if event.get("type") == "ticket.created":
            self.tickets += 1
        message = event.get("message")
        if event.get("type") != "message.created" or not isinstance(message, dict):
            return
        conversation = str(message.get("conversation_id"))
        if message.get("author") == "customer":
            found = re.search(rf"#{self.run}:(\w+)#", str(message.get("text", "")))
            if found and found.group(1) not in self.seen:
                self.seen[found.group(1)] = now
                self._waiting[conversation].append(found.group(1))
        elif message.get("author") == "bot":
            # A conversation's turns run one at a time, in order: the oldest unanswered message.
            waiting = self._waiting[conversation]
            self.replies.append((now, waiting.popleft() if waiting else None))


async def listen(ws_url: str, inbox: Inbox, connected: asyncio.Event) -> None:
    async with websockets.connect(ws_url, max_size=None, ping_interval=None) as socket_:
        connected.set()
        async for raw in socket_:
            inbox.take(raw, time.perf_counter())


async def wait_until(condition: Callable[[], bool], within: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``within`` seconds pass (False)."""
    deadline = time.perf_counter() + within
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _ms(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)) * 1000, 1) if values else None


async def measure(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    run = uuid.uuid4().hex[:8]
    inbox = Inbox(run)
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=args.post_timeout) as client:
        email = LOGINS[args.login]
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": credentials[email]})
        login.raise_for_status()
        token = login.json()["token"]
        connected = asyncio.Event()
        ws_url = url.replace("http://", "ws://") + f"/api/v1/inbox/events?token={token}"
        listener = asyncio.create_task(listen(ws_url, inbox, connected))
        await asyncio.wait_for(connected.wait(), 30)
        # The socket is accepted a moment before its subscription is in place.
        await asyncio.sleep(1)

        sent_at: dict[str, float] = {}
        post_seconds: dict[str, float] = {}
        failures: list[str] = []

        customers = WebChatCustomers(client, TENANT)

        async def post(key: str, session_id: str, text: str) -> None:
            sent_at[key] = time.perf_counter()
            try:
                async with asyncio.timeout(args.post_timeout):  # the whole POST, pool wait included
                    response = await customers.post("", session_id, f"{text} #{run}:{key}#")
            except (httpx.HTTPError, TimeoutError) as exc:
                failures.append(type(exc).__name__)
                return
            if response.status_code != 202:
                failures.append(f"HTTP {response.status_code}")
                return
            post_seconds[key] = time.perf_counter() - sent_at[key]

        def shown(key: str, replies: int) -> Callable[[], bool]:
            return lambda: listener.done() or (key in inbox.seen and len(inbox.replies) > replies)

        # Warm-up, not counted: the first turns load the model and the graph. One new customer each,
        # as a hand-off leaves the rest of a conversation to a human and the bot would not answer.
        # A message the inbox missed (its subscription was not in place yet) is sent again.
        warmed, attempt, warm_deadline = 0, 0, time.perf_counter() + 300
        while warmed < args.warmup:
            if time.perf_counter() > warm_deadline:
                raise RuntimeError("warm-up: the inbox did not show the messages and replies within 300 s")
            key, replies = f"w{attempt}", len(inbox.replies)
            await post(key, f"bench-{run}-warmup-{attempt}", MESSAGES[attempt % len(MESSAGES)])
            attempt += 1
            if await wait_until(shown(key, replies), 30) and key in inbox.seen:
                warmed += 1
            if listener.done():
                listener.result()  # the inbox socket closed: raise why
                raise RuntimeError("warm-up: the inbox socket closed")
        failures.clear()
        replies_before = len(inbox.replies)
        tickets_before = inbox.tickets

        err.print(f"sending {args.rate:g} messages/s for {args.seconds:g} s over {args.sessions} sessions…")
        total = round(args.rate * args.seconds)
        keys = [f"m{number}" for number in range(total)]
        tasks: list[asyncio.Task[None]] = []
        started = time.perf_counter()
        worst_lag = 0.0
        for number, key in enumerate(keys):
            due = started + number / args.rate  # an absolute schedule: no drift from slow sends
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            worst_lag = max(worst_lag, time.perf_counter() - due)
            session_id = f"bench-{run}-{number % args.sessions:04d}"
            tasks.append(asyncio.create_task(post(key, session_id, MESSAGES[number % len(MESSAGES)])))
        last_send = time.perf_counter()
        await asyncio.gather(*tasks)
        accepted = [key for key in keys if key in post_seconds]
        all_posted = time.perf_counter()
        await wait_until(lambda: all(key in inbox.seen for key in accepted), args.timeout)
        waited = time.perf_counter() - all_posted
        ended = time.perf_counter()
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
            await listener

    # Every message that reached the inbox counts, its POST answered or not (under overload some
    # are stored and shown, then their request fails): leaving them out would flatter the server.
    latencies = [inbox.seen[key] - sent_at[key] for key in keys if key in inbox.seen]
    posts = [post_seconds[key] for key in accepted]
    measured = set(keys)
    reply_latencies = [
        when - sent_at[key]
        for when, key in inbox.replies[replies_before:]
        if key in measured and key in sent_at
    ]
    window = ended - started
    thirds = np.array_split(np.array(latencies), 3)
    return {
        "p50_ms": _ms(latencies, 50),
        "p95_ms": _ms(latencies, 95),
        "sent": total,
        "received": sum(1 for key in keys if key in inbox.seen),
        "accepted": len(accepted),
        "p99_ms": _ms(latencies, 99),
        "max_ms": _ms(latencies, 100),
        "failed_posts": len(failures),
        "failures": sorted(set(failures)),
        "target_rate": args.rate,
        "achieved_rate": round((total - 1) / (last_send - started), 2) if total > 1 else None,
        "worst_send_lag_ms": round(worst_lag * 1000, 1),
        "sessions": args.sessions,
        "post_p50_ms": _ms(posts, 50),
        "post_p95_ms": _ms(posts, 95),
        "latency_by_third_p50_ms": [_ms(list(part), 50) for part in thirds],
        "waited_after_sending_s": round(waited, 2),
        "bot_replies": len(reply_latencies),
        "bot_replies_per_s": round(len(reply_latencies) / window, 2),
        "bot_reply_p50_ms": _ms(reply_latencies, 50),
        "tickets_opened": inbox.tickets - tickets_before,
    }


def print_table(report: dict[str, Any]) -> None:
    table = Table(title="customer message → inbox (WebSocket)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("sent", report["sent"]),
        ("received in the inbox", report["received"]),
        ("POSTs answered 202", report["accepted"]),
        ("POSTs failed", f"{report['failed_posts']} {' '.join(report['failures'])}".strip()),
        ("latency p50 ms", report["p50_ms"]),
        ("latency p95 ms", report["p95_ms"]),
        ("latency p99 ms", report["p99_ms"]),
        ("latency max ms", report["max_ms"]),
        ("latency p50 by third of the run ms", " / ".join(map(str, report["latency_by_third_p50_ms"]))),
        ("send rate target / achieved /s", f"{report['target_rate']:g} / {report['achieved_rate']}"),
        ("worst send lag ms", report["worst_send_lag_ms"]),
        ("POST response p50 / p95 ms", f"{report['post_p50_ms']} / {report['post_p95_ms']}"),
        ("waited after the last POST s", report["waited_after_sending_s"]),
        ("bot replies seen (per s)", f"{report['bot_replies']} ({report['bot_replies_per_s']})"),
        ("bot reply p50 ms (approx.)", report["bot_reply_p50_ms"]),
        ("tickets opened", report["tickets_opened"]),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    Console().print(table)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=50, help="messages a second")
    parser.add_argument("--seconds", type=float, default=20, help="how long to send")
    parser.add_argument("--sessions", type=int, default=50, help="customers the messages are spread over")
    parser.add_argument("--timeout", type=float, default=30, help="wait after sending for the stragglers")
    parser.add_argument("--warmup", type=int, default=3, help="messages answered before measuring")
    parser.add_argument(
        "--connections",
        type=int,
        default=1000,
        help="HTTP connections at most; enough that POSTs do not queue in the client (httpx's pool "
        "spends CPU on every waiting request, which would slow the sender down)",
    )
    parser.add_argument(
        "--post-timeout", type=float, default=60, help="one POST's limit (all of it), seconds"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="worker processes on Redis running the bot (0: one process)"
    )
    parser.add_argument("--startup-timeout", type=float, default=300)
    parser.add_argument(
        "--login",
        choices=sorted(LOGINS),
        default="admin",
        help="whose inbox listens (an agent hears only conversations with a ticket they may see)",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the data dir and server log")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.workers < 0:
        parser.error("--workers must not be negative")

    data_dir = Path(tempfile.mkdtemp(prefix="atende-inbox-bench-"))
    err.print(f"starting atende demo (data dir {data_dir})…")
    keep = args.keep_data
    try:
        with running(data_dir, workers=args.workers, startup_timeout=args.startup_timeout) as cluster:
            report = asyncio.run(measure(cluster.url, data_dir, args))
            report["workers"] = args.workers
    except BaseException:
        keep = True
        err.print(f"[red]failed[/red]; the processes' logs are in {data_dir}")
        raise
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    if keep:
        err.print(f"the processes' logs are in {data_dir}")
    print_table(report)
    if args.json:
        print(json.dumps(report))
    return 0 if report["received"] == report["sent"] == report["accepted"] else 1


if __name__ == "__main__":
    sys.exit(main())
