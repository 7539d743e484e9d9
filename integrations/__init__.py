"""Other systems talking to a tenant: outbound webhooks, the public API, API keys."""
