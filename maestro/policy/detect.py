"""Content tags maestro detects in a request itself, next to the tags its caller asserts.

Every detector works in two steps: a compiled pattern finds *candidates* cheaply, then a library that
knows the format confirms each one, so that an order number, a date or a version string is not taken
for personal data:

================  ================  ==================================================================
tag               detector          confirmed by
================  ================  ==================================================================
pii.email         ``email``         the HTML standard's e-mail grammar (Unicode letters allowed), with a
                                    dotted domain whose last label is a name (``pkg@1.2.3`` is not)
pii.ip-address    ``ipv4``,         :mod:`ipaddress`; loopback and unspecified addresses are not tagged
                  ``ipv6``
pii.iban          ``iban``          ``stdnum.iban``: country, length, BBAN format, mod-97 checksum
pii.payment-card  ``payment-card``  ``stdnum.luhn`` over 13 to 19 digits that start as an issuer's do
                                    (ISO/IEC 7812 major industry identifier 2 to 6)
pii.national-id   one per scheme    python-stdnum's validators: ``us.ssn``, ``de.idnr``, ``pl.pesel``,
                                    ``fr.nir``, ``es.dni``, ``es.nie``, ``it.codicefiscale``,
                                    ``nl.bsn``, ``se.personnummer``, ``fi.hetu``, ``ch.ssn``,
                                    ``br.cpf``; ``gb.nino`` by HMRC's format (no library has it)
pii.phone         ``phone``         phonenumbers: valid for the country its ``+``/``00`` code names,
                                    or, written nationally, valid in one of the detector's regions and
                                    grouped the way that country groups it
secret.credential ``credentials``,  the plugins of Yelp's ``detect-secrets`` (cloud keys, VCS and chat
                  ``jwt``,          tokens, private keys, JWTs, passwords in URLs, quoted high-entropy
                  ``high-entropy-   strings), run so the scan stays linear (:mod:`.credentials`)
                  string``
================  ================  ==================================================================

Tags no pattern finds reliably (``pii.name``, ``pii.address``, ``phi.health``, every ``sensitivity.*``
and ``jurisdiction.*``) are never detected: callers assert them.

A :class:`Finding` says which tag, where (character offsets) and which detector, never the matched text,
so findings can be logged without leaking what they point at. Where candidates overlap, the detector
earlier in the registry wins and later ones do not even check theirs (an IPv4 address is not also a
telephone number). Nothing here touches the network.

Each pattern starts with a plain character class and checks "not inside a word" with a look-behind
after it: a pattern that starts with a class lets the regex engine skip straight to possible starts,
which keeps the whole scan of a 2 KB prompt well under a millisecond (``benchmarks/detect_bench.py``).

Whatever the text, a scan's time is bounded: every pattern's repetitions are bounded (or it runs on
RE2), kept findings are disjoint and sorted, so an overlap check is a binary search, and :class:`Limits`
caps the characters read and the checking of candidates by a library. Past a limit, :func:`detect` raises
:class:`ScanLimitExceeded` and :func:`detect_messages` answers every detectable tag (fail closed).
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import phonenumbers
from phonenumbers import Leniency, NumberParseException, PhoneNumberMatcher
from stdnum import iban, luhn
from stdnum.br import cpf
from stdnum.ch import ssn as ch_ssn
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fi import hetu
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.se import personnummer
from stdnum.us import ssn as us_ssn

from maestro.errors import MaestroError, UsageError
from maestro.policy import credentials
from maestro.policy.finding import Detector, Finding, Taken

__all__ = [
    "DETECTORS",
    "Detector",
    "Finding",
    "Limits",
    "ScanLimitExceeded",
    "Taken",
    "detect",
    "detect_messages",
    "detect_tags",
    "detectable_tags",
    "message_texts",
]

Validator = Callable[[str], bool]


def token_pattern(lead: str, rest: str, *, not_after: str = r"\w-", end: str = r"(?![\w-])") -> re.Pattern[str]:
    """A pattern for ``lead`` (one character class) then ``rest``, not preceded by ``not_after`` characters."""
    return re.compile(rf"{lead}(?<![{not_after}].){rest}{end}", re.ASCII)


def _anything(text: str) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class PatternDetector:
    """Candidates from one pattern, each confirmed by ``is_valid``.

    ``trim`` names separators at which a candidate that is not valid as a whole may be cut short, from
    the end, until it is (a card number followed by its expiry month, an IBAN followed by a word of four
    letters); the scan then goes on from the next possible start *inside* the candidate (an IBAN after a
    flight number). ``worth_scanning`` is a quick test of the whole text that can spare the scan.
    """

    name: str
    tag: str
    pattern: re.Pattern[str]
    is_valid: Validator
    trim: str = ""
    worth_scanning: Validator = _anything
    cost: int = 1

    def find(self, text: str, taken: Taken) -> Iterator[Finding]:
        if not self.worth_scanning(text):
            return
        position = 0
        while (match := self.pattern.search(text, position)) is not None:
            start, end = match.span()
            length = 0 if taken(start, end) else _valid_prefix(match.group(), self.is_valid, self.trim)
            if length:
                yield Finding(self.tag, start, start + length, self.name)
            position = start + length if length else (start + 1 if self.trim else end)


def _valid_prefix(candidate: str, is_valid: Validator, separators: str) -> int:
    """The length of the longest valid prefix of ``candidate`` that ends before a separator, or 0."""
    while not is_valid(candidate):
        cut = max((candidate.rfind(separator) for separator in separators), default=-1)
        if cut <= 0:
            return 0
        candidate = candidate[:cut]
    return len(candidate)


# The HTML standard's "valid e-mail address", with Unicode letters and at least one dot in the domain.
_EMAIL = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]{1,64}"
    r"@[^\W_](?:[\w-]{0,61}[^\W_])?(?:\.[^\W_](?:[\w-]{0,61}[^\W_])?)+"
)


@dataclass(frozen=True, slots=True)
class EmailDetector:
    """E-mail addresses (local part at most 64 characters, RFC 5321).

    The pattern's look-behind fails at once inside a word, so a scan costs at most 64 steps at each
    word's first character: linear in the text, with no Python work at an ``@`` that is no address.
    """

    tag: str = "pii.email"
    name: str = "email"
    pattern: re.Pattern[str] = _EMAIL
    cost: int = 1

    def find(self, text: str, taken: Taken) -> Iterator[Finding]:
        if "@" not in text:
            return
        for match in self.pattern.finditer(text):
            if not taken(*match.span()) and _is_address(match.group()):
                yield Finding(self.tag, match.start(), match.end(), self.name)


_TLD = re.compile(r"\.[^\W\d_][\w-]*")
_IMAGE_SCALE = re.compile(r"[0-9]+(?:\.[0-9]+)?x\.", re.ASCII)


def _is_address(address: str) -> bool:
    """Whether the domain ends in a named top-level domain and is not an image's scale suffix.

    ``pkg@1.2.3`` is a version and ``logo@2x.png`` a high-resolution image, not addresses.
    """
    domain = address.rpartition("@")[2]
    return _TLD.fullmatch(domain, domain.rfind(".")) is not None and _IMAGE_SCALE.match(domain) is None


@dataclass(frozen=True, slots=True)
class Scheme:
    """An identifier scheme: the shape it is written in (``lead`` class, then ``rest``) and its validator."""

    name: str
    lead: str
    rest: str
    is_valid: Validator


@dataclass(frozen=True, slots=True)
class SchemeDetector:
    """Several schemes scanned in one pass; schemes written in the same shape share one alternative."""

    tag: str
    pattern: re.Pattern[str]
    groups: Mapping[str, tuple[Scheme, ...]]
    cost: int = 3  # up to three schemes share a shape

    @classmethod
    def of(cls, tag: str, schemes: Sequence[Scheme]) -> SchemeDetector:
        shapes = list(dict.fromkeys((scheme.lead, scheme.rest) for scheme in schemes))
        leads = "".join(dict.fromkeys(lead[1:-1] for lead, _ in shapes))
        branches = "|".join(f"(?P<s{index}>(?<={lead}){rest})" for index, (lead, rest) in enumerate(shapes))
        groups = {
            f"s{index}": tuple(scheme for scheme in schemes if (scheme.lead, scheme.rest) == shape)
            for index, shape in enumerate(shapes)
        }
        return cls(tag, token_pattern(f"[{leads}]", f"(?:{branches})"), MappingProxyType(groups))

    def find(self, text: str, taken: Taken) -> Iterator[Finding]:
        for match in self.pattern.finditer(text):
            name = None if taken(*match.span()) else self._scheme(match)
            if name is not None:
                yield Finding(self.tag, match.start(), match.end(), name)

    def _scheme(self, match: re.Match[str]) -> str | None:
        """The first scheme written in the matched shape that accepts the matched text."""
        for scheme in self.groups[str(match.lastgroup)]:
            if scheme.is_valid(match.group()):
                return scheme.name
        return None


# A + or ( or digit, then 7 to 20 digits in all, single separators between them, no digit right after.
_PHONE = token_pattern(
    "[+(0-9]",
    r"(?:(?<=\+)\(?[0-9]|(?<=\()[0-9]|(?<=[0-9]))(?:\)?[ ./-]?\(?[0-9]){6,19}",
    not_after=r"\w+@./-",
    end=r"(?![\w@]|[.,/:-]?[0-9])",
)


@dataclass(frozen=True, slots=True)
class PhoneDetector:
    """Telephone numbers, confirmed by phonenumbers.

    A number written with ``+`` or ``00`` must be valid for the country its code names (trailing groups
    that make it invalid are dropped, as in :class:`PatternDetector`). A number written nationally must
    contain a separator (an unbroken run of digits without a country code reads as an order or account
    number as often as a telephone number), must be valid in one of ``regions`` and must be grouped the
    way that country groups it (``Leniency.EXACT_GROUPING``). A national number starting with 0 is only
    tried in regions whose trunk prefix is 0, and one that does not start with 0 only elsewhere.
    """

    regions: tuple[str, ...] = ("US", "GB", "DE", "FR")
    tag: str = "pii.phone"
    name: str = "phone"
    pattern: re.Pattern[str] = _PHONE
    cost: int = 20  # a parse and a grouping check in each region

    def __post_init__(self) -> None:
        unknown = sorted(set(self.regions) - phonenumbers.SUPPORTED_REGIONS)
        if unknown:
            raise UsageError(f"unknown phone regions {', '.join(unknown)}: use ISO 3166 codes such as US, GB, DE")

    def find(self, text: str, taken: Taken) -> Iterator[Finding]:
        for match in self.pattern.finditer(text):
            length = 0 if taken(*match.span()) else self._valid_length(match.group())
            if length:
                yield Finding(self.tag, match.start(), match.start() + length, self.name)

    def _valid_length(self, number: str) -> int:
        if number.startswith(("+", "00")):
            return _valid_prefix(number, _valid_international, " ./-")
        return len(number) if self._is_national(number) else 0

    def _is_national(self, candidate: str) -> bool:
        if candidate.isdigit() or _DATE.fullmatch(candidate):
            return False
        trunk_zero = candidate.lstrip("(").startswith("0")
        regions = (region for region in self.regions if _starts_with_trunk_zero(region) in (None, trunk_zero))
        return any(_valid_national(candidate, region) for region in regions)


# Calendar dates (2024-03-15, 15.03.2024, 03/15/24) are never telephone numbers; this saves a parse.
_DATE = re.compile(r"[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}|[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{2,4}", re.ASCII)


def _starts_with_trunk_zero(region: str) -> bool | None:
    """True where national numbers start with the trunk prefix 0, False where they cannot, None if either."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    prefix = metadata.national_prefix if metadata is not None else None
    return None if prefix is None else prefix == "0"


def _valid_international(candidate: str) -> bool:
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    try:
        number = phonenumbers.parse(candidate, None)
    except NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def _valid_national(candidate: str, region: str) -> bool:
    try:
        number = phonenumbers.parse(candidate, region)
    except NumberParseException:
        return False
    if not phonenumbers.is_valid_number_for_region(number, region):
        return False
    matches = PhoneNumberMatcher(candidate, region, leniency=Leniency.EXACT_GROUPING)
    return any(match.start == 0 and match.end == len(candidate) for match in matches)


def _is_card(candidate: str) -> bool:
    digits = candidate.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn.is_valid(digits)


def _is_ipv4(candidate: str) -> bool:
    try:
        address = ipaddress.IPv4Address(candidate)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


def _is_ipv6(candidate: str) -> bool:
    groups = [group for group in candidate.split(":") if group]
    if not (len(groups) >= 3 or any(len(group) == 4 for group in groups)) or not any(c.isdigit() for c in candidate):
        return False  # "a::b" and "xs[1::3]" in code are not meant as addresses, though they parse as ones
    try:
        address = ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


_NINO_PREFIXES_NEVER_ISSUED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _is_nino(candidate: str) -> bool:
    """A UK National Insurance number in HMRC's format (NIM39110); it has no check digit to test."""
    return candidate[:2] not in _NINO_PREFIXES_NEVER_ISSUED


_OMOCODE = "[0-9LMNPQRSTUV]"  # a digit of the codice fiscale, or the letter that replaces it

ID_SCHEMES: tuple[Scheme, ...] = (
    Scheme("us.ssn", "[0-9]", "[0-9]{2}-[0-9]{2}-[0-9]{4}", us_ssn.is_valid),
    Scheme("de.idnr", "[0-9]", "[0-9] ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}", idnr.is_valid),
    Scheme("pl.pesel", "[0-9]", "[0-9] ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}", pesel.is_valid),
    Scheme("fr.nir", "[1-478]", " ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[AB]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}", nir.is_valid),
    Scheme("es.dni", "[0-9]", "[0-9]{7}-?[A-Z]", dni.is_valid),
    Scheme("es.nie", "[XYZ]", "-?[0-9]{7}-?[A-Z]", nie.is_valid),
    Scheme(
        "it.codicefiscale",
        "[A-Z]",
        f"[A-Z]{{5}}{_OMOCODE}{{2}}[A-Z]{_OMOCODE}{{2}}[A-Z]{_OMOCODE}{{3}}[A-Z]",
        codicefiscale.is_valid,
    ),
    Scheme("nl.bsn", "[0-9]", r"[0-9]{3}\.[0-9]{2}\.[0-9]{3}", bsn.is_valid),
    Scheme("se.personnummer", "[0-9]", "[0-9]{5}(?:[0-9]{2})?[-+A-FU-Y][0-9]{3}[0-9A-Y]", personnummer.is_valid),
    Scheme("fi.hetu", "[0-9]", "[0-9]{5}(?:[0-9]{2})?[-+A-FU-Y][0-9]{3}[0-9A-Y]", hetu.is_valid),
    Scheme("ch.ssn", "[7]", r"56\.?[0-9]{4}\.?[0-9]{4}\.?[0-9]{2}", ch_ssn.is_valid),
    Scheme("br.cpf", "[0-9]", r"[0-9]{2}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}", cpf.is_valid),
    Scheme("gb.nino", "[A-CEGHJ-PR-TW-Z]", "[A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]", _is_nino),
)


def _may_hold_ipv6(text: str) -> bool:
    return "::" in text or text.count(":") >= 7


_IPV4 = token_pattern("[0-9]", r"[0-9]{0,2}(?:\.[0-9]{1,3}){3}", not_after=r"\w.", end=r"(?!\w|\.[0-9])")
_IPV6 = token_pattern(
    "[0-9A-Fa-f:]",
    r"[0-9A-Fa-f]{0,3}:[0-9A-Fa-f:]{1,38}(?:(?<=:)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?",
    not_after=r"\w:.",
    end=r"(?![\w:]|\.[0-9])",
)
_IBAN = token_pattern("[A-Z]", r"[A-Z][0-9]{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?")
_CARD = token_pattern(
    "[0-9]",
    r"(?:[0-9]{12,18}|[0-9]{3}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{1,3})?|[0-9]{3}([ -])[0-9]{6}\2[0-9]{4,5})",
)

# The registry: what ``detect`` runs, in order of precedence where candidates overlap. Credentials come
# first: the digits of a key are not a telephone number, and the user:password@host of a connection string
# is no e-mail address.
DETECTORS: Mapping[str, Detector] = MappingProxyType(
    {
        **credentials.detectors(),
        "email": EmailDetector(),
        "ipv6": PatternDetector("ipv6", "pii.ip-address", _IPV6, _is_ipv6, worth_scanning=_may_hold_ipv6),
        "ipv4": PatternDetector("ipv4", "pii.ip-address", _IPV4, _is_ipv4),
        "iban": PatternDetector("iban", "pii.iban", _IBAN, iban.is_valid, trim=" ", cost=10),
        "payment-card": PatternDetector("payment-card", "pii.payment-card", _CARD, _is_card, trim=" -", cost=2),
        "national-id": SchemeDetector.of("pii.national-id", ID_SCHEMES),
        "phone": PhoneDetector(),
    }
)


class ScanLimitExceeded(MaestroError):
    """The text is longer, or asks for more checking, than :class:`Limits` lets one scan do."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one scan (one request's texts together) may do.

    ``characters`` bounds the text read. ``checks`` bounds the work of confirming candidates (pattern
    matches) with a library: each candidate costs its detector's ``cost``, in units of about one IPv4
    check (a few microseconds): an e-mail address or a credential pattern 1, a card 2, a national id or a
    JWT 3, an IBAN or a quoted high-entropy string 10, a telephone number 20. Together they bound a
    scan's time, whatever the text. Past either, :func:`detect` raises :class:`ScanLimitExceeded` and
    :func:`detect_messages` fails closed: the request carries every tag the detectors can find.
    """

    characters: int = 256 * 1024
    checks: int = 5_000


class _Budget:
    """The checking work one scan has left."""

    def __init__(self, checks: int) -> None:
        self.left = checks

    def spend(self, cost: int) -> None:
        self.left -= cost
        if self.left < 0:
            raise ScanLimitExceeded("the text holds more candidates than one scan checks")


class _Kept:
    """The findings kept so far, disjoint and sorted by offset, so an overlap check is a binary search."""

    def __init__(self, budget: _Budget) -> None:
        self.findings: list[Finding] = []
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._budget = budget

    def taken_at(self, cost: int) -> Taken:
        """The ``taken`` of a detector whose candidates cost ``cost`` each to check."""

        def taken(start: int, end: int) -> bool:
            """Whether [start, end) overlaps a kept finding; each call spends ``cost`` of the budget."""
            self._budget.spend(cost)
            index = bisect.bisect_left(self._starts, end) - 1  # the last finding that starts before ``end``
            return index >= 0 and self._ends[index] > start  # findings are disjoint: ends rise with starts

        return taken

    def add(self, found: Iterable[Finding]) -> None:
        """Merge one detector's findings in (they overlap neither each other nor the kept ones)."""
        self.findings = sorted([*self.findings, *found], key=lambda finding: finding.start)
        self._starts = [finding.start for finding in self.findings]
        self._ends = [finding.end for finding in self.findings]


def detect(text: str, detectors: Mapping[str, Detector] = DETECTORS, limits: Limits = Limits()) -> tuple[Finding, ...]:
    """Every finding in ``text``, by offset; text an earlier detector found is not looked at by later ones.

    Raises :class:`ScanLimitExceeded` past ``limits``.
    """
    if len(text) > limits.characters:
        raise ScanLimitExceeded(f"the text has {len(text):,} characters; one scan reads at most {limits.characters:,}")
    return _scan(text, detectors, _Budget(limits.checks))


def _scan(text: str, detectors: Mapping[str, Detector], budget: _Budget) -> tuple[Finding, ...]:
    kept = _Kept(budget)
    for detector in detectors.values():
        kept.add(
            list(detector.find(text, kept.taken_at(detector.cost)))
        )  # a later detector sees the earlier ones' findings
    return tuple(sorted(kept.findings, key=lambda finding: (finding.start, finding.end)))


def detect_tags(text: str, detectors: Mapping[str, Detector] = DETECTORS, limits: Limits = Limits()) -> frozenset[str]:
    """The tags detected in ``text``."""
    return frozenset(finding.tag for finding in detect(text, detectors, limits))


def detect_messages(
    messages: Sequence[Mapping[str, Any]], detectors: Mapping[str, Detector] = DETECTORS, limits: Limits = Limits()
) -> frozenset[str]:
    """The tags detected in OpenAI-style chat messages (see :func:`message_texts` for what is read).

    The texts share one budget (``limits``); past it, the answer is every tag the detectors can find
    (fail closed), without reading the rest.
    """
    texts = list(message_texts(messages))
    if sum(len(text) for text in texts) > limits.characters:
        return detectable_tags(detectors)
    budget = _Budget(limits.checks)
    try:
        return frozenset(finding.tag for text in texts for finding in _scan(text, detectors, budget))
    except ScanLimitExceeded:
        return detectable_tags(detectors)


def message_texts(messages: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    """Each text the messages carry: string content, ``text`` content parts, and tool-call arguments
    (``tool_calls`` and the older ``function_call``).

    Each is scanned on its own, so nothing is found across the boundary of two parts. Image, audio and
    file parts are not read.
    """
    for message in messages:
        yield from _content_texts(message.get("content"))
        calls = [*(message.get("tool_calls") or ()), {"function": message.get("function_call")}]
        yield from (arguments for call in calls if (arguments := _arguments(call)) is not None)


def _arguments(call: object) -> str | None:
    function = call.get("function") if isinstance(call, Mapping) else None
    arguments = function.get("arguments") if isinstance(function, Mapping) else None
    return arguments if isinstance(arguments, str) else None


def _content_texts(content: object) -> Iterator[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, Sequence):
        for part in content:
            if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str):
                yield part["text"]


def detectable_tags(detectors: Mapping[str, Detector] = DETECTORS) -> frozenset[str]:
    """The tags these detectors can find; every other tag must be asserted by the caller."""
    return frozenset(detector.tag for detector in detectors.values())
