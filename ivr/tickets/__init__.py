"""Ticket stubs: one per call, durable before the call moves on, in SQLite or Redis, streamed to departments."""
