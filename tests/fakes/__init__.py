"""Fakes at the transport edge: real servers on 127.0.0.1 that speak a provider's wire format."""
