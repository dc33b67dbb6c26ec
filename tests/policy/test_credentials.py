"""maestro.policy.credentials: detect-secrets' rules find credentials, and only credentials, in linear time."""

from __future__ import annotations

import re

import pytest

from maestro.policy import credentials
from maestro.policy.detect import Finding, detect, detect_tags

# Made-up but well-formed: each has the shape its issuer gives it (none is a live credential).
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
CREDENTIALS = [
    ("AKIAIOSFODNN7EXAMPLE", "AWSKeyDetector"),
    ("ASIAY34FZKBOKMUTVV7A", "AWSKeyDetector"),
    ("ghp_x7Kq2mP9vL4nR8tY1wE5zU3oI6aS0dF2gH4j", "GitHubTokenDetector"),
    ("gho_16C7e42F292c6912E7710c838347Ae178B4a", "GitHubTokenDetector"),
    ("glpat-Zx9Yw8Vu7Ts6Rq5Po4Nm", "GitLabTokenDetector"),
    ("xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "SlackDetector"),
    ("https://hooks.slack.com/services/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", "SlackDetector"),
    ("-----BEGIN RSA PRIVATE KEY-----", "PrivateKeyDetector"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "PrivateKeyDetector"),
    (JWT, "JwtTokenDetector"),
    ("postgres://admin:S3cretPassw0rd@db.internal.example.com:5432/app", "BasicAuthDetector"),
    ("mongodb://app:hunter2hunter2@mongo.example.net/prod", "BasicAuthDetector"),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "StripeDetector"),
    ("sk-proj01abcdefghijklmnopqrstT3BlbkFJabcdefghijklmnopqrst", "OpenAIDetector"),
    ("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", "SendGridDetector"),
    ("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1", "TelegramBotTokenDetector"),
    (
        "AccountKey=lJzRc1YdHaAA2KCNJJ1tkYwF/+mKK6Ygw0NGe170Xu592euJv2wYUtBlV8z+qnlcNQSnIYVTkLWntUO1F8j8rQ==",
        "AzureStorageKeyDetector",
    ),
    ('api_key = "q8Zr2Lw9Xk4Vt7Nb1Mc6Hd3Jf5Gs0Pa8Ye2Tu"', "Base64HighEntropyString"),
]

# Text that looks like a credential to a careless pattern, and is not one.
LOOK_ALIKES = [
    "the AKIA prefix marks long-term AWS keys",
    "AKIAIOSFODNN7EXAMPL is one character short",
    "tokens start with ghp_ or gho_",
    "ghp_tooShort123",
    "xoxb- tokens are bot tokens",
    "-----BEGIN PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----",
    "https://user@example.com/path has a user and no password",
    "https://example.com:8080/x",
    "eyJhbGciOi.not-json-at-all",
    "sk-test is a placeholder",
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "commit e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "id 550e8400-e29b-41d4-a716-446655440000",
    'name = "customer_support_reply_template"',
    "print('hello world')",
    "version = '2.14.3'",
    "alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef'",
    "password: <redacted>",
]


@pytest.mark.parametrize(("value", "plugin"), CREDENTIALS)
def test_a_credential_is_found_and_named_by_its_plugin(value: str, plugin: str) -> None:
    text = f"Here it is: {value} (do not share)"
    findings = [f for f in detect(text) if f.tag == "secret.credential"]
    assert [f.detector for f in findings] == [plugin]
    start = text.index(value)
    assert start <= findings[0].start < findings[0].end <= start + len(value)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_a_look_alike_is_not_a_credential(text: str) -> None:
    assert "secret.credential" not in detect_tags(text)


def test_a_finding_never_carries_the_credential() -> None:
    (finding,) = detect("key AKIAIOSFODNN7EXAMPLE")
    assert finding == Finding("secret.credential", 4, 24, "AWSKeyDetector")
    assert "AKIA" not in repr(finding)


def test_a_connection_string_is_a_credential_not_an_email_address() -> None:
    assert detect_tags("DATABASE_URL=postgres://admin:S3cretPassw0rd@db.example.com/app") == {"secret.credential"}


def test_personal_data_next_to_a_credential_is_still_found() -> None:
    text = "key AKIAIOSFODNN7EXAMPLE, mail jane@example.com, SSN 536-90-4399, card 4111 1111 1111 1111"
    assert detect_tags(text) == {"secret.credential", "pii.email", "pii.national-id", "pii.payment-card"}


def test_every_rule_runs_on_an_engine_that_keeps_the_scan_linear() -> None:
    assert {rule.engine for rule in credentials.RULES} <= {"re2", "re"}
    for rule in credentials.RULES:
        if rule.engine == "re":  # only patterns whose every repetition is bounded run on backtracking re
            assert isinstance(rule.matcher, re.Pattern)
            assert credentials.engine_for(rule.matcher) == "re"


def test_the_rules_come_from_every_plugin_and_what_is_left_out_is_listed() -> None:
    plugins = {rule.plugin for rule in credentials.RULES}
    assert plugins == {p.__name__ for p in credentials.PLUGINS} - {"IbmCloudIamDetector", "IbmCosHmacDetector"} | {
        "Base64HighEntropyString"
    }
    assert [entry.split(":")[0] for entry in credentials.LEFT_OUT] == [
        "CloudantDetector",
        "CloudantDetector",
        "IbmCloudIamDetector",
        "IbmCosHmacDetector",
        "SoftlayerDetector",
    ]


@pytest.mark.parametrize(
    ("pattern", "engine"),
    [
        (r"ghp_[A-Za-z0-9]{36}", "re2"),
        (r"eyJ[A-Za-z0-9]+\.[A-Za-z0-9]+", "re2"),  # unbounded, but RE2 never backtracks
        (r"glpat-[A-Za-z0-9]{20,50}(?!\w)", "re"),  # a look-ahead RE2 lacks, every repetition bounded
        (r"glagent-[A-Za-z0-9]{50,1024}", "re"),  # past RE2's largest counted repetition
        (r"(?<=\W)key( *)(=| +)( *)([a-z]{24})", None),  # a look-behind and unbounded: no engine keeps it linear
        (r"(['\"])([a-z]+)(\1)", None),
    ],
)
def test_engine_for_a_pattern(pattern: str, engine: str | None) -> None:
    assert credentials.engine_for(re.compile(pattern)) == engine


def test_a_quoted_string_too_short_for_the_entropy_limit_is_not_even_a_candidate() -> None:
    (rule,) = [rule for rule in credentials.RULES if rule.plugin == "Base64HighEntropyString"]
    assert list(rule.matcher.finditer("'abcdefghijklmnopqrstuv'")) == []  # 22 characters: at most 4.46 bits
    assert len(list(rule.matcher.finditer("'abcdefghijklmnopqrstuvw'"))) == 1
