"""Credentials in a text (``secret.credential``), found by the rules of Yelp's ``detect-secrets``.

The rules are not ours: each detector below is one of detect-secrets' plugins, read from the installed
library, so an update of the library updates the rules. What maestro adds is the guarantee that the scan
stays linear in the text, whatever the text:

* a plugin's pattern runs on RE2 (``google-re2``), whose automata never backtrack, when RE2 can parse it;
* a pattern RE2 cannot parse (a look-around) runs on :mod:`re` only if every repetition in it is bounded,
  so the work at each position of the text is bounded too;
* a pattern that is neither is left out (:data:`LEFT_OUT` lists them: today the ``name = value`` forms of
  Cloudant, IBM Cloud IAM, IBM COS HMAC and SoftLayer keys, whose ``( *)(=|...| +)( *)`` backtracks on a
  run of spaces; their URL forms stay).

The base64 high-entropy plugin finds quoted strings (``"..."`` or ``'...'``) of base64 characters and keeps
those whose Shannon entropy is over its limit (4.5 bits a character), less what detect-secrets' own
heuristics take for sequences (``ABCDEF...``) or UUIDs: a generic API key written in code or a config. Its
hex sibling is left out: at 3 bits a character it takes every quoted commit id or digest for a secret.
A plugin's optional *verification* (a call to the provider's API) is never used: nothing here touches the
network.

A :class:`~maestro.policy.detect.Finding` from here names the plugin (``GitHubTokenDetector``), never the
matched text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol, cast

import re2
from detect_secrets.filters.heuristic import is_potential_uuid, is_sequential_string
from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from maestro.policy.finding import Finding, Taken

TAG = "secret.credential"

# Every credential plugin of detect-secrets that works by pattern (its IPPublicDetector finds IP addresses,
# which maestro's own detectors tag as pii.ip-address).
PLUGINS: tuple[type[RegexBasedDetector], ...] = (
    AWSKeyDetector,
    ArtifactoryDetector,
    AzureStorageKeyDetector,
    BasicAuthDetector,
    CloudantDetector,
    DiscordBotTokenDetector,
    GitHubTokenDetector,
    GitLabTokenDetector,
    IbmCloudIamDetector,
    IbmCosHmacDetector,
    JwtTokenDetector,
    MailchimpDetector,
    NpmDetector,
    OpenAIDetector,
    PrivateKeyDetector,
    PypiTokenDetector,
    SendGridDetector,
    SlackDetector,
    SoftlayerDetector,
    SquareOAuthDetector,
    StripeDetector,
    TelegramBotTokenDetector,
    TwilioKeyDetector,
)


class Matcher(Protocol):
    """The part of a compiled pattern (RE2 or :mod:`re`) a rule uses."""

    def finditer(self, text: str) -> Iterator[Any]: ...


Validator = Callable[[str], bool]


def _anything(token: str) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern of one plugin, compiled by an engine that keeps the scan linear."""

    plugin: str
    engine: str  # "re2" or "re"
    matcher: Matcher
    source: str  # the pattern with its flags inline, as an RE2 set takes it
    is_valid: Validator = _anything
    cost: int = 1  # the work of one check, as in :class:`maestro.policy.detect.Limits`


# The standard library's own parser of patterns (``sre_parse``, whose public name is deprecated): the
# parsed form says whether a pattern has look-arounds or back-references, and how far each repetition goes.
sre_parse: Any = import_module("re._parser")
sre_constants: Any = import_module("re._constants")
_NOT_RE2 = frozenset({sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.GROUPREF})
_REPEATS = frozenset({sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT})
_RE2_MAX = 1000  # RE2's largest counted repetition


def _walk(parsed: Any) -> Iterator[tuple[Any, Any]]:
    """Every (opcode, argument) of a parsed pattern, nested ones included."""
    for op, arg in parsed:
        yield op, arg
        if op in _REPEATS:
            yield from _walk(arg[2])
        elif op == sre_constants.SUBPATTERN:
            yield from _walk(arg[3])
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            yield from _walk(arg[1])
        elif op == sre_constants.BRANCH:
            for branch in arg[1]:
                yield from _walk(branch)


def engine_for(pattern: re.Pattern[str]) -> str | None:
    """``re2`` where RE2 runs the pattern, ``re`` where only :mod:`re` can but every repetition is bounded,
    else None (no engine keeps it linear)."""
    ops = list(_walk(sre_parse.parse(pattern.pattern, pattern.flags)))
    bounds = [arg[1] for op, arg in ops if op in _REPEATS]
    if not any(op in _NOT_RE2 for op, _ in ops) and all(b == sre_constants.MAXREPEAT or b <= _RE2_MAX for b in bounds):
        return "re2"
    return "re" if sre_constants.MAXREPEAT not in bounds else None


def _inline(pattern: re.Pattern[str]) -> str:
    flags = ("i" if pattern.flags & re.IGNORECASE else "") + ("s" if pattern.flags & re.DOTALL else "")
    return f"(?{flags}){pattern.pattern}" if flags else pattern.pattern


def _compile(pattern: re.Pattern[str], engine: str) -> Matcher:
    if engine == "re":
        return pattern
    options = re2.Options()
    options.case_sensitive = not pattern.flags & re.IGNORECASE
    options.dot_nl = bool(pattern.flags & re.DOTALL)
    options.log_errors = False
    options.max_mem = 64 << 20  # the DFA's cache; past it RE2 falls back to its NFA, still linear
    return re2.compile(pattern.pattern, options)  # type: ignore[no-any-return]


def _plugin_rules(plugin: type[RegexBasedDetector]) -> tuple[list[Rule], list[str]]:
    rules, left_out = [], []
    for pattern in cast("Iterable[re.Pattern[str]]", plugin.denylist):
        engine = engine_for(pattern)
        if engine is None:
            left_out.append(f"{plugin.__name__}: {pattern.pattern[:60]}")
            continue
        if plugin is JwtTokenDetector:  # a JWT is checked by decoding its parts
            rule = Rule(
                plugin.__name__, engine, _compile(pattern, engine), _inline(pattern), plugin.is_formally_valid, 3
            )
        else:
            rule = Rule(plugin.__name__, engine, _compile(pattern, engine), _inline(pattern))
        rules.append(rule)
    return rules, left_out


def _entropy_rule(plugin: Base64HighEntropyString) -> Rule:
    """The plugin's quoted string of its charset, as RE2 alternatives (RE2 has no back-reference).

    A string of n characters has at most log2(n) bits of entropy a character, so strings too short to pass
    the plugin's limit are not even candidates (the result is the same; the scan's budget is spared).
    """
    charset = re.escape(plugin.charset)
    shortest = math.floor(2**plugin.entropy_limit) + 1
    pattern = re.compile(f"'([{charset}]{{{shortest},}})'|\"([{charset}]{{{shortest},}})\"")

    def is_valid(quoted: str) -> bool:
        token = quoted[1:-1]
        return (
            plugin.calculate_shannon_entropy(token) > plugin.entropy_limit
            and not is_sequential_string(token)
            and not is_potential_uuid(token)
        )

    return Rule(type(plugin).__name__, "re2", _compile(pattern, "re2"), pattern.pattern, is_valid, cost=10)


def build(plugins: Sequence[type[RegexBasedDetector]] = PLUGINS) -> tuple[tuple[Rule, ...], tuple[str, ...]]:
    """The rules of ``plugins`` and the base64 high-entropy plugin, and the patterns left out."""
    rules: list[Rule] = []
    left_out: list[str] = []
    for plugin in plugins:
        kept, dropped = _plugin_rules(plugin)
        rules += kept
        left_out += dropped
    rules.append(_entropy_rule(Base64HighEntropyString()))
    return tuple(rules), tuple(left_out)


RULES, LEFT_OUT = build()


@dataclass(frozen=True, slots=True)
class CredentialDetector:
    """``secret.credential`` wherever one of ``rules`` (all of one cost) matches and its check accepts it.

    One pass of an RE2 set over the text says which RE2 rules match at all; only those (and the rules on
    :mod:`re`) then look for where. Where two rules' findings overlap, the one that starts first is kept.
    """

    rules: tuple[Rule, ...]
    cost: int
    prefilter: Any  # a compiled ``re2.Set`` of the RE2 rules, in order
    tag: str = TAG

    @classmethod
    def of(cls, rules: Sequence[Rule]) -> CredentialDetector:
        (cost,) = {rule.cost for rule in rules}
        prefilter = re2.Set.SearchSet(_set_options())
        for rule in rules:
            if rule.engine == "re2":
                prefilter.Add(rule.source)
        prefilter.Compile()
        return cls(tuple(rules), cost, prefilter)

    def find(self, text: str, taken: Taken) -> Iterator[Finding]:
        hits = frozenset(self.prefilter.Match(text) or ())
        found: list[Finding] = []
        index = -1
        for rule in self.rules:
            if rule.engine == "re2":
                index += 1
                if index not in hits:
                    continue
            for match in rule.matcher.finditer(text):
                start, end = match.span()
                if start < end and not taken(start, end) and rule.is_valid(match.group()):
                    found.append(Finding(self.tag, start, end, rule.plugin))
        end = -1
        for finding in sorted(found, key=lambda f: (f.start, -f.end)):
            if finding.start >= end:
                end = finding.end
                yield finding


def _set_options() -> Any:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 64 << 20
    return options


def detectors(rules: Sequence[Rule] = RULES) -> dict[str, CredentialDetector]:
    """The rules grouped by the cost of their check (most rules 1, JWTs 3, high-entropy strings 10), cheapest
    first, so a candidate an earlier group found is not checked again by a later one."""
    names = {1: "credentials", 3: "jwt", 10: "high-entropy-string"}
    costs = sorted({rule.cost for rule in rules})
    return {
        names.get(cost, f"credentials-{cost}"): CredentialDetector.of([r for r in rules if r.cost == cost])
        for cost in costs
    }
