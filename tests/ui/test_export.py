"""``maestro ui export``: the UI's pages written as static HTML with relative links and the front-end files
copied; the scorecard page compares the file with the suite's latest stored scorecard; every page opens from
disk in Chromium with no console error and the Pipeline graph is drawn."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.ui import UiRepo, make, scorecard
from helpers.ui_browser import CHROMIUM, chromium

from maestro.ui.export import export, relative_links
from maestro.ui.pages import UiError


@pytest.fixture
def repo(tmp_path: Path) -> UiRepo:
    return make(tmp_path / "repo")


@pytest.fixture
def card(tmp_path: Path) -> Path:
    path = tmp_path / "scorecard.json"
    path.write_text(json.dumps(scorecard({"c1": False, "c2": True, "c3": True})), encoding="utf-8")
    return path


def test_the_pages_are_written_with_their_json_twins_and_relative_links(repo: UiRepo, card: Path) -> None:
    out = repo.root.parent / "evidence"
    done = export(repo.config, out, scorecard=card)
    assert done.pages[:2] == ("index.html", "manifests.html")
    assert "evals/support.html" in done.pages and "manifests/Pipeline/refund-flow.html" in done.pages
    for page in done.pages:
        html = (out / page).read_text(encoding="utf-8")
        assert re.findall(r'(?:href|src)="/', html) == [], page  # nothing points at a server
        assert (out / page).with_suffix(".json").is_file()
        for target in re.findall(r'(?:href|src)="([^"#?]+)"', html):
            if not target.startswith(("http:", "https:", "data:")):
                assert (out / page).parent.joinpath(target).resolve().is_file(), (page, target)
    suite = json.loads((out / "evals" / "support.json").read_text(encoding="utf-8"))
    assert suite["latest"]["summary"]["passRate"]["value"] == pytest.approx(2 / 3)
    assert suite["previous"]["revision"] == "rev-new"  # the latest stored scorecard of the suite
    assert {f["case"]: f["change"] for f in suite["previous"]["flips"]} == {"c1": "broke", "c3": "fixed"}
    assert (out / "static" / "vendor" / "cytoscape.min.js").is_file()


def test_links_are_made_relative_to_the_page_s_folder() -> None:
    html = '<a href="/runs/r1">r</a><a href="/manifests">m</a><script src="/static/ui.js"></script>'
    assert relative_links(html, "runs/r0.html") == (
        '<a href="r1.html">r</a><a href="../manifests.html">m</a><script src="../static/ui.js"></script>'
    )
    assert relative_links('<a href="/evals/s.json">j</a>', "evals/s.html") == '<a href="s.json">j</a>'


@pytest.mark.parametrize(
    ("text", "says"), [("{not json", "not JSON"), ("[1, 2]", "a JSON object"), ('{"cases": []}', "names no suite")]
)
def test_a_bad_scorecard_is_refused_with_what_to_give(repo: UiRepo, tmp_path: Path, text: str, says: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(UiError, match=says):
        export(repo.config, tmp_path / "out", scorecard=bad)


def test_the_command_writes_the_folder_and_lists_the_pages(
    repo: UiRepo, card: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.root)
    result = run_cli("ui", "export", "evidence", "--scorecard", str(card), "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["folder"] == "evidence" and "evals/support.html" in listed["pages"]
    assert (repo.root / "evidence" / "index.html").is_file()
    missing = run_cli("ui", "export", "evidence", "--run", "run-nope")
    assert missing.exit_code == 2 and "no run 'run-nope'" in missing.stderr


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_every_exported_page_opens_from_disk_in_chromium_with_no_console_error(repo: UiRepo, card: Path) -> None:
    out = repo.root.parent / "evidence"
    done = export(repo.config, out, scorecard=card)
    with chromium() as browser:
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        for name in done.pages:
            page.goto((out / name).as_uri())
            page.wait_for_load_state("load")
            assert errors == [], (name, errors)
            if name.startswith("manifests/Pipeline/"):
                page.wait_for_function("() => window.maestroDrawnAt !== undefined", timeout=15_000)
                assert page.evaluate("() => maestroGraph.nodes().length") == 5
        page.goto((out / "index.html").as_uri())
        page.click("text=Evals: support")
        assert page.url.endswith("/evals/support.html") and "What flipped" in page.inner_text("main")
        context.close()
