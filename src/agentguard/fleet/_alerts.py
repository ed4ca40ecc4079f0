"""Alerts for findings at or above a severity: JSON lines on a stream, and a signed, retried webhook.

Alerts come from the journal's outbox, written in the same transaction as the review, so an alert is
delivered at least once even across a restart. A webhook request is ``POST`` with a JSON body and two
headers: ``X-Agentguard-Timestamp`` (Unix seconds) and ``X-Agentguard-Signature`` =
``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the shared secret>``. A receiver recomputes the
HMAC and compares it in constant time (:func:`verify`). Failed deliveries are retried with exponential
backoff up to ``max_attempts``, then marked failed (``agentguard monitor --status`` counts them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from ._journal import Journal

log = logging.getLogger("agentguard.monitor")

SIGNATURE_HEADER = "X-Agentguard-Signature"
TIMESTAMP_HEADER = "X-Agentguard-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is the one :func:`sign` gives (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(slots=True, kw_only=True)
class Webhook:
    """Where alerts are posted, and with which secret."""

    url: str
    secret: str | None = None
    timeout_s: float = 5.0
    max_attempts: int = 5
    backoff_s: float = 0.5

    def post(self, payload: dict[str, Any]) -> None:
        """One delivery attempt; raises on any failure (a non-2xx answer included)."""
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "agentguard-monitor"}
        if self.secret:
            ts = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = ts
            headers[SIGNATURE_HEADER] = sign(self.secret, ts, body)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            if not 200 <= response.status < 300:
                raise urllib.error.HTTPError(self.url, response.status, "not 2xx", response.headers, None)


class Dispatcher:
    """Delivers the outbox: each alert once to the stream, and to the webhook with retries."""

    def __init__(
        self,
        journal: Journal,
        *,
        stream: TextIO | None,
        webhook: Webhook | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.journal = journal
        self.stream = stream
        self.webhook = webhook
        self._clock = clock
        self._warned = False

    def deliver(self) -> int:
        """Deliver what is due now; returns how many alerts were delivered."""
        done = 0
        now = self._clock()
        for alert_id, payload, attempts in self.journal.pending_alerts(now=now):
            if attempts == 0 and self.stream is not None:
                try:
                    self.stream.write(json.dumps(payload, separators=(",", ":"), sort_keys=True) + "\n")
                    self.stream.flush()
                except (OSError, ValueError) as exc:
                    log.debug("alert stream write failed: %s", exc)
            if self.webhook is None:
                self.journal.alert_done(alert_id)
                done += 1
                continue
            try:
                self.webhook.post(payload)
            except Exception as exc:
                tried = attempts + 1
                failed = tried >= self.webhook.max_attempts
                delay = self.webhook.backoff_s * 2 ** (tried - 1)
                self.journal.alert_retry(alert_id, next_try=now + delay, failed=failed)
                if not self._warned or failed:
                    log.warning(
                        "alert webhook %s failed (%s: %s)%s",
                        self.webhook.url,
                        type(exc).__name__,
                        exc,
                        "; giving up on this alert" if failed else "; retrying",
                    )
                    self._warned = True
                continue
            self.journal.alert_done(alert_id)
            done += 1
        return done
