"""The CEL engine: the ``cel`` package's compiled module, loaded without the package's command-line tool.

``import cel`` (and ``import cel.cel``, which runs the package first) imports the package's REPL: typer,
prompt_toolkit, pygments and asyncio, a tenth of a CPU second at every ``maestro validate``. ``engine()``
loads the compiled module alone, with the import system's own finder, and registers it as ``cel.cel``: a later
``import cel`` anywhere finds it there and uses the same module. It must not be loaded twice: the extension
installs a logger once per process, and a second load aborts. Where the module cannot be found that way, it
is imported as usual.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
from types import ModuleType

_NAME = "cel.cel"
_LOCK = threading.Lock()


def engine() -> ModuleType:
    """The ``cel.cel`` module (``compile``, ``evaluate``, ``Program``), loaded once per process."""
    loaded = sys.modules.get(_NAME)
    if loaded is not None:
        return loaded
    with _LOCK:
        loaded = sys.modules.get(_NAME)
        if loaded is not None:
            return loaded
        if "cel" in sys.modules:  # the package is imported already: its module is the one to use
            return importlib.import_module(_NAME)
        package = importlib.util.find_spec("cel")  # finds the package without running it
        folders = list(package.submodule_search_locations or []) if package is not None else []
        spec = importlib.machinery.PathFinder.find_spec(_NAME, folders) if folders else None
        if spec is None or spec.loader is None:
            return importlib.import_module(_NAME)
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[_NAME]
            raise
        return module


__all__ = ["engine"]
