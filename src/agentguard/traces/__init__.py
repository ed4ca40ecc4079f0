"""Recorded traces: one span record, one OTLP codec, sessions, and readers for every convention."""
