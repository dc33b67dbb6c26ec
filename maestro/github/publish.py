"""Publishing the gate to GitHub: the step summary, a check run whose conclusion follows the gate, and one PR
comment (found again by its hidden marker *and* its author, so ten pushes leave one comment and a comment
someone else wrote, marker or not, is never edited).

The check run is created first. A pull request from a fork runs with a read-only token: GitHub answers 403
to the check run and the comment, and the gate then says so in the step summary and carries on, so the job
still exits by the verdict and the verdict is still recorded."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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
ACTIONS_LOGIN = "github-actions[bot]"  # who writes with Actions' GITHUB_TOKEN (which cannot read GET /user)
READ_ONLY = 403  # what GitHub answers a write with a fork's read-only token


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
    report_url: str | None = None,
) -> list[str]:
    context = ActionsContext.of(environ)
    return publish(client(context), context, result, cards, forecasts, strict=strict, report_url=report_url)


def publish(
    gh: Github,
    context: ActionsContext,
    result: GateResult,
    cards: Sequence[Mapping[str, Any]],
    forecasts: Mapping[str, Any],
    *,
    strict: bool = False,
    report_url: str | None = None,
) -> list[str]:
    """Write the summary, create the check run, upsert the comment; return one line per thing done. With
    ``report_url`` (where ``maestro ui export``'s pages are published) the comment and summary link to them."""
    body = report.markdown(result, cards, forecasts)
    if report_url:
        body += f"\n\n[The evidence pages (scorecards, manifests, graphs)]({report_url})\n"
    done = []
    if context.summary_path:
        write_summary(context.summary_path, body)
        done.append(f"wrote the step summary to {context.summary_path}")
    repo = gh.get_repo(context.repository)
    refused: list[str] = []
    with _refusals(context, refused, "create the check run"):
        check = create_check(repo, context.head_sha, result, cards, body, strict=strict)
        done.append(f"created check run {check} ({len(annotations_for(result, cards))} annotations)")
    if context.pull_request is not None:
        with _refusals(context, refused, f"comment on pull request #{context.pull_request}"):
            action = upsert_comment(repo, context.pull_request, body, bot_login(gh))
            done.append(f"{action} the comment on pull request #{context.pull_request}")
    if refused:
        done.append(_fall_back(context, refused))
    return done


@contextmanager
def _refusals(context: ActionsContext, refused: list[str], what: str) -> Iterator[None]:
    """A 403 (a fork's read-only token) is noted in ``refused``; any other API error is a GitHubError."""
    try:
        yield
    except GithubException as e:
        message = e.data.get("message") if isinstance(e.data, dict) else e.data
        if e.status == READ_ONLY:
            refused.append(f"{what} ({e.status}: {message})")
            return
        raise GitHubError(f"the GitHub API at {context.api_url} answered {e.status}: {message}") from e


def _fall_back(context: ActionsContext, refused: list[str]) -> str:
    note = (
        f"GitHub refused to {' and to '.join(refused)}: the token is read-only (a pull request from a fork gets "
        "one), so the verdict is only in this step summary and the job's exit status"
    )
    if context.summary_path:
        write_summary(context.summary_path, f"\n> {note}\n")
    return note


def bot_login(gh: Github) -> str:
    """The login this token writes as: the authenticated user, or Actions' bot for an installation token."""
    try:
        return str(gh.get_user().login)
    except GithubException as e:
        if e.status in (401, 403, 404):
            return ACTIONS_LOGIN
        raise


def write_summary(path: str, body: str) -> None:
    try:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(body.replace(report.MARKER + "\n", ""))
    except OSError as e:
        raise GitHubError(f"cannot write the step summary {path}: {e.strerror or e}") from e


def upsert_comment(repo: Repository, number: int, body: str, login: str) -> str:
    """Edit the gate's comment on the pull request (its marker, written by ``login``), or create it;
    'updated'/'created'. A comment by anyone else is left alone, whatever it says."""
    issue = repo.get_issue(number)
    for comment in issue.get_comments():
        if report.MARKER in (comment.body or "") and comment.user is not None and comment.user.login == login:
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
