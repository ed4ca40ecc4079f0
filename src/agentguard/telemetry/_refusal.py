"""Refusal detection: API signals first, then a conservative phrase check.

The API signals (``message.refusal``, ``finish_reason == "content_filter"``, Responses API ``refusal``
parts) are read by the instrumentation; this module holds the last resort, a phrase check on the
text of an assistant turn that made no tool calls:

>>> looks_like_refusal("I'm sorry, but I can't help with that.")
True
>>> looks_like_refusal("I can't find the file src/x.py; let me search for it.")
False

Conservative by design: a refusal is a signal to count, and a coding agent's turns are full of
"can't" and "sorry" that are not refusals. A turn counts only when, at the start of one of its first
sentences (the first ~300 characters), the model says it will not or cannot *help/assist/comply*
(or *provide/write/share ...* followed by ``that``, ``this``, ``information``, ``instructions`` ...),
or uses a phrase that only refusals use ("I must decline", "As an AI language model, I cannot").
A sentence that names a practical obstacle ("without access", "until", "not installed") is not a
refusal. The phrase lists below are data; extend them with a test case for each new phrasing.

Speed (loaded 2-core CI box, CPython 3.11): ~1-3 µs for a turn without any candidate word (a few
``in`` checks on the lowercased first 300 characters), ~5 µs for a coding turn with "can't", ~17 µs
for an actual refusal (the phrase regex runs only on sentences holding a candidate word).
"""

from __future__ import annotations

import re
from typing import Final, Literal

from .._lazyre import lazy_compile

__all__ = ["RefusalSource", "looks_like_refusal"]

RefusalSource = Literal["api", "content_filter", "text"]

# -- the phrase lists --------------------------------------------------------------------------------
# Sources: the canned refusals of the main chat models as seen in their outputs and model cards
# (OpenAI "I'm sorry, but I can't help with that." / "I can't assist with that request."; Anthropic
# "I can't help with ...", "I don't feel comfortable ...", "I won't ..."; Llama 2/3 "I cannot fulfill
# your request. I'm just an AI ..."; Gemini "I'm not able to help with that, as I'm only a language
# model."), and the refusal-prefix lists used to score jailbreak benchmarks (the ``test_prefixes`` of
# llm-attacks/GCG, Zou et al. 2023; HarmBench and StrongREJECT refusal matchers), trimmed to the
# phrasings that do not also open ordinary coding answers ("I cannot", "Sorry" alone are dropped).
# Text is lowercased and curly apostrophes are straightened before matching.

# Words that may open the refusal sentence before the rest: "Actually, I can't help with that."
FILLERS: Final = ("actually", "however", "but", "well", "honestly", "again", "sadly", "so")
# An optional apology before the refusal: "I'm sorry, but", "Unfortunately,", "I apologize, however,".
APOLOGIES: Final = (
    "i'm sorry",
    "i am sorry",
    "i'm really sorry",
    "i am really sorry",
    "i'm very sorry",
    "sorry",
    "i apologize",
    "i apologise",
    "my apologies",
    "apologies",
    "unfortunately",
    "i'm afraid",
    "i am afraid",
    "regrettably",
)
# The speaker saying it cannot or will not act.
NEGATIONS: Final = (
    "i can't",
    "i cannot",
    "i can not",
    "i won't",
    "i will not",
    "i'm unable to",
    "i am unable to",
    "i'm not able to",
    "i am not able to",
    "i won't be able to",
    "i will not be able to",
    "i wouldn't be able to",
    "i'm not going to",
    "i am not going to",
    "i'm not allowed to",
    "i am not allowed to",
    "i'm not permitted to",
    "i am not permitted to",
    "i'm not in a position to",
    "i am not in a position to",
    "i'd rather not",
    "i would rather not",
    "i'd prefer not to",
    "i would prefer not to",
    "i must not",
    "i shouldn't",
    "i should not",
)
# Verbs that make "I can't <verb>" a refusal on their own ("I can't help with that").
REFUSAL_VERBS: Final = (
    "help",
    "assist",
    "comply",
    "fulfill",
    "fulfil",
    "honor",
    "honour",
    "engage",
    "participate",
    "facilitate",
    "condone",
    "endorse",
    "encourage",
    "promote",
    "be of assistance",
    "be of help",
    "be a part of",
    "support this",
    "support that",
    "support your request",
    "satisfy your request",
    "satisfy this request",
    "satisfy that request",
)
# Verbs that are a refusal only with a refusal-shaped object ("I can't provide that information").
CONTENT_VERBS: Final = (
    "provide",
    "give",
    "share",
    "create",
    "write",
    "generate",
    "produce",
    "offer",
    "answer",
    "discuss",
    "draft",
    "tell",
    "explain",
    "describe",
    "continue with",
    "respond to",
    "go along with",
)
OBJECTS: Final = (
    "that",
    "this",
    "those",
    "these",
    "such",
    "any",
    "anything",
    "what you're asking",
    "what you are asking",
    "your request",
    "this request",
    "that request",
    "content",
    "information",
    "instructions",
    "guidance",
    "assistance",
    "advice",
    "details",
    "help",
    "support",
    "a response",
    "an answer",
    "you with",
    "you any",
    "you that",
    "you this",
    "you information",
    "you instructions",
    "you details",
    "on how",
    "how to",
)
# Phrases that only refusals use; they count at the start of any of the first sentences.
REFUSAL_PHRASES: Final = (
    r"as an ai(?: language model| model| assistant)?,? i (?:cannot|can't|can not|am unable|'m unable"
    r"|am not able|'m not able|won't|will not|must|don't|do not)",
    r"as a (?:large )?language model,? i",
    r"i(?: must| have to|'ll have to| will have to| need to|'m going to| am going to| will)?"
    r"(?: respectfully| politely)? decline",
    r"i refuse to",
    r"i (?:don't|do not) feel comfortable",
    r"i'm not comfortable (?:with|helping|providing|writing|creating|generating|assisting|sharing)",
    r"i am not comfortable (?:with|helping|providing|writing|creating|generating|assisting|sharing)",
    r"(?:that|this|it)(?:'s| is) not something i (?:can|will|am able to|'m able to|'m willing to)"
    r" (?:help|assist|do|provide)",
    r"i'm (?:just|only) an ai\b",
    r"i am (?:just|only) an ai\b",
    r"i'm (?:just|only) a (?:large )?language model",
    r"i'm a text-based ai",
    r"it(?:'s| is) not within my programming",
    r"(?:this|that|your) request (?:violates|goes against|is against)",
)
# A sentence that names a practical obstacle is an agent reporting a problem, not refusing.
OBSTACLES: Final = (
    "without",
    "until",
    "unless",
    "not installed",
    "isn't installed",
    "in this environment",
    "in this sandbox",
    "from here",
    "don't have access",
    "do not have access",
    "no access",
    "permission",
    "offline",
    "let me",
    "i'll try",
    "i will try",
)


def _alternation(words: tuple[str, ...]) -> str:
    # Longest first, so "i won't be able to" wins over "i won't".
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


_CORE: Final = (
    rf"(?:(?:{_alternation(FILLERS)})[,]?\s+)?"
    rf"(?:(?:{_alternation(APOLOGIES)})[*_,.!]*\s+(?:but\s+|however,?\s+|though,?\s+)?)?"
    rf"(?:{_alternation(NEGATIONS)})\s+"
    rf"(?:(?:{_alternation(REFUSAL_VERBS)})\b(?!\s+(?:but|thinking|noticing|wondering|feeling)\b)"
    rf"|(?:{_alternation(CONTENT_VERBS)})\s+(?:{_alternation(OBJECTS)})\b"
    r"|do\s+(?:that|this|so)(?:\s+for\s+you)?\s*$)"
    rf"|(?:{'|'.join(REFUSAL_PHRASES)})"
)
# Matched at the start of a sentence (after markdown or quote markers).
_REFUSAL: Final = lazy_compile(rf"[\s*_>\"'#-]*(?:{_CORE})")
# Every phrase above contains one of these words: a text without any is skipped by a few substring
# checks, and only the sentences holding one are matched. (One alternation regex with word
# boundaries is ~50x slower than these ``in`` checks in CPython's ``re``.)
KEYWORDS: Final = (
    "n't",
    "not",
    "cannot",
    "unable",
    "declin",
    "refus",
    "comfortable",
    "an ai",
    "language model",
    "text-based",
    "request",
)
_CANDIDATE: Final = lazy_compile("|".join(re.escape(k) for k in KEYWORDS))
_SENTENCE_END: Final = lazy_compile(r"[.!?;:\n]")
_BOUNDARIES: Final = ".!?;:\n"
_OBSTACLE: Final = lazy_compile(rf"\b(?:{_alternation(OBSTACLES)})\b")
WINDOW: Final = 300


def looks_like_refusal(text: str) -> bool:
    """True when ``text`` (a whole assistant turn without tool calls) reads as a refusal."""
    head = text[:WINDOW].lower()
    if "\u2019" in head:  # curly apostrophe, as in "I can\u2019t"
        head = head.replace("\u2019", "'")
    for keyword in KEYWORDS:
        if keyword in head:
            break
    else:
        return False
    last_start = -1
    for candidate in _CANDIDATE.finditer(head):
        at = candidate.start()
        start = max([head.rfind(mark, 0, at) for mark in _BOUNDARIES]) + 1
        if start == last_start:
            continue  # this sentence was already examined
        last_start = start
        end_match = _SENTENCE_END.search(head, at)
        sentence = head[start : end_match.start() if end_match else len(head)]
        if _REFUSAL.match(sentence) and not _OBSTACLE.search(sentence):
            return True
    return False
