"""Publishing against a GitHub that pages: the gate's comment found on a later page of a long thread, and
annotations sent in batches of at most 50 (the stand-in refuses more, as GitHub does)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers.cli import run_cli
from helpers.eval_repo import suite, write
from helpers.eval_upstream import serve
from helpers.evals import card, user_text
from helpers.github_api import MAX_ANNOTATIONS, PER_PAGE, FakeGitHub
from helpers.github_api import serve as github_api

from maestro.evals.gate import judge
from maestro.github import ActionsContext, client, publish
from maestro.github.annotations import annotations_for
from maestro.report.gate import MARKER

FAILING = 120


def _repo(tmp: Path, cases: int, failing: int) -> Path:
    rows = "    inline:\n" + "\n".join(f"      - {{id: c{i}, input: 'q {i}', expected: ok}}" for i in range(cases))
    bad = {f"q {i}" for i in range(failing)}
    with serve(lambda body: "bad" if user_text(body) in bad else "ok") as up:
        write(
            tmp,
            up.url,
            suite("s", rows + "\n", "    - {name: right, type: equals}\n", "  thresholds: {passRate: 1.0}\n"),
        )
        result = run_cli("eval")
        assert result.exit_code in (0, 1), result.output
    return tmp


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return _repo(tmp_path, 10, 2)


def context(fake: FakeGitHub, tmp: Path) -> ActionsContext:
    return ActionsContext("acme/shop", "tok-123", fake.url, "abc123", 7, str(tmp / "summary.md"))


def comment_pages(fake: FakeGitHub) -> list[int]:
    gets = [r for r in fake.requests if r.method == "GET" and "/issues/7/comments" in r.path]
    return [int(parse_qs(urlsplit(r.path).query).get("page", ["1"])[0]) for r in gets]


def test_the_gate_s_comment_on_the_third_page_is_found_and_edited(repo: Path) -> None:
    cards = [card(repo, "s")]
    with github_api() as fake:
        for i in range(2 * PER_PAGE + 10):  # 70 comments by people first
            fake.add_comment(7, f"review note {i}")
        mine = fake.add_comment(7, f"{MARKER}\nan earlier gate", user="maestro-bot")
        done = publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {})
    assert "updated the comment on pull request #7" in done
    assert comment_pages(fake) == [1, 2, 3]  # every page read, by the Link header's "next"
    assert not any(r.method == "POST" and r.path.endswith("/issues/7/comments") for r in fake.requests)
    assert fake.comments[mine]["body"].startswith(MARKER) and "an earlier gate" not in fake.comments[mine]["body"]
    assert len(fake.comments) == 71 and all(
        c["body"].startswith("review note") for k, c in fake.comments.items() if k != mine
    )


def test_without_the_marker_on_any_page_one_comment_is_created(repo: Path) -> None:
    cards = [card(repo, "s")]
    with github_api() as fake:
        for i in range(PER_PAGE + 1):
            fake.add_comment(7, f"review note {i}")
        done = publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {})
    assert "created the comment on pull request #7" in done
    assert comment_pages(fake) == [1, 2]
    assert sum(1 for c in fake.comments.values() if c["body"].startswith(MARKER)) == 1


def test_annotations_go_in_batches_of_fifty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    repo = _repo(tmp_path, FAILING + 10, FAILING)
    cards = [card(repo, "s")]
    result = judge(cards)
    expected = annotations_for(result, cards)
    assert len(expected) > 2 * MAX_ANNOTATIONS  # a case each, and the metric
    with github_api() as fake:
        publish(client(context(fake, repo), polite=False), context(fake, repo), result, cards, {})
    batches = fake.annotation_batches()
    assert batches == [50, 50, len(expected) - 100]  # the create, then two edits; none refused
    (check,) = fake.checks.values()
    sent = check["output"]["annotations"] + check["more_annotations"]
    assert sent == expected  # all of them, in order, none twice
    assert check["conclusion"] == "failure"


def test_the_stand_in_refuses_more_than_fifty_annotations_as_github_does() -> None:
    with github_api() as fake:
        notes = [{"path": "a", "start_line": 1, "end_line": 1, "annotation_level": "notice", "message": "m"}] * 51
        status, answer, _ = fake.handle(
            "POST", "/repos/acme/shop/check-runs", {"name": "x", "output": {"annotations": notes}}
        )
    assert status == 422 and "50 annotations" in answer["message"]
