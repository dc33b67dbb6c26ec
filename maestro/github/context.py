"""The GitHub Actions context maestro needs, read from the environment and the event file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestro.errors import MaestroError


class GitHubError(MaestroError):
    """The GitHub API refused a request, or the Actions context lacks what is needed; the message says which."""


@dataclass(frozen=True, slots=True)
class ActionsContext:
    repository: str  # owner/name
    token: str
    api_url: str
    head_sha: str
    pull_request: int | None
    summary_path: str | None

    @classmethod
    def of(cls, environ: Mapping[str, str]) -> ActionsContext:
        missing = [v for v in ("GITHUB_REPOSITORY", "GITHUB_TOKEN") if not environ.get(v)]
        if missing:
            raise GitHubError(
                f"--github needs {' and '.join(missing)} in the environment; in a workflow pass "
                "`env: {GITHUB_TOKEN: ${{ github.token }}}` to the step (GITHUB_REPOSITORY is set by Actions)"
            )
        event = _event(environ.get("GITHUB_EVENT_PATH"))
        found = event.get("pull_request")
        pr: dict[str, Any] | None = found if isinstance(found, dict) else None
        head = pr["head"]["sha"] if pr and isinstance(pr.get("head"), dict) else environ.get("GITHUB_SHA", "")
        if not head:
            raise GitHubError("no commit to attach the check run to: GITHUB_SHA is unset and the event has no head")
        return cls(
            repository=environ["GITHUB_REPOSITORY"],
            token=environ["GITHUB_TOKEN"],
            api_url=environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
            head_sha=head,
            pull_request=int(pr["number"]) if pr and "number" in pr else None,
            summary_path=environ.get("GITHUB_STEP_SUMMARY") or None,
        )


def _event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise GitHubError(f"cannot read the Actions event file {path}: {e}") from e
    return data if isinstance(data, dict) else {}
