"""The UI over a throwaway repository (helpers.ui), driven through the ASGI app with httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.ui import TOKENS, UiRepo, make
from starlette.testclient import TestClient

from maestro.ui.app import create_app


@pytest.fixture
def repo(tmp_path: Path) -> UiRepo:
    return make(tmp_path)


@pytest.fixture
def client(repo: UiRepo) -> Iterator[TestClient]:
    with TestClient(create_app(repo.config), follow_redirects=False) as c:
        yield c


@pytest.fixture
def login(client: TestClient) -> Callable[[str], TestClient]:
    """Log ``client`` in as the key of ``role`` through the form, as a person would."""

    def log_in(role: str) -> TestClient:
        form = client.get("/login")
        assert form.status_code == 200
        response = client.post("/login", data={"token": TOKENS[role], "csrf": csrf(client), "next": "/providers"})
        assert response.status_code == 303, response.text
        return client

    return log_in


def csrf(client: TestClient) -> str:
    """The session's CSRF token, read from a page's form like a browser's."""
    page = client.get("/login").text
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]
