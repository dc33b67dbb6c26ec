"""The evidence UI: one served web app where people look at providers, the ledger, manifests, routing
decisions, eval scorecards and runs, and act on them (the kill switch, the freeze), every action signed into
the ledger with the actor's key id.

Modules, one concept each::

    config      UiConfig: the repository, the state store, the login keys, the ledger signing key
    auth        logins (session cookie or Bearer token), roles, the CSRF token
    pages       a view's result (Page) rendered as HTML or as its JSON twin; the error pages
    actions     the operator's toggles, each a ledger entry naming the actor
    providers, ledger, manifests, routing, evals, runs    the views, one module each
    app         ``create_app(config)``: the Starlette app (no import-time side effects)

Errors (all ``maestro.errors.MaestroError``)::

    UiError         a view's input names nothing that exists or is malformed (404 / 400 pages)
    └── (auth)      handled as 401 / 403 pages, never tracebacks
"""

from __future__ import annotations
