"""What an admin gives for a WhatsApp Cloud API channel (from the Meta app and its business number)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from channels.plugin import ApiBase, Secret


class WhatsAppCloudSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token: Secret
    """The Graph API access token."""
    app_secret: Secret
    """The Meta app secret that signs each webhook (X-Hub-Signature-256)."""
    verify_token: Secret
    """The token Meta echoes when it verifies the webhook."""
    phone_number_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,30}$")]
    """The business phone number's id: a webhook carries the changes of every number of the app."""
    api_base: ApiBase | None = None


SECRETS = ("token", "app_secret", "verify_token")
