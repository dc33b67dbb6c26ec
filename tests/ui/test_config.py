"""The UI's login keys: the gateway's key format, with a role per key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.ledger import key

from maestro.gateway.config import ConfigError, api_keys_from_json
from maestro.ledger.keys import KeyFileError, write_signing_key
from maestro.ui.config import allows, keys_from_env, signers_from_env


def test_keys_carry_their_role_and_are_found_by_token() -> None:
    text = json.dumps(
        [{"id": "olga", "token": "t-1", "role": "operator"}, {"id": "vera", "token": "t-2", "role": "viewer"}]
    )
    keys = keys_from_env("K", {"K": text})
    assert {t: (k.id, k.role) for t, k in keys.items()} == {"t-1": ("olga", "operator"), "t-2": ("vera", "viewer")}


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"id": "a", "token": "t"}, "needs a 'role'"),
        ({"id": "a", "token": "t", "role": "admin"}, "viewer, approver, operator"),
        ({"id": "a", "token": "t", "role": "viewer", "colour": "red"}, "must be an object"),
    ],
)
def test_a_key_without_a_known_role_is_refused_with_where_and_what(entry: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=r"\$K\[0\]") as e:
        keys_from_env("K", {"K": json.dumps([entry])})
    assert says in str(e.value)


def test_the_gateway_still_refuses_a_role_it_has_no_use_for() -> None:
    with pytest.raises(ConfigError, match="must be an object"):
        api_keys_from_json(json.dumps([{"id": "a", "token": "t", "role": "viewer"}]), "$KEYS")


def test_no_keys_set_means_none() -> None:
    assert keys_from_env("K", {}) == {}


@pytest.mark.parametrize(
    ("role", "needed", "ok"),
    [
        ("operator", "approver", True),
        ("approver", "approver", True),
        ("viewer", "approver", False),
        ("x", "viewer", False),
    ],
)
def test_roles_are_ranked(role: str, needed: str, ok: bool) -> None:
    assert allows(role, needed) is ok


def test_a_login_s_own_ledger_key_is_read_from_its_entry_and_the_others_have_none(tmp_path: Path) -> None:
    write_signing_key(key("bob"), tmp_path / "bob.key", force=True)
    text = json.dumps(
        [
            {"id": "abe", "token": "t-1", "role": "approver", "ledgerKey": "bob.key"},
            {"id": "vera", "token": "t-2", "role": "viewer"},
        ]
    )
    assert {k.id for k in keys_from_env("K", {"K": text}).values()} == {"abe", "vera"}
    signers = signers_from_env("K", {"K": text}, tmp_path)
    assert {k: s.keyid for k, s in signers.items()} == {"abe": key("bob").keyid}


@pytest.mark.parametrize(
    ("ledger_key", "error", "says"),
    [(7, ConfigError, "'ledgerKey' must be the path"), ("nobody.key", KeyFileError, "no signing key at")],
)
def test_a_wrong_ledger_key_says_which_login_and_what_to_do(
    tmp_path: Path, ledger_key: object, error: type[Exception], says: str
) -> None:
    text = json.dumps([{"id": "abe", "token": "t-1", "role": "approver", "ledgerKey": ledger_key}])
    with pytest.raises(error, match=says):
        signers_from_env("K", {"K": text}, tmp_path)
