"""The operator's toggles (the kill switch, all routes or one, and the freeze), each a signed ledger entry.

The entry's actor is ``KEY_ID:SIGNER``: the UI key that acted, bound to the ledger key that signs (the
ledger refuses an actor its signer does not hold). Without a signing key no action is taken at all, so
nothing changes that the ledger does not record. The switch is set first, then recorded; a ledger that
cannot be written undoes the switch and reports the error.
"""

from __future__ import annotations

import json
from typing import Any

from maestro.errors import MaestroError
from maestro.gateway.switches import Switches
from maestro.ledger import Action, Ledger, Subject
from maestro.router import build
from maestro.ui import sources
from maestro.ui.auth import Who
from maestro.ui.config import UiConfig
from maestro.ui.pages import NotFound, UiError

SWITCHES = ("kill", "freeze")


class NoSigningKey(UiError):
    status = 503


def toggle(config: UiConfig, who: Who, switch: str, engaged: bool, route: str | None = None) -> dict[str, Any]:
    """Set ``switch`` (kill: ``route`` or all; freeze) and record it; the switches as they now are, and the
    ledger index of the entry."""
    key = config.signing_key
    if key is None:
        raise NoSigningKey(
            "this UI has no ledger signing key, and every action must be recorded; start `maestro ui` where "
            ".maestro/keys/ holds your public key and your signing key is configured (--key)"
        )
    if switch not in SWITCHES:
        raise NotFound(f"no switch '{switch}'", SWITCHES)
    if route is not None:
        known = sorted(t.name for t in build(sources.manifests(config)).routes.values())
        if route not in known:
            raise NotFound(f"no route named '{route}'", known)
    details = {"switch": switch, "engaged": engaged, "route": route, "role": who.role, "via": "ui"}
    action = Action(
        action=f"ui.{switch}",
        actor=f"{who.key_id}:{key.name}",
        subjects=[Subject.of("switch", json.dumps(details, sort_keys=True).encode())],
        details=details,
    )
    with sources.store(config) as conn:
        switches = Switches(conn)
        before = switches.engaged()
        _set(switches, switch, engaged, route)
        try:
            with Ledger.open(config.state_path) as ledger:
                index = ledger.append([action], key).start
        except (MaestroError, ValueError) as e:
            _set(switches, switch, _was(before, switch, route), route)
            raise UiError(f"the action was not recorded, so it was undone: {e}") from e
        return {"switches": switches.engaged(), "ledgerIndex": index, "actor": action.actor}


def _set(switches: Switches, switch: str, engaged: bool, route: str | None) -> None:
    if switch == "kill":
        switches.set_kill(route, engaged)
    else:
        switches.set_freeze(engaged)


def _was(before: dict[str, Any], switch: str, route: str | None) -> bool:
    if switch == "freeze":
        return bool(before["frozen"])
    return bool(before["killAll"]) if route is None else route in before["killRoutes"]
