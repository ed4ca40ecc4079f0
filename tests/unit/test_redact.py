"""redact: secrets of every supported kind go, their context and ordinary code stay."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentguard.telemetry import REDACTED, redact

R = REDACTED
OPENAI_KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUvWxYz012345"
ANTHROPIC_KEY = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGH"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEAq7BFUpkGp3+LQmlQ\nYx9s0n2VbX\n"
    "-----END RSA PRIVATE KEY-----"
)

REDACTIONS = {
    # provider keys, in running text
    "openai-legacy": ("key sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL ok", f"key {R} ok"),
    "openai-project": (f"use {OPENAI_KEY}.", f"use {R}."),
    "anthropic": (f"x-api-key {ANTHROPIC_KEY}", f"x-api-key {R}"),
    "aws-access-key-id": ("id=AKIAIOSFODNN7EXAMPLE,", f"id={R},"),
    "aws-secret-in-config": (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        f"aws_secret_access_key = {R}",
    ),
    "github-classic": ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", f"token {R}"),
    "github-oauth": ("gho_16C7e42F292c6912E7710c838347Ae178B4a", R),
    "github-app": ("ghs_16C7e42F292c6912E7710c838347Ae178B4a!", f"{R}!"),
    "github-fine-grained": ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123", R),
    "slack-bot": ("xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx", R),
    "slack-user": ("xoxp-123456789012-1234567890123-1234567890123-abcdef", R),
    "google-api-key": ("key=AIzaSyA1234567890abcdefghijklmnopqrstuv&q=x", f"key={R}&q=x"),
    "stripe-live": ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", R),
    "stripe-restricted": ("rk_live_abcdefghij1234567890", R),
    "jwt": (f"session {JWT} expired", f"session {R} expired"),
    # context
    "bearer-header": ("Authorization: Bearer abc.def-123456789", f"Authorization: Bearer {R}"),
    "bearer-curl": (
        "curl -H 'Authorization: Bearer tok_live_1234abcd' https://api.example.com",
        f"curl -H 'Authorization: Bearer {R}' https://api.example.com",
    ),
    "basic-header": ("Authorization: Basic dXNlcjpwYXNz", f"Authorization: Basic {R}"),
    "header-in-json": ('{"Authorization": "Bearer abcdef"}', f'{{"Authorization": "Bearer {R}"}}'),
    "bearer-alone": ("sent Bearer 9f8e7d6c5b4a39281706 upstream", f"sent Bearer {R} upstream"),
    "url-basic-auth": ("https://user:pass@host/x", f"https://user:{R}@host/x"),
    "git-clone-url": (
        "git clone https://bot:hunter2@github.com/x/y.git",
        f"git clone https://bot:{R}@github.com/x/y.git",
    ),
    "database-url": (
        "DATABASE_URL=postgres://admin:s3cr3t@db.example.com:5432/app",
        f"DATABASE_URL=postgres://admin:{R}@db.example.com:5432/app",
    ),
    "pem-block": (f"key:\n{PEM}\ndone", f"key:\n{R}\ndone"),
    "pem-openssh": (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----",
        R,
    ),
    "pem-unterminated": ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC", R),
    # env files and shell
    "env-openai": (f"OPENAI_API_KEY={OPENAI_KEY}", f"OPENAI_API_KEY={R}"),
    "env-export": ("export GITHUB_TOKEN=abc123def456", f"export GITHUB_TOKEN={R}"),
    "env-quoted": ('DB_PASSWORD="correct horse battery"', f'DB_PASSWORD="{R}"'),
    "env-plain-word-password": ("DB_PASSWORD=hunter", f"DB_PASSWORD={R}"),
    "env-lines": (
        "DEBUG=true\nSECRET_KEY=django-insecure-x\nPORT=8000",
        f"DEBUG=true\nSECRET_KEY={R}\nPORT=8000",
    ),
    "env-dsn": ("SENTRY_DSN=https://abc123@o1.ingest.sentry.io/1", f"SENTRY_DSN={R}"),
    "env-credentials": ("GOOGLE_CREDENTIALS=/secrets/sa.json", f"GOOGLE_CREDENTIALS={R}"),
    "yaml": ("db:\n  password: hunter2\n  user: app", f"db:\n  password: {R}\n  user: app"),
    "yaml-colon-env": ("SECRET_KEY: abc", f"SECRET_KEY: {R}"),
    "http-header-api-key": ("x-api-key: 0123abcd4567", f"x-api-key: {R}"),
    "cli-flags": ("--password=hunter2 --api-key=abcdef12345", f"--password={R} --api-key={R}"),
    "query-string": ("GET /v1?api_key=abc123def&x=1", f"GET /v1?api_key={R}&x=1"),
    # JSON and code literals
    "json": ('{"api_key": "abc123", "model": "gpt-4o"}', f'{{"api_key": "{R}", "model": "gpt-4o"}}'),
    "json-compact": ('{"api_key":"abc123","max_tokens":1024}', f'{{"api_key":"{R}","max_tokens":1024}}'),
    "json-in-json-string": (
        json.dumps({"text": json.dumps({"password": "hunter2"})}),
        json.dumps({"text": json.dumps({"password": R})}),
    ),
    "env-file-in-json-string": (
        json.dumps("DB_PASSWORD=hunter2\nDEBUG=1"),
        json.dumps(f"DB_PASSWORD={R}\nDEBUG=1"),
    ),
    "python-literal": ("client_secret = 'ohno'", f"client_secret = '{R}'"),
    "python-kwarg": ('connect(password="hunter2", user="app")', f'connect(password="{R}", user="app")'),
    "weak-name-generated-value": ('{"token": "a1b2c3d4e5f6"}', f'{{"token": "{R}"}}'),
    # command lines
    "curl-user-pass": ("curl -u deploy:s3cretPass https://x", f"curl -u deploy:{R} https://x"),
    "curl-user-quoted": ("curl --user 'deploy:s3cret' https://x", f"curl --user 'deploy:{R}' https://x"),
    "curl-user-equals": ("curl --user=deploy:s3cret x", f"curl --user=deploy:{R} x"),
    "curl-proxy-user": ("curl --proxy-user me:pw123 x", f"curl --proxy-user me:{R} x"),
    "mysql-glued-password": ("mysql -u root -phunter2 app", f"mysql -u root -p{R} app"),
    "password-flag-spaced": ("psql --password hunter2 -h db", f"psql --password {R} -h db"),
    "api-key-flag-spaced": ("tool --api-key 'abc def' run", f"tool --api-key '{R}' run"),
    "aws-configure-set": (
        "aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        f"aws configure set aws_secret_access_key {R}",
    ),
    "npm-auth-token": (
        "npm config set //registry.npmjs.org/:_authToken npm_AbCdEf0123456789abcdef0123456789abcd",
        f"npm config set //registry.npmjs.org/:_authToken {R}",
    ),
    "aws-pair-bare": (
        "creds AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        f"creds {R} {R}",
    ),
    "aws-pair-other-name": (
        "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nexport S=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        f"export AWS_ACCESS_KEY_ID={R}\nexport S={R}",
    ),
    "header-flag": ("curl -H 'X-Api-Key: abc123def456' x", f"curl -H 'X-Api-Key: {R}' x"),
    "aws-pair-after-earlier-redaction": (
        f"login {R} wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        f"login {R} {R}",
    ),
    "generated-value-after-colon": ("client_secret: XaLIlebDHqw7BR32FQXZ}", f"client_secret: {R}}}"),
}

KEPT = {
    "dict-key": "key = dict_key",
    "form-field": "password_field = forms.CharField()",
    "token-count": "token_count=5",
    "max-tokens": "max_tokens = 4096",
    "usage-json": '{"prompt_tokens": 1234, "completion_tokens": 56, "total_tokens": 1290}',
    "annotation": "def login(password: str, token: Token) -> None:",
    "dataclass-field": "    private_key: RSAPrivateKey",
    "prose-password": "Password: the one you set earlier",
    "header-dict-var": "headers = {'X-Api-Key': api_key}",
    "comparison": "if token == 'abc': pass",
    "self-assign": "self.password = password",
    "environ-lookup": "password = os.environ['DB_PASSWORD']",
    "env-reference": "API_KEY=${OPENAI_API_KEY}",
    "placeholder": "api_key = '<your-api-key>'",
    "masked": 'password: "********"',
    "empty": 'SECRET_KEY=""',
    "shell-pwd": "PWD=/home/user\nOLDPWD=/tmp",
    "author": "author = 'Jane Doe'",
    "keyboard": "KEYBOARD_LAYOUT=us",
    "sklearn-prose": "an sk-learn-compatible-estimators-module",
    "dict-comprehension": "{key: validate(key, value) for key, value in items}",
    "bearer-prose": "Bearer authentication sends a token in a header.",
    "url-with-port": "http://localhost:8080/path@v1",
    "url-user-only": "ssh://git@github.com/x/y.git",
    "weak-name-word": '{"key": "user_settings", "token": "Hello"}',
    "sort-key": "items.sort(key=lambda item: item.name)",
    "already-redacted": f"OPENAI_API_KEY={R} and Authorization: Bearer {R}",
    "plain-text": "The quick brown fox jumps over the lazy dog.",
    "non-ascii": "İstanbul key: değer — ключ = значение",
    "password-file-flag": "tool --password-file /run/secrets/db",
    "password-from-env": "tool --password $DB_PASSWORD",
    "prose-password-word": "the password is set by the admin",
    "weak-word-then-value": "the token refresh2024 failed",
    "unpaired-40-chars": "sha a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 is the commit",
    "user-flag-no-colon": "useradd -u 1001 builder",
    "unrelated-p-flag": "mkdir -p build/out",
}


@pytest.mark.parametrize(("text", "expected"), REDACTIONS.values(), ids=REDACTIONS.keys())
def test_secrets_are_redacted_and_context_kept(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", KEPT.values(), ids=KEPT.keys())
def test_ordinary_text_and_code_are_kept(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(("text", "_"), REDACTIONS.values(), ids=REDACTIONS.keys())
def test_redaction_is_idempotent_on_examples(text: str, _: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_large_benign_text_is_returned_as_is() -> None:
    text = "def add(a, b):\n    return a + b  # no secrets here\n" * 2_000
    assert redact(text) is text


def test_secret_deep_in_large_text_is_found() -> None:
    filler = "lorem ipsum dolor sit amet " * 2_000
    assert redact(f"{filler}{OPENAI_KEY} {filler}") == f"{filler}{R} {filler}"


_secretish = st.sampled_from(
    [OPENAI_KEY, ANTHROPIC_KEY, JWT, PEM, "AKIAIOSFODNN7EXAMPLE", "Bearer ", "Authorization: ",
     "password", "api_key", "TOKEN", "=", ": ", '"', "'", "\\", "\\n", "\n", "://", "user:", "@",
     "[REDACTED]", "-----BEGIN", "${", "}", "İ", "k_live_", "xoxb-", "ghp_", "abc123", " "]
)  # fmt: skip


@given(st.text())
def test_never_raises_and_is_idempotent_on_any_text(text: str) -> None:
    once = redact(text)
    assert isinstance(once, str)
    assert redact(once) == once


@settings(max_examples=500)
@given(st.lists(st.one_of(_secretish, st.text(max_size=5)), max_size=12).map("".join))
def test_never_raises_and_is_idempotent_on_secret_shaped_text(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
