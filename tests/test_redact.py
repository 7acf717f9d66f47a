"""Secrets are removed from text before ridgeline stores or prints it."""

from __future__ import annotations

import pytest

from ridgeline.redact import MARKER, contains_secret, redact

SECRETS = [
    ("sk-ant-api03-Zq8vK2mN4pL7xR1tY6wB", "key sk-ant-api03-Zq8vK2mN4pL7xR1tY6wB in use"),
    ("sk-proj-4fG7hJ2kL9mN3pQ6rS8tU1vW", "OPENAI=sk-proj-4fG7hJ2kL9mN3pQ6rS8tU1vW"),
    ("ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
     "push with ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("AKIAIOSFODNN7EXAMPLE", "aws id AKIAIOSFODNN7EXAMPLE."),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N",
     "curl -H 'Authorization: Bearer "
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N'"),
    ("opaque-token-value-123", "Authorization: Bearer opaque-token-value-123"),
    ("hunter2hunter2", "mysql --password=hunter2hunter2 db"),
    ("s3cr3t-Value", 'config = {"password": "s3cr3t-Value"}'),
    ("s3cr3t-Value", '{\\"api_key\\": \\"s3cr3t-Value\\"}'),
    ("xyzzy-plugh-42", "DATABASE_SECRET=xyzzy-plugh-42"),
    ("abc123def456", "export STRIPE_API_KEY='abc123def456'"),
    ("MIIEowIBAAKCAQEA", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nxyz\n"
                          "-----END RSA PRIVATE KEY-----"),
    ("MIIEowIBAAKCAQEA", "cut off: -----BEGIN OPENSSH PRIVATE KEY-----\nMIIEowIBAAKCAQEA"),
]


@pytest.mark.parametrize(("secret", "text"), SECRETS)
def test_secret_is_redacted(secret, text):
    cleaned = redact(text)

    assert secret not in cleaned
    assert MARKER in cleaned
    assert contains_secret(text)


@pytest.mark.parametrize(("secret", "text"), SECRETS)
def test_redact_is_idempotent(secret, text):
    once = redact(text)

    assert redact(once) == once


@pytest.mark.parametrize("text", [
    "tok_per_sec: 193.1",
    "input_tokens=4096 output_tokens: 120",
    "the token embedding and a basic implementation",
    "password=${DB_PASSWORD}",
    "ridgeline record --version gpu_v10 --metric tok_per_sec=72.1",
    "git reset --hard HEAD~2",
    "author=Ada tokenizer=gpt2 secretary=Jane",
    "PWD=/home/me/project",
    "def check(token: str, tokens: list[Token]) -> bool:",
    "if token:\n    return None",
    "continuation_token = request.get('next')",
    "",
])
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text


def test_label_is_kept_so_a_reader_sees_a_secret_was_there():
    assert redact("password=hunter2hunter2") == "password=[REDACTED]"
