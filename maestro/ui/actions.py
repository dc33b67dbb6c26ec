"""The actions taken in the UI, each a signed ledger entry: the operator's toggles (the kill switch, all routes
or one, and the freeze) here, an approver's decision on a run in ``maestro.ui.runs``.

The entry's actor is ``KEY_ID:SIGNER``: the UI key that acted, bound to the ledger key that signs (the
ledger refuses an actor its signer does not hold): the login's own key when ``$MAESTRO_UI_KEYS`` names one
(``ledgerKey``), else the UI's. Without a signing key no action is taken at all, so
nothing changes that the ledger does not record. The switch is set first, then recorded; a ledger that
cannot be written undoes the switch and reports the error.
"""

from __future__ import annotations

import json
from typing import Any

from maestro.errors import MaestroError
from maestro.gateway.switches import Switches
from maestro.ledger import Action, Ledger, SigningKey, Subject
from maestro.router import build
from maestro.ui import sources
from maestro.ui.auth import Who
from maestro.ui.config import UiConfig
from maestro.ui.pages import NotFound, UiError

SWITCHES = ("kill", "freeze")


class NoSigningKey(UiError):
    status = 503


def signing_key(config: UiConfig, who: Who | None = None) -> SigningKey:
    """The key ``who``'s actions are signed with: their own (``ledgerKey`` in ``$MAESTRO_UI_KEYS``), else the
    UI's; a NoSigningKey (503) when there is none."""
    if who is not None and who.key_id in config.signers:
        return config.signers[who.key_id]
    if config.signing_key is None:
        raise NoSigningKey(
            "this UI has no ledger signing key, and every action must be recorded; start `maestro ui` where "
            ".maestro/keys/ holds your public key and your signing key is configured (--key)"
        )
    return config.signing_key


def action(config: UiConfig, who: Who, name: str, details: dict[str, Any]) -> Action:
    """The ledger entry of ``who``'s action ``name``: actor ``KEY_ID:SIGNER``, the details as its subject."""
    details = {**details, "role": who.role, "via": "ui"}
    return Action(
        action=name,
        actor=f"{who.key_id}:{signing_key(config, who).name}",
        subjects=[Subject.of(name.removeprefix("ui."), json.dumps(details, sort_keys=True).encode())],
        details=details,
    )


def record(config: UiConfig, entry: Action, who: Who | None = None) -> int:
    """Append ``entry`` to the ledger, signed with ``who``'s key; its index."""
    with Ledger.open(config.state_path) as ledger:
        return ledger.append([entry], signing_key(config, who)).start


def toggle(config: UiConfig, who: Who, switch: str, engaged: bool, route: str | None = None) -> dict[str, Any]:
    """Set ``switch`` (kill: ``route`` or all; freeze) and record it; the switches as they now are, and the
    ledger index of the entry."""
    signing_key(config, who)
    if switch not in SWITCHES:
        raise NotFound(f"no switch '{switch}'", SWITCHES)
    if route is not None:
        known = sorted(t.name for t in build(sources.manifests(config)).routes.values())
        if route not in known:
            raise NotFound(f"no route named '{route}'", known)
    entry = action(config, who, f"ui.{switch}", {"switch": switch, "engaged": engaged, "route": route})
    with sources.store(config) as conn:
        switches = Switches(conn)
        before = switches.engaged()
        _set(switches, switch, engaged, route)
        try:
            index = record(config, entry, who)
        except (MaestroError, ValueError) as e:
            _set(switches, switch, _was(before, switch, route), route)
            raise UiError(f"the action was not recorded, so it was undone: {e}") from e
        return {"switches": switches.engaged(), "ledgerIndex": index, "actor": entry.actor}


def _set(switches: Switches, switch: str, engaged: bool, route: str | None) -> None:
    if switch == "kill":
        switches.set_kill(route, engaged)
    else:
        switches.set_freeze(engaged)


def _was(before: dict[str, Any], switch: str, route: str | None) -> bool:
    if switch == "freeze":
        return bool(before["frozen"])
    return bool(before["killAll"]) if route is None else route in before["killRoutes"]
