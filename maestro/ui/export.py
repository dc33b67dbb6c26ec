"""``maestro ui export DIR``: the UI's pages as static HTML for a CI artifact, from the same view functions and
templates as the served app, each beside its JSON twin.

Written: ``index.html`` (what was exported), ``manifests.html`` (validate's findings) and one page per
document (``manifests/KIND/NAME.html``: its explanation, a Pipeline's graph), ``runs/RUN.html`` for ``--run``, and
``evals/SUITE.html`` for ``--scorecard`` (the scorecard against the suite's latest stored one). Links between
pages are made relative (``/runs/RUN`` becomes ``runs/RUN.html`` seen from the page's folder) and the front-end
files are copied into ``static/``, so the folder opens from disk or any static host with nothing served. A
page of the export has no login, no buttons and no live updates: it is a record of the moment it was written.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment
from starlette.requests import Request

from maestro.ui import evals, manifests, runs, sources
from maestro.ui.config import UiConfig
from maestro.ui.pages import Page, UiError, environment

LINK = re.compile(r'(?P<attr>\b(?:href|src))="(?P<url>/[^"]*)"')


@dataclass(frozen=True, slots=True)
class Exported:
    folder: Path
    pages: tuple[str, ...]  # paths inside ``folder``, e.g. runs/run-1.html


def export(config: UiConfig, folder: Path, *, run: str | None = None, scorecard: Path | None = None) -> Exported:
    """Write the pages into ``folder`` (created; files of an earlier export are overwritten)."""
    card = _read_scorecard(scorecard) if scorecard is not None else None
    env = environment()
    pages: dict[str, Page] = {"/manifests": manifests.view(config, {})}
    for ref in dict.fromkeys(d.ref for d in sources.manifests(config).documents):
        pages[f"/manifests/{ref}"] = manifests.document(config, ref)
    if run is not None:
        pages[f"/runs/{run}"] = runs.run(config, run)
    if card is not None:
        page = evals.scorecard(config, card, revision=scorecard.name if scorecard else "this run")
        pages[f"/evals/{page.data['suite']}"] = page
    folder.mkdir(parents=True, exist_ok=True)
    _copy_static(folder / "static")
    written = []
    for path, page in pages.items():
        written.append(_write(env, folder, path, page))
    index = Page(
        "export_index.html", "Evidence", {"pages": [{"path": p, "title": pg.title} for p, pg in pages.items()]}
    )
    written.insert(0, _write(env, folder, "/index", index))
    return Exported(folder, tuple(written))


def _read_scorecard(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UiError(f"cannot read the scorecard {path}: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise UiError(
            f"{path}:{e.lineno}:{e.colno}: not JSON ({e.msg}); give a scorecard `maestro eval run` wrote"
        ) from e
    if not isinstance(data, dict):
        raise UiError(f"{path}: a scorecard is a JSON object; give a file `maestro eval run` wrote")
    return data


def _write(env: Environment, folder: Path, path: str, page: Page) -> str:
    name = _file(path)
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    context = {"who": None, "csrf": "", "views": (), "static": True}
    html = env.get_template(page.template).render(
        page=page, data=page.data, title=page.title, request=_request(path), **page.extra, **context
    )
    target.write_text(relative_links(html, name), encoding="utf-8")
    twin = target.with_suffix(".json")
    twin.write_text(json.dumps(page.data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return name


def relative_links(html: str, page: str) -> str:
    """``html`` of the page at ``page`` (a path inside the export) with each ``href``/``src`` to this server
    made relative: ``/runs/RUN`` to ``runs/RUN.html``, ``/x.json`` to ``x.json``, ``/static/...`` as is."""
    here = posixpath.dirname(page) or "."

    def swap(m: re.Match[str]) -> str:
        target = _file(m.group("url"))
        return f'{m.group("attr")}="{posixpath.relpath(target, here)}"'

    return LINK.sub(swap, html)


def _file(url: str) -> str:
    """The file of a page's URL inside the export (its query dropped: an export holds one view of each page)."""
    path = urlsplit(url).path.strip("/") or "index"
    if path.startswith("static/") or path.endswith(".json"):
        return path
    return path + ".html"


def _request(path: str) -> Request:
    """What the templates read of a request (its path, for the navigation and the JSON twin's link)."""
    return Request({"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []})


def _copy_static(dest: Path) -> None:
    source = resources.files("maestro.ui").joinpath("static")
    with resources.as_file(source) as folder:
        shutil.copytree(folder, dest, dirs_exist_ok=True)
