"""The exception tree shared by every maestro package.

This module imports nothing of maestro, so every subsystem may import it::

    MaestroError
    ├── UsageError             bad input from the user: a missing file, an unknown KIND/NAME, a bad option
    ├── ManifestError          manifests could not be read as a set (raised only where diagnostics can't be)
    │   └── SourceError        a git revision or path could not be read
    └── InternalError          a bug in maestro: reported with a short message, exit code 3

The CLI's error boundary (``maestro.cli.main``) maps these to exit codes: usage and bad input 2,
internal 3. Findings in manifests are not exceptions: they are diagnostics, and exit 1.
"""

from __future__ import annotations


class MaestroError(Exception):
    """Base class of every error maestro raises on purpose."""


class UsageError(MaestroError):
    """The user asked for something that cannot be done as asked; the message says what to do."""


class ManifestError(MaestroError):
    """A set of manifests cannot be used at all."""


class SourceError(ManifestError):
    """A path or git revision named by the user could not be read."""


class InternalError(MaestroError):
    """An unexpected state inside maestro."""
