"""Publishing the gate to GitHub: the step summary, one PR comment (found again by its hidden marker and
edited, so ten pushes leave one comment), and a check run whose conclusion follows the gate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from github import Auth, Github, GithubException
from github.Repository import Repository

from maestro.evals.gate import GateResult, Verdict
from maestro.github.annotations import annotations_for
from maestro.github.context import ActionsContext, GitHubError
from maestro.report import gate as report

CHECK_NAME = "maestro eval gate"
BATCH = 50  # annotations per request, GitHub's limit


def client(context: ActionsContext, *, polite: bool = True) -> Github:
    """A PyGithub client for the context's API. ``polite`` keeps PyGithub's pauses between requests."""
    pauses = {} if polite else {"seconds_between_requests": None, "seconds_between_writes": None}
    return Github(auth=Auth.Token(context.token), base_url=context.api_url, retry=None, lazy=True, **pauses)  # type: ignore[arg-type]


def publish_from_environment(
    environ: Mapping[str, str],
    result: GateResult,
    cards: Sequence[Mapping[str, Any]],
    forecasts: Mapping[str, Any],
    *,
    strict: bool = False,
) -> list[str]:
    context = ActionsContext.of(environ)
    return publish(client(context), context, result, cards, forecasts, strict=strict)


def publish(
    gh: Github,
    context: ActionsContext,
    result: GateResult,
    cards: Sequence[Mapping[str, Any]],
    forecasts: Mapping[str, Any],
    *,
    strict: bool = False,
) -> list[str]:
    """Write the summary, upsert the comment, create the check run; return one line per thing done."""
    body = report.markdown(result, cards, forecasts)
    done = []
    if context.summary_path:
        write_summary(context.summary_path, body)
        done.append(f"wrote the step summary to {context.summary_path}")
    try:
        repo = gh.get_repo(context.repository)
        if context.pull_request is not None:
            action = upsert_comment(repo, context.pull_request, body)
            done.append(f"{action} the comment on pull request #{context.pull_request}")
        check = create_check(repo, context.head_sha, result, cards, body, strict=strict)
        done.append(f"created check run {check} ({len(annotations_for(result, cards))} annotations)")
    except GithubException as e:
        message = e.data.get("message") if isinstance(e.data, dict) else e.data
        raise GitHubError(f"the GitHub API at {context.api_url} answered {e.status}: {message}") from e
    return done


def write_summary(path: str, body: str) -> None:
    try:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(body.replace(report.MARKER + "\n", ""))
    except OSError as e:
        raise GitHubError(f"cannot write the step summary {path}: {e.strerror or e}") from e


def upsert_comment(repo: Repository, number: int, body: str) -> str:
    """Edit the gate's comment on the pull request (found by its marker), or create it; 'updated'/'created'."""
    issue = repo.get_issue(number)
    for comment in issue.get_comments():
        if report.MARKER in (comment.body or ""):
            comment.edit(body)
            return "updated"
    issue.create_comment(body)
    return "created"


def create_check(
    repo: Repository,
    head_sha: str,
    result: GateResult,
    cards: Sequence[Mapping[str, Any]],
    body: str,
    *,
    strict: bool = False,
) -> int:
    """A completed check run: failure when the gate fails, neutral when inconclusive, success otherwise."""
    notes = annotations_for(result, cards)
    if result.failed(strict):
        conclusion = "failure"
    else:
        conclusion = "neutral" if result.verdict is Verdict.INCONCLUSIVE else "success"
    title = f"eval gate: {result.verdict}"
    summary = body[:65000]
    check = repo.create_check_run(
        CHECK_NAME,
        head_sha,
        status="completed",
        conclusion=conclusion,
        output={"title": title, "summary": summary, "annotations": notes[:BATCH]},
    )
    for start in range(BATCH, len(notes), BATCH):
        check.edit(output={"title": title, "summary": summary, "annotations": notes[start : start + BATCH]})
    return check.id
