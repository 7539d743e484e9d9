"""How many replies a second the bot gives at most, next to how fast the model alone encodes.

    python bench/throughput.py [--rate 60] [--seconds 30] [--workers M] [--json]

The offline answerer spends most of a turn in the embedding model, so the ceiling of a turn rate is
the model's own speed. This starts a real ``atende demo`` (one process, or ``--workers M`` worker
processes on a Redis of its own), sends web chat messages at a steady ``--rate`` (above what the bot
can answer, so it is saturated) for ``--seconds``, and counts the bot's replies the admin's inbox
shows during that window: bot replies a second. Then, in the same run with Atende stopped, it
encodes the same texts with the same model in batches of 64: raw encodes a second. The ratio says
how much of the model's speed a turn keeps (the issue's target: at least 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets
from chat_customers import WebChatCustomers
from cluster import running
from inbox_latency import LOGINS, MESSAGES, TENANT, Inbox, listen, wait_until
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core.settings import get_settings
from knowledge.embeddings import get_embedder

err = Console(stderr=True)


async def bot_rate(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Replies a second while customers write faster than the bot answers."""
    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    run = uuid.uuid4().hex[:8]
    inbox = Inbox(run)
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=500)
    ) as client:
        email = LOGINS["admin"]
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": credentials[email]})
        login.raise_for_status()
        connected = asyncio.Event()
        ws_url = url.replace("http://", "ws://") + f"/api/v1/inbox/events?token={login.json()['token']}"
        listener = asyncio.create_task(listen(ws_url, inbox, connected))
        await asyncio.wait_for(connected.wait(), 30)
        await asyncio.sleep(1)  # the socket's subscription settles just after it is accepted

        customers = WebChatCustomers(client, TENANT)

        async def post(number: int, session: str) -> None:
            text = f"{MESSAGES[number % len(MESSAGES)]} #{run}:m{number}#"
            with contextlib.suppress(httpx.HTTPError):
                await customers.post("", session, text)

        err.print("warming up…")
        await post(0, f"tp-{run}-warm")
        if not await wait_until(lambda: bool(inbox.replies), 300):
            raise RuntimeError("warm-up: no bot reply within 300 s")

        err.print(f"sending {args.rate:g} messages/s for {args.seconds:g} s…")
        replies_before = len(inbox.replies)
        started = time.perf_counter()
        tasks = []
        for number in range(1, round(args.rate * args.seconds) + 1):
            delay = started + number / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(number, f"tp-{run}-{number:06d}")))
        ended = time.perf_counter()
        replies = len(inbox.replies) - replies_before
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
            await listener
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "sent": len(tasks),
        "bot_replies": replies,
        "bot_replies_per_s": round(replies / (ended - started), 2),
    }


def encode_rate(seconds: float) -> float:
    """Texts a second the embedding model encodes in batches of 64, the bench's questions repeated."""
    embedder = get_embedder(get_settings().embedding_model)
    texts = [f"{MESSAGES[n % len(MESSAGES)]} #{n}#" for n in range(64)]
    embedder.encode(texts)  # warm
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        embedder.encode(texts)
        done += len(texts)
    return round(done / (time.perf_counter() - started), 1)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=60, help="customer messages a second (above capacity)")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=0, help="worker processes on Redis (0: one process)")
    parser.add_argument("--startup-timeout", type=float, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0 or args.workers < 0:
        parser.error("--rate and --seconds must be positive, --workers not negative")

    data_dir = Path(tempfile.mkdtemp(prefix="atende-throughput-"))
    try:
        with running(data_dir, workers=args.workers, startup_timeout=args.startup_timeout) as cluster:
            report = asyncio.run(bot_rate(cluster.url, data_dir, args))
    except BaseException:
        err.print(f"[red]failed[/red]; the processes' logs are in {data_dir}")
        raise
    shutil.rmtree(data_dir, ignore_errors=True)
    err.print("encoding the same texts with the model alone…")
    report["raw_encodes_per_s"] = encode_rate(min(args.seconds, 15))
    report["workers"] = args.workers
    report["ratio"] = round(report["bot_replies_per_s"] / report["raw_encodes_per_s"], 3)

    table = Table(title=f"bot throughput, {args.workers or 'no'} worker(s), offline answerer")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name in ("sent", "bot_replies", "bot_replies_per_s", "raw_encodes_per_s", "ratio"):
        table.add_row(name, str(report[name]))
    Console().print(table)
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
