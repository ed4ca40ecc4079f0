"""The fleet monitor: every session of every agent reviewed minutes after it ends.

::

    from agentguard.fleet import Monitor, MonitorConfig

    with Monitor(MonitorConfig(state_dir=".agentguard/monitor", port=4319)) as monitor:
        ...   # point OTLP/HTTP exporters (or a Collector's otlphttp exporter) at monitor.url
        print(monitor.status().coverage, [f.code for f in monitor.findings()])

The command line is ``agentguard monitor``. What it does:

- **Inputs**: an OTLP/HTTP receiver (``/v1/traces``, ``/v1/logs``; protobuf or JSON; loopback by
  default) and, alternatively, OTLP JSON files followed as they grow (the Collector's ``file``
  exporter). A batch is on disk (:class:`Journal`, SQLite) before the exporter gets its ``200``.
- **Sessions**: the attribution of :func:`agentguard.traces.assemble` (a conversation id on any span of
  a trace, traces sharing it, traces joined by trace context). A session is reviewed when its traces
  are complete: the root span arrived and ``settle_s`` passed, or nothing arrived for ``idle_s``.
- **Review**: the rule detectors on every session (what ``agentguard scan`` runs), then each judge
  (:class:`~agentguard.TranscriptMonitor`, several allowed, results kept per judge) on the sessions the
  rules flagged plus a stable ``sample`` of the rest. Findings, the review mark and alerts are written
  in one transaction: a ``kill -9`` and restart loses no session and reviews none twice.
- **Retention** (``retain_s``): sessions reviewed longer ago than that lose their spans
  (:meth:`Journal.compact`); those with findings keep their row and findings, the rest go.
- **Out**: findings as ``gen_ai.evaluation.result`` log records and ``agentguard.signal`` events on an
  ``agentguard.monitor.review`` span; metrics ``agentguard.monitor.sessions`` (seen / reviewed /
  judged), ``agentguard.monitor.review.latency`` (session end to verdict),
  ``agentguard.monitor.findings`` (by category, severity and reviewer) and
  ``agentguard.monitor.coverage``; alerts at or above ``alert_severity`` as JSON lines on a stream and
  to a webhook (signed with HMAC-SHA256, retried; see :func:`verify`).
- **Triage and incidents**: :meth:`Journal.set_state` keeps each finding's state (``new``,
  ``acknowledged``, ``false_positive``, ``confirmed``) with its history (``agentguard triage``);
  :func:`incident_record` writes what happened, when it was detected, the decisions taken and the
  evidence spans under a hash chain, optionally with the EU AI Act Article 73 reporting clock
  (``agentguard incident``).
- **Fleet trends** (:class:`FleetTrends`): per agent and repository over time, the test pass rate of
  the agents' own test runs beside the share of each change that touched source outside tests,
  refusal rate, cost per session, deferral and unapproved-escalation rates; a sharp rise in pass rate
  with no matching source change is a fleet-level ``reward_hacking.pass_rate_spike`` finding. Gauges
  ``agentguard.fleet.*`` per agent and repository (the monitor's telemetry) and the dashboard's Fleet
  trends panel show them.
"""

from __future__ import annotations

from ._alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER, Webhook, sign, verify
from ._incident import REPORTING_DAYS, hash_chain, incident_record, verify_chain
from ._journal import TRIAGE_STATES, Compaction, Finding, Journal, Status
from ._receiver import FileFollower, Receiver, decode_body
from ._review import RULES, Judge, sampled
from ._service import Monitor, MonitorConfig
from ._trends import (
    SPIKE_CODE,
    TRENDS_REVIEWER,
    Bucket,
    FleetTrends,
    Series,
    SessionFacts,
    TrendConfig,
    TrendSnapshot,
    fleet_key,
    session_facts,
    session_trends,
    trends,
    wilson,
)

__all__ = [
    "REPORTING_DAYS",
    "RULES",
    "SIGNATURE_HEADER",
    "SPIKE_CODE",
    "TIMESTAMP_HEADER",
    "TRENDS_REVIEWER",
    "TRIAGE_STATES",
    "Bucket",
    "Compaction",
    "FileFollower",
    "Finding",
    "FleetTrends",
    "Journal",
    "Judge",
    "Monitor",
    "MonitorConfig",
    "Receiver",
    "Series",
    "SessionFacts",
    "Status",
    "TrendConfig",
    "TrendSnapshot",
    "Webhook",
    "decode_body",
    "fleet_key",
    "hash_chain",
    "incident_record",
    "sampled",
    "session_facts",
    "session_trends",
    "sign",
    "trends",
    "verify",
    "verify_chain",
    "wilson",
]
