"""The ``atende`` command line, for people and for scripts.

Commands that only read and write rows open the migrated database alone; those that embed, search
or run the agent import and open ``conversations.services`` (the models, the graph, the channels) inside,
so ``atende --help`` and ``atende tenant create`` start in about a second.
"""

from __future__ import annotations

import click

from evals.cli import eval_group
from runtime.cli.accounts import apikey, tenant, user
from runtime.cli.channels import channel
from runtime.cli.classify import classify
from runtime.cli.jobs import jobs
from runtime.cli.kb import kb
from runtime.cli.server import chat, db, demo, serve
from runtime.cli.worker import worker


@click.group()
def main() -> None:
    """Atende: an AI agent on every channel, grounded in your knowledge base, with human handoff."""


for command in (serve, worker, demo, db, tenant, user, apikey, channel, kb, classify, chat, jobs, eval_group):
    main.add_command(command)
