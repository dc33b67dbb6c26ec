"""Regenerate docs/rules.md and docs/cli.md from the code (a test checks they are current)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from maestro.cli import main as _main  # noqa: E402,F401  (registers the commands)
from maestro.cli.reference import render as render_cli  # noqa: E402
from maestro.report.rules import render as render_rules  # noqa: E402


def main() -> None:
    (ROOT / "docs" / "rules.md").write_text(render_rules(), encoding="utf-8")
    (ROOT / "docs" / "cli.md").write_text(render_cli(), encoding="utf-8")
    print("wrote docs/rules.md and docs/cli.md")


if __name__ == "__main__":
    main()
