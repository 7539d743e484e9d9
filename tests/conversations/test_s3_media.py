"""Media in an S3-compatible store: a customer's photo lands in the bucket, the inbox reads it back,
and an agent's file goes out to the customer from there. The store is moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import run_cli, start_atende, stop_atende
from tests.fakes.telegram_api import FakeTelegram, photo_update

BUCKET = "atende-media"
SECRET = "s3-test-secret"
AWS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        server.stop()


def test_media_goes_to_the_bucket_and_back_out_through_the_inbox_and_the_channel(
    tmp_path: Path, s3_endpoint: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {**AWS, "ATENDE_MEDIA_STORE": f"s3://{BUCKET}/media", "ATENDE_S3_ENDPOINT_URL": s3_endpoint}
    bucket = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    photo = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 4
    with FakeTelegram(token="777888999:AAE-s3-test-token") as telegram:
        process, url = start_atende(data_dir, "demo", env=env)
        try:
            added = run_cli(
                data_dir,
                *("channel", "add", "--tenant", "demo", "--type", "telegram", "--token", telegram.token),
                *("--webhook-secret", SECRET, "--api-base", telegram.base_url, "--json"),
            )
            assert added.returncode == 0, added.stderr
            file_id = telegram.add_file(photo, file_path="photos/p.png", file_id="photo-s3")
            posted = httpx.post(
                f"{url}/webhooks/telegram/{json.loads(added.stdout)['id']}",
                json=photo_update(file_id, update_id=5, chat_id=5555, first_name="Dora S3"),
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                timeout=10,
            )
            assert posted.status_code == 200

            credentials = json.loads((data_dir / "demo-credentials.json").read_text())
            token = httpx.post(
                f"{url}/api/v1/auth/login",
                json={"email": "agent@demo.atende.dev", "password": credentials["agent@demo.atende.dev"]},
                timeout=10,
            ).json()["token"]
            agent = {"Authorization": f"Bearer {token}"}
            deadline = time.monotonic() + 120
            while not (
                tickets := [
                    t
                    for t in httpx.get(f"{url}/api/v1/tickets", headers=agent, timeout=10).json()
                    if t["contact"] == "Dora S3"
                ]
            ):
                assert time.monotonic() < deadline, "no ticket for the photo"
                time.sleep(0.3)
            detail = httpx.get(f"{url}/api/v1/tickets/{tickets[0]['id']}", headers=agent, timeout=10).json()
            customer_message = detail["messages"][0]
            [attachment] = customer_message["content"]["attachments"]

            stored = bucket.get_object(Bucket=BUCKET, Key=f"media/{attachment['path']}")["Body"].read()
            assert stored == photo
            assert not (data_dir / "media").exists(), "nothing kept on the local disk"
            served = httpx.get(f"{url}/api/v1/media/{customer_message['id']}/0", headers=agent, timeout=10)
            assert served.status_code == 200 and served.content == photo

            manual = b"%PDF-1.4 manual de cuidados" * 20
            sent = httpx.post(
                f"{url}/api/v1/tickets/{tickets[0]['id']}/attachments",
                files={"file": ("cuidados.pdf", manual, "application/pdf")},
                headers=agent,
                timeout=10,
            )
            assert sent.status_code == 201, sent.text
            [document] = telegram.wait_for("sendDocument", 1, timeout=60)
            assert document.files["document"].data == manual
        finally:
            stop_atende(process)
