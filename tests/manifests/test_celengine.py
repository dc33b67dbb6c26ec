"""maestro.manifests.celengine: the compiled CEL module, alone or beside the whole ``cel`` package, loaded once."""

from __future__ import annotations

import subprocess
import sys

import pytest

ENGINE_FIRST = """
import sys
from maestro.manifests.celengine import engine
module = engine()
assert "cel.cli" not in sys.modules and "prompt_toolkit" not in sys.modules
assert module.compile("a > 1").execute({"a": 2}) is True
import cel  # the package's own import finds the module registered, and does not load it a second time
assert cel.Program is module.Program and engine() is module
print(cel.evaluate("a + 1", {"a": 1}))
"""

PACKAGE_FIRST = """
import sys
import cel
from maestro.manifests.celengine import engine
assert engine() is sys.modules["cel.cel"]
print(engine().evaluate("a + 1", {"a": 1}))
"""


@pytest.mark.parametrize("script", [ENGINE_FIRST, PACKAGE_FIRST], ids=["engine-first", "package-first"])
def test_the_engine_and_the_package_share_one_module(script: str) -> None:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
