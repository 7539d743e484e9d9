"""Minutes of steady traffic on a cluster: is every message answered exactly once, and does memory hold?

    python bench/soak.py [--minutes 10] [--rate 50] [--webs 2] [--workers 2] [--json]

Starts ``--webs`` web processes and ``--workers`` workers on a Redis of their own and the embedded
PostgreSQL (``bench/cluster.py``), then POSTs web chat messages at ``--rate`` a second for
``--minutes``, each from a new customer (so a hand-off never silences the rest of a conversation),
alternating between the web processes. It samples each process's resident memory every
``--sample`` seconds. After sending, it waits (up to ``--drain``) until the bot has answered every
stored message, then counts in the database: messages accepted, stored, answered once, lost (stored
but never answered) and duplicated (answered twice or more), and each process's RSS growth from the
end of the warm-up (the first ``--warmup`` fraction of the run) to the end.
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
from chat_customers import WebChatCustomers
from cluster import Cluster, running
from inbox_latency import MESSAGES, TENANT
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core.embedded_postgres import EmbeddedPostgres

err = Console(stderr=True)

COUNTS = text(
    """
    SELECT count(*) AS stored,
           count(*) FILTER (WHERE replies = 1) AS answered_once,
           count(*) FILTER (WHERE replies = 0) AS unanswered,
           count(*) FILTER (WHERE replies > 1) AS duplicated
    FROM (
        SELECT inbound.id, count(reply.id) AS replies
        FROM messages AS inbound
        LEFT JOIN messages AS reply ON reply.reply_to_id = inbound.id AND reply.author = 'bot'
        WHERE inbound.direction = 'inbound' AND inbound.text LIKE :marker
        GROUP BY inbound.id
    ) AS answered
    """
)


async def counts(database_url: str, run: str) -> dict[str, int]:
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(COUNTS, {"marker": f"%#{run}:%"})).one()
    finally:
        await engine.dispose()
    return dict(row._mapping)


async def soak(cluster: Cluster, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    accepted = failed = 0
    samples: list[tuple[float, dict[str, float]]] = []

    async def post(client: httpx.AsyncClient, number: int) -> None:
        nonlocal accepted, failed
        url = cluster.urls[number % len(cluster.urls)]
        text = f"{MESSAGES[number % len(MESSAGES)]} #{run}:{number}#"
        try:
            response = await WebChatCustomers(client, TENANT).post(url, f"soak-{run}-{number:07d}", text)
        except httpx.HTTPError:
            failed += 1
            return
        if response.status_code == 202:
            accepted += 1
        else:
            failed += 1

    total = round(args.rate * args.minutes * 60)
    err.print(
        f"sending {args.rate:g} messages/s for {args.minutes:g} min over {len(cluster.urls)} web process(es)…"
    )
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=500)) as client:
        tasks: list[asyncio.Task[None]] = []
        started = next_sample = time.perf_counter()
        for number in range(total):
            delay = started + number / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() >= next_sample:
                samples.append((time.perf_counter() - started, cluster.rss_mib()))
                next_sample += args.sample
            tasks.append(asyncio.create_task(post(client, number)))
        await asyncio.gather(*tasks)
    sent_for = time.perf_counter() - started
    samples.append((sent_for, cluster.rss_mib()))

    err.print("waiting for the bot to answer every stored message…")
    deadline = time.perf_counter() + args.drain
    found = await counts(database_url, run)
    while found["unanswered"] and time.perf_counter() < deadline:
        await asyncio.sleep(5)
        found = await counts(database_url, run)
    drained_after = time.perf_counter() - started
    await asyncio.sleep(args.quiet)  # a duplicate would come just after
    found = await counts(database_url, run)

    warm = next((rss for at, rss in samples if at >= args.warmup * sent_for), samples[0][1])
    last = samples[-1][1]
    growth = {name: round((last[name] / warm[name] - 1) * 100, 1) for name in last if name in warm}
    return {
        "minutes": args.minutes,
        "rate": args.rate,
        "webs": args.webs,
        "workers": args.workers,
        "sent": total,
        "accepted": accepted,
        "failed_posts": failed,
        **found,
        "lost": total - found["answered_once"] - found["duplicated"],
        "drained_after_s": round(drained_after, 1),
        "rss_after_warmup_mib": warm,
        "rss_at_end_mib": last,
        "rss_growth_pct": growth,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=50, help="customer messages a second")
    parser.add_argument("--webs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=float, default=10, help="seconds between memory samples")
    parser.add_argument("--warmup", type=float, default=0.2, help="fraction of the run before memory counts")
    parser.add_argument("--drain", type=float, default=1800, help="seconds to wait for the last answers")
    parser.add_argument("--quiet", type=float, default=5, help="seconds to watch for duplicates at the end")
    parser.add_argument("--startup-timeout", type=float, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.minutes <= 0 or args.rate <= 0 or args.webs < 1 or args.workers < 1:
        parser.error("--minutes and --rate must be positive; --webs and --workers at least 1")

    data_dir = Path(tempfile.mkdtemp(prefix="atende-soak-"))
    try:
        with running(
            data_dir, webs=args.webs, workers=args.workers, startup_timeout=args.startup_timeout
        ) as cluster:
            database = EmbeddedPostgres(data_dir)
            try:
                report = asyncio.run(soak(cluster, database.url, args))
            finally:
                with contextlib.suppress(Exception):
                    database.close()
    except BaseException:
        err.print(f"[red]failed[/red]; the processes' logs are in {data_dir}")
        raise
    shutil.rmtree(data_dir, ignore_errors=True)

    table = Table(
        title=f"soak: {args.minutes:g} min at {args.rate:g}/s, {args.webs} web + {args.workers} workers"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name in (
        "sent",
        "accepted",
        "failed_posts",
        "stored",
        "answered_once",
        "lost",
        "duplicated",
        "drained_after_s",
    ):
        table.add_row(name, str(report[name]))
    for name, pct in report["rss_growth_pct"].items():
        table.add_row(f"RSS {name} MiB (growth)", f"{report['rss_at_end_mib'][name]} ({pct:+}%)")
    Console().print(table)
    if args.json:
        print(json.dumps(report))
    return 0 if report["lost"] == report["duplicated"] == report["failed_posts"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
