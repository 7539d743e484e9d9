"""Atende's runtime: settings, database, jobs, the app factory, the CLI and the inbound pipeline."""
