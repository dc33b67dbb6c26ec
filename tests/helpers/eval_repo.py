"""A throwaway manifest repository whose one provider is a fake upstream, with eval suites to run."""

from __future__ import annotations

import subprocess
from pathlib import Path

PROVIDERS = """apiVersion: maestro.dev/v1
kind: Provider
metadata: {{name: fake}}
spec:
  type: openai
  baseUrl: {url}
  apiKey: {{env: FAKE_API_KEY}}
  jurisdiction: us
  models:
    - {{name: m1, contextWindow: 100000, price: {{inputPer1M: 1.0, outputPer1M: 2.0}}}}
{backup}---
apiVersion: maestro.dev/v1
kind: Route
metadata: {{name: chat-route}}
spec:
  alias: chat
  candidates:
    - {{provider: fake, model: m1, weight: 100}}
{fallback}---
apiVersion: maestro.dev/v1
kind: Route
metadata: {{name: judge-route}}
spec:
  alias: judge
  candidates:
    - {{provider: {judge}, model: m1, weight: 100}}
"""
BACKUP = """---
apiVersion: maestro.dev/v1
kind: Provider
metadata: {{name: backup}}
spec:
  type: openai
  baseUrl: {url}
  jurisdiction: us
  models:
    - {{name: m1, contextWindow: 100000, price: {{inputPer1M: 1.0, outputPer1M: 2.0}}}}
"""


def write(root: Path, url: str, suites: str, *, backup_url: str | None = None, judge_url: str | None = None) -> Path:
    """``root/manifests`` with the fake provider (and a backup and judge provider when given) and ``suites``."""
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    extra = BACKUP.format(url=backup_url) if backup_url else ""
    if judge_url:
        extra += BACKUP.format(url=judge_url).replace("name: backup", "name: judge")
    fallback = "  fallback:\n    - {provider: backup, model: m1}\n" if backup_url else ""
    judge = "judge" if judge_url else "fake"
    text = PROVIDERS.format(url=url, backup=extra, fallback=fallback, judge=judge)
    (root / "manifests" / "providers.yaml").write_text(text, encoding="utf-8")
    (root / "manifests" / "evals.yaml").write_text(suites, encoding="utf-8")
    return root


def suite(name: str, dataset: str, assertions: str, extra: str = "") -> str:
    return f"""apiVersion: maestro.dev/v1
kind: EvalSuite
metadata: {{name: {name}}}
spec:
  target: {{route: chat-route}}
  dataset:
{dataset}
  assertions:
{assertions}
{extra}---
"""


def git(root: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(root),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True, env=env)
    return done.stdout.strip()


def commit_all(root: Path, message: str) -> str:
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")
