"""Instrumentation of LLM SDKs. Each instrumentor is applied and removed explicitly, never at import."""
