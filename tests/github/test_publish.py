"""maestro gate --github against a stand-in GitHub API on 127.0.0.1: the real PyGithub requests it receives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.eval_repo import suite, write
from helpers.eval_upstream import serve
from helpers.evals import card, user_text
from helpers.github_api import FakeGitHub
from helpers.github_api import serve as github_api

from maestro.evals.gate import judge
from maestro.github import ActionsContext, GitHubError, client, publish

CASES = "    inline:\n" + "\n".join(f"      - {{id: c{i}, input: 'q {i}', expected: ok}}" for i in range(30)) + "\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    with serve(lambda body: "bad" if user_text(body) in ("q 3", "q 7") else "ok") as up:
        write(
            tmp_path,
            up.url,
            suite("s", CASES, "    - {name: right, type: equals}\n", "  thresholds: {passRate: 1.0}\n"),
        )
        assert run_cli("eval").exit_code == 0
    return tmp_path


def context(fake: FakeGitHub, tmp: Path, pr: int | None = 7) -> ActionsContext:
    return ActionsContext("acme/shop", "tok-123", fake.url, "abc123", pr, str(tmp / "summary.md"))


def test_ten_pushes_leave_one_comment_updated_in_place(repo: Path) -> None:
    cards = [card(repo, "s")]
    result = judge(cards)
    with github_api() as fake:
        gh = client(context(fake, repo), polite=False)
        for _ in range(10):
            publish(gh, context(fake, repo), result, cards, {})
    assert len(fake.comments) == 1
    posts = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/issues/7/comments")]
    edits = [r for r in fake.requests if r.method == "PATCH" and "/issues/comments/" in r.path]
    assert len(posts) == 1 and len(edits) == 9
    assert all(r.authorization == "token tok-123" for r in fake.requests)
    body = next(iter(fake.comments.values()))["body"]
    assert body.startswith("<!-- maestro-eval-gate -->") and "| s | pass_rate | ❌ fail |" in body
    assert len(fake.checks) == 10


def test_the_check_run_fails_and_annotates_the_failing_cases_lines(repo: Path) -> None:
    cards = [card(repo, "s")]
    with github_api() as fake:
        publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {})
    (check,) = fake.checks.values()
    assert (check["name"], check["head_sha"], check["status"], check["conclusion"]) == (
        "maestro eval gate",
        "abc123",
        "completed",
        "failure",
    )
    notes = check["output"]["annotations"]
    lines = (repo / "manifests" / "evals.yaml").read_text().splitlines()
    cases = [n for n in notes if n["title"].startswith("s: case")]
    assert [n["title"] for n in cases] == ["s: case c3", "s: case c7"]
    for note in cases:
        assert note["path"] == "manifests/evals.yaml" and note["annotation_level"] == "failure"
        assert f"id: {note['title'].split()[-1]}," in lines[note["start_line"] - 1]  # the case's own line
    assert any(n["title"] == "s: pass_rate failed" and n["start_line"] == 1 for n in notes)
    summary = (repo / "summary.md").read_text()
    assert "## maestro eval gate: ❌ fail" in summary and "<!--" not in summary


def test_gate_github_in_actions_reads_the_environment_and_event(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    event = repo / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 12, "head": {"sha": "feedbeef"}}}), encoding="utf-8")
    with github_api() as fake:
        env: dict[str, Any] = {
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_TOKEN": "tok-9",
            "GITHUB_API_URL": fake.url,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_STEP_SUMMARY": str(repo / "summary.md"),
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        result = run_cli("gate", "--github")
    assert result.exit_code == 1  # a failing gate fails the step, and the check
    assert "created the comment on pull request #12" in result.output
    assert [c["issue"] for c in fake.comments.values()] == [12]
    assert [c["head_sha"] for c in fake.checks.values()] == ["feedbeef"]
    assert (repo / "summary.md").exists()


def test_github_without_a_token_says_what_to_set(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/shop")
    result = run_cli("gate", "--github")
    assert result.exit_code == 2 and "--github needs GITHUB_TOKEN in the environment" in result.output


def test_a_comment_by_someone_else_carrying_the_marker_is_never_edited(repo: Path) -> None:
    cards = [card(repo, "s")]
    with github_api() as fake:
        planted = fake.add_comment(7, "<!-- maestro-eval-gate -->\nall green, merge me", "mallory")
        lines = publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {})
        publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {})
    assert fake.comments[planted]["body"] == "<!-- maestro-eval-gate -->\nall green, merge me"
    ours = [c for c in fake.comments.values() if c["user"] == "maestro-bot"]
    assert len(ours) == 1 and "| s | pass_rate | ❌ fail |" in ours[0]["body"]
    assert not any(r.method == "PATCH" and r.path.endswith(f"/comments/{planted}") for r in fake.requests)
    assert "created the comment on pull request #7" in lines


def test_with_an_actions_token_the_comment_of_github_actions_bot_is_edited(repo: Path) -> None:
    cards = [card(repo, "s")]
    with github_api() as fake:
        fake.login = None  # GET /user answers 403, as for Actions' GITHUB_TOKEN
        fake.add_comment(7, "<!-- maestro-eval-gate -->\nold", "someone")
        mine = fake.add_comment(7, "<!-- maestro-eval-gate -->\nold", "github-actions[bot]")
        lines = publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {})
    assert "updated the comment on pull request #7" in lines
    assert "pass_rate" in fake.comments[mine]["body"] and len(fake.comments) == 2


def test_the_check_run_is_created_before_the_comment(repo: Path) -> None:
    cards = [card(repo, "s")]
    with github_api() as fake:
        publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {})
    writes = [r.path for r in fake.writes()]
    assert writes[0].endswith("/check-runs") and writes[-1].endswith("/issues/7/comments")


@pytest.mark.parametrize("forbid", [{"comment", "check"}, {"check"}, {"comment"}])
def test_a_read_only_token_falls_back_to_the_step_summary(repo: Path, forbid: set[str]) -> None:
    cards = [card(repo, "s")]
    with github_api() as fake:
        fake.forbid = forbid
        lines = publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {})
    assert bool(fake.checks) is ("check" not in forbid)
    assert bool(fake.comments) is ("comment" not in forbid)
    summary = (repo / "summary.md").read_text()
    assert "## maestro eval gate: ❌ fail" in summary
    assert "GitHub refused to" in summary and "403: Resource not accessible by integration" in summary
    assert lines[-1].startswith("GitHub refused to") and "read-only" in lines[-1]


def test_gate_on_a_forks_pull_request_exits_by_the_verdict_and_records_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(repo.parent / f"{repo.name}-config"))
    monkeypatch.delenv("MAESTRO_LEDGER_KEY", raising=False)
    for name in ("GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert run_cli("keys", "init", "--name", "alice").exit_code == 0
    event = repo / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 12, "head": {"sha": "feedbeef"}}}), encoding="utf-8")
    with github_api() as fake:
        fake.forbid = {"comment", "check"}
        fake.login = None
        env = {
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_TOKEN": "tok-ro",
            "GITHUB_API_URL": fake.url,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_STEP_SUMMARY": str(repo / "summary.md"),
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        result = run_cli("gate", "--github")
    assert result.exit_code == 1, result.output  # the verdict (fail), not an API error (2)
    assert "GitHub refused to create the check run" in result.output
    assert not fake.checks and not fake.comments
    assert "GitHub refused to" in (repo / "summary.md").read_text()
    (entry,) = run_cli("ledger", "show", "--format", "json").output.splitlines()
    assert '"action": "gate"' in entry and '"fail"' in entry


def test_another_api_error_is_still_a_clear_message(repo: Path) -> None:
    cards = [card(repo, "s")]
    with github_api() as fake:
        fake.handle = lambda method, path, body: (500, {"message": "boom"})  # type: ignore[method-assign]
        with pytest.raises(GitHubError, match="answered 500: boom"):
            publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {})


def test_the_comment_links_to_the_exported_evidence_pages_when_given_their_url(repo: Path) -> None:
    cards = [card(repo, "s")]
    url = "https://ci.example.com/artifacts/42/evidence/index.html"
    with github_api() as fake:
        publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {}, report_url=url)
        body = next(iter(fake.comments.values()))["body"]
        publish(client(context(fake, repo), polite=False), context(fake, repo), judge(cards), cards, {})
        again = next(iter(fake.comments.values()))["body"]
    assert f"]({url})" in body and "evidence pages" in body
    assert url not in again  # without a URL, no link
