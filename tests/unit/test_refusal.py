"""looks_like_refusal: real refusal phrasings fire, a coding agent's ordinary turns do not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentguard.telemetry import NEGATIONS, REFUSAL_VERBS, looks_like_refusal

REFUSALS = {
    "openai-canonical": "I'm sorry, but I can't help with that.",
    "openai-curly-apostrophe": "I can’t assist with that request.",
    "openai-curly-both": "I’m sorry, but I can’t help with that request.",
    "cannot-help-with-malware": "I cannot help with creating malware",
    "wont-be-able-to": "I won't be able to help with that",
    "as-an-ai-language-model": "As an AI language model, I cannot browse the internet or share opinions.",
    "not-able-to-provide-instructions": "I'm not able to provide instructions for making weapons.",
    "not-able-to-provide-that": "I'm not able to provide that.",
    "sorry-cant-comply": "Sorry, I can't comply with that request",
    "must-decline": "I must decline",
    "must-respectfully-decline": "I must respectfully decline to write that exploit.",
    "apologize-cannot-fulfill": "I apologize, but I cannot fulfill this request.",
    "apologize-cannot-provide-guidance": "I apologize, but I cannot provide guidance on illegal activities.",
    "llama-just-an-ai": "I cannot fulfill your request. I'm just an AI, it's not within my programming.",
    "llama-cant-satisfy": "I can't satisfy your request, I'm just an AI.",
    "gemini-only-a-language-model": "I'm not able to help with that, as I'm only a language model.",
    "gemini-text-based": "I'm a text-based AI and can't assist with that.",
    "unable-to-help-you": "I'm unable to help you with that.",
    "markdown-bold-apology": "**I'm sorry**, but I can't assist with that.",
    "cant-provide-information": "I can't provide information on how to make explosives.",
    "sorry-cant-do-that": "I'm sorry, I can't do that.",
    "anthropic-not-comfortable": "I don't feel comfortable writing that.",
    "anthropic-cant-help-you-hack": "I can't help you hack into someone's account.",
    "not-something-i-can-help-with": "That's not something I can help with.",
    "not-going-to-help": "I'm not going to help with that.",
    "second-sentence": "Thanks for asking. Unfortunately, I cannot assist with this request.",
    "request-violates-policy": "This request violates the usage policies, so I won't continue.",
    "uppercase": "I'M SORRY, BUT I CAN'T HELP WITH THAT.",
    "refuse-to": "I refuse to write ransomware.",
}

NOT_REFUSALS = {
    "cant-find-file": "I can't find the file src/x.py",
    "import-error": "cannot import name 'foo' from 'bar'",
    "cannot-reproduce": "I cannot reproduce the failure; the test passes",
    "cant-run-tests-will-install": (
        "Sorry, I can't run the tests because pytest is not installed — let me install it"
    ),
    "function-cant-handle": "The function can't handle None",
    "sorry-patch-was-wrong": "I'm sorry, the previous patch was wrong; here is the fix",
    "cant-help-but-notice": "I can't help but notice the test is flaky.",
    "cant-provide-output-timeout": "I can't provide the output because the command timed out.",
    "cant-help-without-trace": "I can't help debug this without the stack trace.",
    "wont-change-api": "I won't change the public API; only internals.",
    "cannot-support-python2": "I cannot support Python 2 here.",
    "cant-do-it-in-one-step": "I can't do it in one step, so I'll split the change.",
    "cant-access-network": "Sorry, I can't access the network from this sandbox.",
    "until-benchmark-finishes": "I can't give you the exact number until the benchmark finishes.",
    "couldnt-handle-case": "Here is the fix. The old code couldn't handle that case.",
    "help-until-logs": "I cannot help with that until you share the logs.",
    "permission-denied": "I can't write to /etc/hosts: permission denied.",
    "provide-without-schema": "I can't provide a full implementation without seeing the schema.",
    "wont-do-refactor": "I won't do that refactor now; it's out of scope.",
    "empty": "",
    "plain-answer": "Done. I updated the parser and all 42 tests pass.",
    "quoted-user-text": "The user wrote: please fix the bug where the app cannot start.",
    "declined-http": "The server declined the connection, so I retried with a backoff.",
    "auth-request": "The request to /login failed with 401; I'll check the token.",
    "refusal-after-window": "Here is the long analysis. "
    + "x" * 400
    + " I'm sorry, but I can't help with that.",
}


@pytest.mark.parametrize("text", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals_are_detected(text: str) -> None:
    assert looks_like_refusal(text) is True


@pytest.mark.parametrize("text", NOT_REFUSALS.values(), ids=NOT_REFUSALS.keys())
def test_ordinary_turns_are_not_refusals(text: str) -> None:
    assert looks_like_refusal(text) is False


@pytest.mark.parametrize("negation", NEGATIONS)
def test_every_listed_negation_with_help_reads_as_refusal(negation: str) -> None:
    assert looks_like_refusal(f"{negation} help with that.".capitalize())


@pytest.mark.parametrize("verb", REFUSAL_VERBS)
def test_every_listed_refusal_verb_reads_as_refusal(verb: str) -> None:
    assert looks_like_refusal(f"Sorry, I can't {verb} with this request.")


@given(st.text())
def test_never_raises_and_returns_bool(text: str) -> None:
    assert isinstance(looks_like_refusal(text), bool)


@given(st.text(alphabet=st.sampled_from(list("I'm sorry, but can't cannot help ’.!?\n*:;İ"))))
def test_never_raises_on_refusal_shaped_noise(text: str) -> None:
    assert isinstance(looks_like_refusal(text), bool)
