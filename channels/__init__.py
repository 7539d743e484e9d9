"""Channels: one adapter per channel behind one protocol, and the conversations they carry."""
