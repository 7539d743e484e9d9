"""With Redis and ATENDE_OTEL_ENDPOINT, one customer message is one trace across processes: the web
process's ``atende.receive`` (service atende-web) is the parent of the worker's ``atende.turn``
(service atende-worker), carried by the job's ``traceparent`` label; the worker's log names the trace."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import start_atende, stop_atende
from tests.fakes.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.helpers import ChatCustomer
from tests.runtime.conftest import start_worker

QUESTION = "Quanto tempo de garantia têm as plantas?"


def _wait_for(find: Callable[[], list[ReceivedSpan]], what: str, timeout: float = 180) -> list[ReceivedSpan]:
    deadline = time.monotonic() + timeout
    while not (found := find()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return found


def test_a_message_received_by_the_web_process_and_answered_by_a_worker_is_one_trace(
    tmp_path: Path, redis_url: str
) -> None:
    with OtlpReceiver() as collector:
        env = {
            "ATENDE_REDIS_URL": redis_url,
            "ATENDE_SECRET_KEY": "shared-by-every-process",
            "ATENDE_OTEL_ENDPOINT": collector.origin,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # the SDK's batch timer, in ms: spans leave promptly
        }
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        web, url = start_atende(data_dir, "demo", env=env)
        try:
            worker = start_worker(data_dir, env, "worker.log")
            try:
                posted = ChatCustomer.start(url).send(QUESTION)
                assert posted.status_code == 202, posted.text
                [turn] = _wait_for(lambda: collector.spans_named("atende.turn"), "the worker's turn span")
                [receive] = _wait_for(lambda: collector.spans_named("atende.receive"), "the web's span")
            finally:
                stop_atende(worker)
        finally:
            stop_atende(web)

    assert (receive.service, turn.service) == ("atende-web", "atende-worker")
    assert turn.trace_id == receive.trace_id and turn.parent_span_id == receive.span_id
    assert turn.attributes["atende.message.id"] == receive.attributes["atende.message.id"]
    assert receive.attributes["atende.channel.type"] == "webchat"
    for span in collector.trace(turn.trace_id):
        assert all(QUESTION not in str(value) for value in span.attributes.values()), span.name
    worker_log = (data_dir / "worker.log").read_text()
    [done] = [line for line in worker_log.splitlines() if "turn.done" in line]
    assert re.search(r"trace_id=([0-9a-f]{32})", done)[1] == turn.trace_id  # type: ignore[index]
