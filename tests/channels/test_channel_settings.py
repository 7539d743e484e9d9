"""A channel's settings schema is its form and its flags: the admin API and ``atende channel add`` are
drawn from it, secrets are password inputs never sent back, and a bad setting is refused by name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Literal

import httpx
import msgspec
import pytest

from channels.registry import SETTINGS
from channels.setting_fields import ApiBase, Secret, setting_fields
from tests.conftest import LiveServer, run_cli
from tests.helpers import login


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


class AcmeSmsSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A made-up channel's settings, as a new channel folder would declare them."""

    bot_token: Annotated[Secret, msgspec.Meta(title="Bot token", description="From the Acme console.")]
    sender: Annotated[str, msgspec.Meta(pattern=r"^\+[0-9]{8,15}$")]
    api_base: ApiBase | None = None
    region: Literal["eu", "us"] = "eu"


def test_a_new_channels_schema_is_its_inputs() -> None:
    fields = {field.name: field for field in setting_fields(AcmeSmsSettings)}
    assert list(fields) == ["bot_token", "sender", "api_base", "region"]
    assert (fields["bot_token"].kind, fields["bot_token"].label, fields["bot_token"].required) == (
        "secret",
        "Bot token",
        True,
    )
    assert fields["bot_token"].help == "From the Acme console."
    assert (fields["sender"].kind, fields["sender"].label, fields["sender"].required) == (
        "text",
        "Sender",
        True,
    )
    assert (fields["api_base"].label, fields["api_base"].required) == ("API server", False)
    assert (fields["region"].kind, fields["region"].choices, fields["region"].default) == (
        "choice",
        ("eu", "us"),
        "eu",
    )


def test_every_setting_of_every_channel_is_a_flag_of_channel_add(live_server: LiveServer) -> None:
    shown = run_cli(live_server.data_dir, "channel", "add", "--help")
    assert shown.returncode == 0, shown.stderr
    for settings in SETTINGS.values():
        for field in settings.fields:
            flag = f"--{field.choices[1]}" if field.kind == "switch" else f"--{field.name.replace('_', '-')}"
            assert flag in shown.stdout, (field.name, shown.stdout)
    assert "--phone-number-id" in shown.stdout and "--polling" in shown.stdout
    assert "The bot token from @BotFather" in shown.stdout


def test_the_admins_form_is_each_types_settings_with_secrets_as_passwords(
    client: httpx.Client, live_server: LiveServer
) -> None:
    admin = login(client, live_server.admin)
    types = client.get("/api/v1/admin/channels/types", headers=admin)
    assert types.status_code == 200, types.text
    by_type = {t["type"]: t for t in types.json()}
    assert by_type["whatsapp-cloud"]["title"] == "WhatsApp Cloud API"
    cloud = {f["name"]: f for f in by_type["whatsapp-cloud"]["fields"]}
    assert {name for name, f in cloud.items() if f["kind"] == "secret"} == {
        "token",
        "app_secret",
        "verify_token",
    }
    assert cloud["phone_number_id"]["kind"] == "text" and cloud["phone_number_id"]["required"]
    telegram = {f["name"]: f for f in by_type["telegram"]["fields"]}
    assert telegram["mode"]["kind"] == "switch" and telegram["mode"]["choices"] == ["webhook", "polling"]
    assert by_type["whatsapp-neonize"]["fields"] == []


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (
            ("--type", "whatsapp-cloud", "--token", "EAAG-token", "--app-secret", "s"),
            "verify_token: is required for a whatsapp-cloud channel",
        ),
        (("--type", "telegram", "--token", "not-a-token"), "token: is not a Telegram bot token"),
        (
            ("--type", "telegram", "--token", "123456:ABCDEFGHIJKLMNOP", "--phone-number-id", "1"),
            "phone_number_id",
        ),
        (("--type", "telegram", "--token", "123456:ABCDEFGHIJKLMNOP", "--api-base", "ftp://x"), "api_base"),
    ],
)
def test_a_missing_or_bad_setting_is_refused_by_name_and_nothing_is_stored(
    live_server: LiveServer, flags: tuple[str, ...], error: str
) -> None:
    name = f"refused-{abs(hash(flags)) % 10**6}"
    refused = run_cli(live_server.data_dir, "channel", "add", "--tenant", "demo", "--name", name, *flags)
    assert refused.returncode == 1 and error in refused.stderr, refused.stderr
    listed = run_cli(live_server.data_dir, "channel", "list", "--tenant", "demo", "--json")
    assert listed.returncode == 0, listed.stderr
    assert name not in [c["name"] for c in json.loads(listed.stdout)]


def test_the_admin_api_refuses_a_missing_setting_by_name_and_never_sends_secrets_back(
    client: httpx.Client, live_server: LiveServer
) -> None:
    admin = login(client, live_server.admin)
    missing = client.post(
        "/api/v1/admin/channels",
        json={"type": "whatsapp-cloud", "name": "half", "token": "EAAG-secret-token-1234", "app_secret": "x"},
        headers=admin,
    )
    assert missing.status_code == 422 and "verify_token" in missing.text, missing.text
    added = client.post(
        "/api/v1/admin/channels",
        json={
            "type": "whatsapp-cloud",
            "name": "whole",
            "token": "EAAG-secret-token-1234",
            "app_secret": "meta-app-secret-5678",
            "verify_token": "verify-me-9012",
            "phone_number_id": "1065",
        },
        headers=admin,
    )
    assert added.status_code == 201, added.text
    listed = client.get("/api/v1/admin/channels", headers=admin)
    for secret in ("EAAG-secret-token-1234", "meta-app-secret-5678", "verify-me-9012"):
        assert secret not in added.text and secret not in listed.text
    assert "half" not in [c["name"] for c in listed.json()]
