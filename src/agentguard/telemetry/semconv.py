"""Every span, event, attribute and metric name agentguard emits, in one place.

The ``gen_ai.*`` names follow the OpenTelemetry GenAI semantic conventions. The constants in
``opentelemetry-semantic-conventions`` are marked deprecated while they move to their own repository,
so we keep our own copy: a rename upstream is one change here.
"""

from __future__ import annotations

from typing import Final

# --- GenAI semantic conventions -------------------------------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_AGENT_ID: Final = "gen_ai.agent.id"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
"""Seconds from the request to the first chunk of a streamed response."""
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"
GEN_AI_TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"

# gen_ai.operation.name values
OP_CHAT: Final = "chat"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_EXECUTE_TOOL: Final = "execute_tool"

# span event carrying one tool call the model requested
EVENT_TOOL_CALL: Final = "gen_ai.tool.call"

# GenAI metrics
METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"
# Bucket boundaries the semantic conventions advise for the two metrics above.
TOKEN_USAGE_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip

# --- agentguard --------------------------------------------------------------------------------
RUN_ID: Final = "agentguard.run.id"
BORROWED: Final = "agentguard.borrowed"
"""True on another instrumentation's span of a call that agentguard recorded on instead of its own span."""
TASK: Final = "agentguard.task"
SCOPE_ROOT: Final = "agentguard.scope.root"
SCOPE_READ: Final = "agentguard.scope.read"
SCOPE_WRITE: Final = "agentguard.scope.write"
SCOPE_HOSTS: Final = "agentguard.scope.hosts"
SCOPE_IN_SCOPE: Final = "agentguard.scope.in_scope"
COST_USD: Final = "agentguard.cost.usd"
RUN_COST_USD: Final = "agentguard.run.cost.usd"
RUN_INPUT_TOKENS: Final = "agentguard.run.input_tokens"
RUN_OUTPUT_TOKENS: Final = "agentguard.run.output_tokens"
RUN_LLM_CALLS: Final = "agentguard.run.llm_calls"
RUN_TOOL_CALLS: Final = "agentguard.run.tool_calls"
RUN_REFUSALS: Final = "agentguard.run.refusals"
REFUSAL: Final = "agentguard.refusal"
REFUSAL_SOURCE: Final = "agentguard.refusal.source"
TOOL_KIND: Final = "agentguard.tool.kind"
POLICY_DECISION: Final = "agentguard.policy.decision"
POLICY_RULE_IDS: Final = "agentguard.policy.rule_ids"
POLICY_REASON: Final = "agentguard.policy.reason"
POLICY_MODE: Final = "agentguard.policy.mode"
FILE_DIFF: Final = "agentguard.file.diff"

# span event carrying a policy decision
EVENT_POLICY_DECISION: Final = "agentguard.policy.decision"
# span event carrying a detector signal
EVENT_SIGNAL: Final = "agentguard.signal"

# agentguard metrics (labels are low-cardinality: kind, tool, model, provider, decision, source)
METRIC_RUNS: Final = "agentguard.runs"
METRIC_RUN_DURATION: Final = "agentguard.run.duration"
METRIC_COST: Final = "agentguard.cost"
METRIC_REFUSALS: Final = "agentguard.refusals"
METRIC_TOOL_CALLS: Final = "agentguard.tool.calls"
METRIC_LLM_CALLS: Final = "agentguard.llm.calls"
METRIC_DECISIONS: Final = "agentguard.policy.decisions"
METRIC_SIGNALS: Final = "agentguard.signals"
RUN_DURATION_BUCKETS: Final = (
    0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
)  # fmt: skip

# label keys
LABEL_KIND: Final = "agentguard.tool.kind"
LABEL_OUTCOME: Final = "agentguard.outcome"
LABEL_AGENT: Final = GEN_AI_AGENT_NAME

# --- added by the OpenAI instrumentation ----------------------------------------------------------
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
PROVIDER_OPENAI: Final = "openai"
# token type label values of gen_ai.client.token.usage
TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"

# --- added by the policy engine -------------------------------------------------------------------
POLICY_MATCHED: Final = "agentguard.policy.matched"
"""Rules that matched the action besides the deciding ones."""
POLICY_NAME: Final = "agentguard.policy.name"
POLICY_FACTS: Final = "agentguard.policy.facts"
"""A short, redacted description of the normalised facts (commands, paths, hosts, opacity)."""
POLICY_FACTS_DIGEST: Final = "agentguard.policy.facts.digest"
"""A stable hash of the normalised facts: equal actions have equal digests."""
LABEL_RULE: Final = "agentguard.policy.rule"
"""Metric label: the first deciding rule id (``default`` when no rule matched)."""
APPROVAL_BY: Final = "agentguard.approval.by"
APPROVAL_WAIT_S: Final = "agentguard.approval.wait_s"
APPROVAL_SCOPE: Final = "agentguard.approval.scope"
APPROVAL_GRANT_ID: Final = "agentguard.approval.grant_id"
APPROVAL_GRANTED: Final = "agentguard.approval.granted"

# --- added by the detectors ---------------------------------------------------------------------
SIGNAL_CODE: Final = "agentguard.signal.code"
SIGNAL_CATEGORY: Final = "agentguard.signal.category"
"""Also a label of the ``agentguard.signals`` metric."""
SIGNAL_SEVERITY: Final = "agentguard.signal.severity"
"""Also a label of the ``agentguard.signals`` metric: info, low, medium, high, critical."""
SIGNAL_CONFIDENCE: Final = "agentguard.signal.confidence"
SIGNAL_MESSAGE: Final = "agentguard.signal.message"
SIGNAL_EVIDENCE: Final = "agentguard.signal.evidence"
"""A short, redacted excerpt of what the signal is about."""
SIGNAL_SPAN_IDS: Final = "agentguard.signal.evidence.span_ids"
"""Span ids of the evidence, the causing span first (hex)."""
SIGNAL_SOURCE: Final = "agentguard.signal.source"
"""``detector`` or ``judge``."""
# LLM-judge results (GenAI semantic conventions, evaluation event and attributes)
EVENT_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"

# approval wait, by whether the approver granted (seconds; the Grafana Approvals panel reads it)
METRIC_APPROVAL_WAIT: Final = "agentguard.approval.wait"
APPROVAL_WAIT_BUCKETS: Final = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)

# the fleet monitor (agentguard monitor): its metrics, its review span and their attributes
METRIC_MONITOR_SESSIONS: Final = "agentguard.monitor.sessions"
METRIC_MONITOR_LATENCY: Final = "agentguard.monitor.review.latency"
METRIC_MONITOR_COVERAGE: Final = "agentguard.monitor.coverage"
METRIC_MONITOR_FINDINGS: Final = "agentguard.monitor.findings"
"""New findings of the monitor's reviews, by signal category, severity and reviewer."""
MONITOR_STATE: Final = "agentguard.monitor.state"
"""``seen``, ``reviewed`` or ``judged`` (the sessions counter's one label)."""
SPAN_MONITOR_REVIEW: Final = "agentguard.monitor.review"
MONITOR_SESSION_ID: Final = "agentguard.monitor.session.id"
MONITOR_SPANS: Final = "agentguard.monitor.session.spans"
MONITOR_REVIEWER: Final = "agentguard.monitor.reviewer"
# fleet trends (gauges per agent and repository: the latest bucket with sessions)
METRIC_FLEET_PASS_RATE: Final = "agentguard.fleet.test.pass_rate"
METRIC_FLEET_SOURCE_SHARE: Final = "agentguard.fleet.change.source_share"
METRIC_FLEET_REFUSAL_RATE: Final = "agentguard.fleet.refusal.rate"
METRIC_FLEET_SESSION_COST: Final = "agentguard.fleet.session.cost"
METRIC_FLEET_DEFERRAL_RATE: Final = "agentguard.fleet.deferral.rate"
METRIC_FLEET_ESCALATION_RATE: Final = "agentguard.fleet.escalation.unapproved.rate"
METRIC_FLEET_SPIKES: Final = "agentguard.fleet.pass_rate_spikes"
VCS_REPOSITORY_NAME: Final = "vcs.repository.name"
"""``rules`` or the judge model's name."""
