"""maestro.policy.detect: each tag found where it is, and nowhere it is not."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.errors import UsageError
from maestro.policy.detect import (
    DETECTORS,
    Finding,
    Limits,
    PhoneDetector,
    ScanLimitExceeded,
    detect,
    detect_messages,
    detect_tags,
    detectable_tags,
)

POSITIVE = [
    # e-mail
    ("pii.email", "jane.doe@example.com", "email"),
    ("pii.email", "jane.doe+billing@example.co.uk", "email"),
    ("pii.email", "o'brien_2@mail.example.ie", "email"),
    ("pii.email", "müller@bücher.de", "email"),
    ("pii.email", "ops@corp.internal", "email"),
    # IP addresses
    ("pii.ip-address", "192.168.10.24", "ipv4"),
    ("pii.ip-address", "8.8.8.8", "ipv4"),
    ("pii.ip-address", "2001:db8::8a2e:370:7334", "ipv6"),
    ("pii.ip-address", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ipv6"),
    ("pii.ip-address", "fe80::1", "ipv6"),
    ("pii.ip-address", "::ffff:192.0.2.1", "ipv6"),
    # IBANs, printed and compact
    ("pii.iban", "DE89 3704 0044 0532 0130 00", "iban"),
    ("pii.iban", "DE89370400440532013000", "iban"),
    ("pii.iban", "GB82 WEST 1234 5698 7654 32", "iban"),
    ("pii.iban", "FR14 2004 1010 0505 0001 3M02 606", "iban"),
    ("pii.iban", "NL91ABNA0417164300", "iban"),
    # payment cards (the networks' published test numbers)
    ("pii.payment-card", "4111 1111 1111 1111", "payment-card"),
    ("pii.payment-card", "4111111111111111", "payment-card"),
    ("pii.payment-card", "5555-5555-5555-4444", "payment-card"),
    ("pii.payment-card", "3782 822463 10005", "payment-card"),
    ("pii.payment-card", "6011 1111 1111 1117", "payment-card"),
    ("pii.payment-card", "2223 0031 2200 3222", "payment-card"),
    # national identifiers with valid check digits
    ("pii.national-id", "536-90-4399", "us.ssn"),
    ("pii.national-id", "36 574 261 809", "de.idnr"),
    ("pii.national-id", "36574261809", "de.idnr"),
    ("pii.national-id", "44051401359", "pl.pesel"),
    ("pii.national-id", "2 95 10 99 126 111 93", "fr.nir"),
    ("pii.national-id", "54362315-K", "es.dni"),
    ("pii.national-id", "X2482300W", "es.nie"),
    ("pii.national-id", "RCCMNL83S18D969H", "it.codicefiscale"),
    ("pii.national-id", "1112.22.333", "nl.bsn"),
    ("pii.national-id", "880320-0016", "se.personnummer"),
    ("pii.national-id", "131052-308T", "fi.hetu"),
    ("pii.national-id", "756.9217.0769.85", "ch.ssn"),
    ("pii.national-id", "390.533.447-05", "br.cpf"),
    ("pii.national-id", "AB 12 34 56 C", "gb.nino"),
    ("pii.national-id", "AB123456C", "gb.nino"),
    # telephone numbers, international and national
    ("pii.phone", "+44 20 7946 0958", "phone"),
    ("pii.phone", "+1 (212) 555-0123", "phone"),
    ("pii.phone", "+49 30 12345678", "phone"),
    ("pii.phone", "+4930123456", "phone"),
    ("pii.phone", "0049 30 12345678", "phone"),
    ("pii.phone", "+33 1 42 68 53 00", "phone"),
    ("pii.phone", "+39 347 1234567", "phone"),
    ("pii.phone", "(212) 555-0123", "phone"),
    ("pii.phone", "212-555-0123", "phone"),
    ("pii.phone", "212.555.0123", "phone"),
    ("pii.phone", "1-800-555-0199", "phone"),
    ("pii.phone", "020 7946 0958", "phone"),
    ("pii.phone", "030 12345678", "phone"),
    ("pii.phone", "030/12345678", "phone"),
    ("pii.phone", "01 42 68 53 00", "phone"),
]

NEGATIVE = [
    # the same digits with one changed, or a scheme's known-invalid number
    ("pii.payment-card", "4111 1111 1111 1112"),
    ("pii.payment-card", "5555-5555-5555-4445"),
    ("pii.payment-card", "9111 1111 1111 1115"),  # Luhn-valid, but no issuer starts with 9
    ("pii.iban", "DE89 3704 0044 0532 0130 01"),
    ("pii.iban", "XX89 3704 0044 0532 0130 00"),
    ("pii.national-id", "078-05-1120"),  # the Woolworth wallet number, never valid
    ("pii.national-id", "000-12-3456"),
    ("pii.national-id", "36574261800"),
    ("pii.national-id", "44051401358"),
    ("pii.national-id", "2 95 10 99 126 111 94"),
    ("pii.national-id", "54362315-Z"),
    ("pii.national-id", "X2482300A"),
    ("pii.national-id", "RCCMNL83S18D969A"),
    ("pii.national-id", "1112.22.334"),
    ("pii.national-id", "880320-0017"),
    ("pii.national-id", "131052-308U"),
    ("pii.national-id", "756.9217.0769.84"),
    ("pii.national-id", "390.533.447-06"),
    ("pii.national-id", "QQ 12 34 56 C"),
    ("pii.national-id", "GB123456A"),
    # not addresses
    ("pii.email", "lodash@4.17.21"),
    ("pii.email", "@decorator"),
    ("pii.email", "user@localhost"),
    ("pii.email", "logo@2x.png"),
    ("pii.ip-address", "127.0.0.1"),
    ("pii.ip-address", "0.0.0.0"),
    ("pii.ip-address", "999.1.1.1"),
    ("pii.ip-address", "version 2.14.3"),
    ("pii.ip-address", "::1"),
    ("pii.ip-address", "std::vector<int>"),
    ("pii.ip-address", "xs[::2]"),
    ("pii.ip-address", "ys[1::3]"),
    ("pii.ip-address", "at 14:00:00"),
    ("pii.ip-address", "MAC 00:1a:2b:3c:4d:5e"),
]

# Order numbers, dates, prices and versions: never a telephone number or a payment card.
NOT_PHONE_OR_CARD = [
    "Order 1234567890",
    "order #2125550123",
    "order 4500012345678",
    "invoice 2024-000123",
    "SKU 4400-1234-9987",
    "ticket 48213",
    "2024-03-15",
    "2024/03/15",
    "15.03.2024",
    "03/15/2024 14:00",
    "$1,299.99",
    "4,532.10 EUR",
    "EUR 1.299.000,00",
    "version 2.14.3",
    "v10.2.1",
    "build 20240315.1",
    "ZIP 90210-1234",
    "ISBN 978-3-16-148410-0",
    "timestamp 1710495720",
    "error 0x80070005",
    "pages 120-135",
    "10 000 000 units",
    "phone 555-1234",
    "call 123-456-7890",
    "CVE-2024-12345",
]

# Identifiers and snippets from code and logs: no personal data in them.
NOTHING_PERSONAL = [
    "id 550e8400-e29b-41d4-a716-446655440000",
    "commit e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "at 2024-03-15T09:42:00Z",
    "semver 1.2.3-beta.4",
    "listen on 127.0.0.1:8080 and 0.0.0.0:443",
    "mask 0xdeadbeef",
    "std::vector<int> v; auto x = a::b::c;",
    "lat 52.520008, lon 13.404954",
    "pi = 3.14159265358979323846",
    "isbn 9783161484100",
    "Dimensions 1920x1080",
    "@app.route('/users/<int:user_id>')",
]


@pytest.mark.parametrize(("tag", "value", "detector"), POSITIVE)
def test_a_valid_value_is_found_where_it_is(tag: str, value: str, detector: str) -> None:
    text = f"Please check {value} before Friday."
    start = text.index(value)
    assert detect(text) == (Finding(tag, start, start + len(value), detector),)


@pytest.mark.parametrize(("tag", "value", "detector"), POSITIVE)
def test_a_value_is_found_at_either_end_of_the_text(tag: str, value: str, detector: str) -> None:
    assert detect_tags(value) == {tag}
    assert detect_tags(f"({value})") == {tag}


@pytest.mark.parametrize(("tag", "value"), NEGATIVE)
def test_an_invalid_value_is_not_tagged(tag: str, value: str) -> None:
    assert tag not in detect_tags(f"Please check {value} before Friday.")


@pytest.mark.parametrize("text", NOT_PHONE_OR_CARD)
def test_numbers_that_are_not_personal_are_not_tagged(text: str) -> None:
    assert detect_tags(f"See {text} in the report.") == frozenset()


@pytest.mark.parametrize("text", NOTHING_PERSONAL)
def test_code_and_log_identifiers_are_not_tagged(text: str) -> None:
    assert detect(text) == ()


@pytest.mark.parametrize(
    ("text", "tag", "value"),
    [
        ("card 4111 1111 1111 1111 12/27", "pii.payment-card", "4111 1111 1111 1111"),
        ("IBAN DE89 3704 0044 0532 0130 00 EUR", "pii.iban", "DE89 3704 0044 0532 0130 00"),
        ("call +44 20 7946 0958 12 times", "pii.phone", "+44 20 7946 0958"),
        ("flight LH45 DE89 3704 0044 0532 0130 00", "pii.iban", "DE89 3704 0044 0532 0130 00"),
        ("ref 1234 4111 1111 1111 1111", "pii.payment-card", "4111 1111 1111 1111"),
    ],
)
def test_a_group_next_to_a_value_is_left_out_of_it(text: str, tag: str, value: str) -> None:
    start = text.index(value)
    assert [(f.tag, f.start, f.end) for f in detect(text)] == [(tag, start, start + len(value))]


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("192.168.10.24", "pii.ip-address"),  # not also a telephone number
        ("536-90-4399", "pii.national-id"),  # not also a German telephone number
        ("4111 1111 1111 1111", "pii.payment-card"),  # not also a telephone number
        ("jane.4111111111111111@example.com", "pii.email"),  # the digits are part of the address
    ],
)
def test_overlapping_candidates_go_to_the_earlier_detector(value: str, tag: str) -> None:
    assert detect_tags(f"from {value} today") == {tag}


def test_a_text_with_several_kinds_yields_them_all_in_order() -> None:
    text = "Mail jane@example.com or call +44 20 7946 0958; card 4111111111111111, SSN 536-90-4399, IP 10.1.2.3."
    findings = detect(text)
    assert [f.tag for f in findings] == [
        "pii.email",
        "pii.phone",
        "pii.payment-card",
        "pii.national-id",
        "pii.ip-address",
    ]
    assert [f.start for f in findings] == sorted(f.start for f in findings)


def test_a_finding_carries_offsets_and_never_the_text() -> None:
    text = "card 4111 1111 1111 1111"
    (finding,) = detect(text)
    assert [field.name for field in dataclasses.fields(Finding)] == ["tag", "start", "end", "detector"]
    assert text[finding.start : finding.end] == "4111 1111 1111 1111"
    assert "4111" not in repr(finding)


def test_text_without_digits_or_at_signs_has_no_findings() -> None:
    assert detect("The quick brown fox jumps over the lazy dog. " * 40) == ()


def test_detect_messages_reads_string_content_text_parts_and_tool_arguments() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Write to jane@example.com"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "My card is 4111 1111 1111 1111"},
                {"type": "image_url", "image_url": {"url": "https://example.com/192.168.0.7.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "1", "type": "function", "function": {"name": "call", "arguments": '{"to": "+44 20 7946 0958"}'}}
            ],
        },
    ]
    assert detect_messages(messages) == {"pii.email", "pii.payment-card", "pii.phone"}


def test_detect_messages_reads_the_older_function_call_and_skips_malformed_calls() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "assistant", "function_call": {"name": "mail", "arguments": '{"to": "jane@example.com"}'}},
        {"role": "assistant", "tool_calls": ["not a call", {"function": "not a function"}, {"function": {}}]},
    ]
    assert detect_messages(messages) == {"pii.email"}


def test_detect_messages_does_not_join_parts() -> None:
    parts = [{"type": "text", "text": "4111 1111"}, {"type": "text", "text": "1111 1111"}]
    assert detect_messages([{"role": "user", "content": parts}]) == frozenset()


def test_detect_messages_of_nothing_is_nothing() -> None:
    assert detect_messages([]) == frozenset()
    assert detect_messages([{"role": "user"}, {"role": "user", "content": [{"type": "text"}]}]) == frozenset()


def test_detectable_tags_are_the_taxonomy_tags_a_pattern_can_find() -> None:
    assert detectable_tags() == {
        "pii.email",
        "pii.phone",
        "pii.payment-card",
        "pii.iban",
        "pii.national-id",
        "pii.ip-address",
        "secret.credential",
    }


def test_a_detector_registry_can_be_narrowed() -> None:
    only_email = {"email": DETECTORS["email"]}
    assert detect_tags("jane@example.com 4111 1111 1111 1111", only_email) == {"pii.email"}


def test_phone_regions_decide_which_national_formats_count() -> None:
    german_only = {"phone": PhoneDetector(regions=("DE",))}
    assert detect_tags("call 030 12345678", german_only) == {"pii.phone"}
    assert detect_tags("call (212) 555-0123", german_only) == frozenset()
    assert detect_tags("call +1 212 555 0123", german_only) == {"pii.phone"}


def test_an_unknown_phone_region_is_refused() -> None:
    with pytest.raises(UsageError, match="XX"):
        PhoneDetector(regions=("US", "XX"))


@given(st.text())
def test_detection_never_raises_and_findings_lie_within_the_text(text: str) -> None:
    findings = detect(text)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
    for before, after in itertools.pairwise(findings):
        assert before.end <= after.start
    assert detect_tags(text) == {finding.tag for finding in findings}


DIGITISH = st.text(alphabet="0123456789 +-./()@:abcXYZ", max_size=60)


@given(DIGITISH)
def test_detection_never_raises_on_number_like_text(text: str) -> None:
    for finding in detect(text):
        assert 0 <= finding.start < finding.end <= len(text)


@given(st.text(), st.sampled_from(POSITIVE), st.text())
def test_a_value_on_its_own_line_is_found_in_any_text(before: str, case: tuple[str, str, str], after: str) -> None:
    tag, value, detector = case
    start = len(before) + 1
    assert Finding(tag, start, start + len(value), detector) in detect(f"{before}\n{value}\n{after}")


def _brute_force(text: str) -> tuple[Finding, ...]:
    """The reference: every candidate checked against every finding kept so far (quadratic), no limits."""
    kept: list[Finding] = []

    def taken(start: int, end: int) -> bool:
        return any(start < finding.end and finding.start < end for finding in kept)

    for detector in DETECTORS.values():
        kept.extend(list(detector.find(text, taken)))
    return tuple(sorted(kept, key=lambda finding: (finding.start, finding.end)))


FRAGMENTS = st.sampled_from(
    [value for _, value, _ in POSITIVE]
    + ["a@b.cc", "8.8.8.8", " ", "\n", ":", "::", "@", "-", ".", "0", "12", "4111", "DE89", "+44", "(", ")"]
    + ["AKIAIOSFODNN7EXAMPLE", "ghp_x7Kq2mP9vL4nR8tY1wE5zU3oI6aS0dF2gH4j", "'q8Zr2Lw9Xk4Vt7Nb1Mc6Hd3Jf5Gs0Pa8Ye2Tu'"]
    + ["postgres://u:p4ss@db.example.com", "jane.4111111111111111@example.com", "2001:db8::1"]
)
CROWDED = st.lists(FRAGMENTS | DIGITISH, max_size=40).map("".join)


@settings(deadline=None)  # an invariant, not a timing: a loaded machine must not fail it
@given(CROWDED)
def test_sorted_interval_overlap_checks_find_what_the_brute_force_reference_finds(text: str) -> None:
    assert detect(text, limits=Limits(checks=10**9)) == _brute_force(text)


@settings(deadline=None)
@given(st.text(max_size=200))
def test_the_reference_agrees_on_any_text(text: str) -> None:
    assert detect(text, limits=Limits(checks=10**9)) == _brute_force(text)


def test_a_text_past_the_character_limit_is_refused_by_detect() -> None:
    with pytest.raises(ScanLimitExceeded, match="11 characters; one scan reads at most 10"):
        detect("a" * 11, limits=Limits(characters=10))
    assert detect("a" * 10, limits=Limits(characters=10)) == ()


def test_messages_past_the_character_limit_carry_every_detectable_tag() -> None:
    limits = Limits(characters=100)
    half = {"role": "user", "content": "x" * 50}
    assert detect_messages([half, half], limits=limits) == frozenset()
    assert detect_messages([half, half, {"role": "user", "content": "y"}], limits=limits) == detectable_tags()


def test_messages_with_more_candidates_than_the_limit_carry_every_detectable_tag() -> None:
    limits = Limits(checks=10)
    five = {"role": "user", "content": "jane@example.com " * 5}  # one candidate each, for one detector
    assert detect_messages([five, five], limits=limits) == {"pii.email"}
    assert detect_messages([five, five, {"role": "user", "content": "jo@example.com"}], limits=limits) == (
        detectable_tags()
    )
    with pytest.raises(ScanLimitExceeded, match="candidates"):
        detect("jane@example.com " * 11, limits=limits)


def test_a_costly_check_spends_more_of_the_budget() -> None:
    limits = Limits(checks=50)
    mails = {"role": "user", "content": "jane@example.com, " * 5}
    phones = {"role": "user", "content": "+44 20 7946 0958, " * 5}  # a telephone number costs 20
    assert detect_messages([mails], limits=limits) == {"pii.email"}
    assert detect_messages([phones], limits=limits) == detectable_tags()
    assert detect_messages([phones], limits=Limits(checks=1000)) == {"pii.phone"}


def test_the_default_limits_read_a_long_prompt_and_fail_closed_past_it() -> None:
    limits = Limits()
    prose = "The quick brown fox jumps over the lazy dog. " * (limits.characters // 45)
    assert detect_messages([{"role": "user", "content": prose}]) == frozenset()
    assert detect_messages([{"role": "user", "content": prose + "x" * 45}]) == detectable_tags()


ALL = "every detectable tag"


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("a@b.cc 8.8.8.8 ", ALL),  # 35,000 addresses: more checking than one scan does
        ("@", frozenset()),
        ("1234567890", frozenset()),
        (":", frozenset()),
        ("DE89 3704 0044 0532 0130 01 ", ALL),  # IBAN-like groups that fail the checksum, one after another
        ("4111 1111 1111 1112 ", ALL),
        ("eyJ", frozenset()),
        ("sk-", frozenset()),
    ],
)
def test_an_adversarial_text_at_the_limit_is_scanned_or_fails_closed(unit: str, expected: object) -> None:
    text = (unit * (Limits().characters // len(unit) + 1))[: Limits().characters]
    tags = detect_messages([{"role": "user", "content": text}])
    assert tags == (detectable_tags() if expected == ALL else expected)
