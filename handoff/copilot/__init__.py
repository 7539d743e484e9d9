"""The agent copilot: what a ticket is about, suggested replies and summaries for the human who takes it."""
