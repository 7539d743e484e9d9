"""What an admin gives for a WhatsApp Cloud API channel (from the Meta app and its business number)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from channels.setting_fields import ApiBase, Secret


class WhatsAppCloudSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token: Annotated[Secret, msgspec.Meta(title="Token", description="The Graph API access token.")]
    app_secret: Annotated[
        Secret,
        msgspec.Meta(title="App secret", description="The Meta app secret that signs each webhook."),
    ]
    verify_token: Annotated[
        Secret,
        msgspec.Meta(title="Verify token", description="The token Meta echoes when it verifies the webhook."),
    ]
    phone_number_id: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[0-9]{1,30}$",
            title="Phone number id",
            description="The business phone number's id: a webhook carries every number of the app.",
        ),
    ]
    api_base: ApiBase | None = None
