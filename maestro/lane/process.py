"""Starting the lane's server as a detached process group, and stopping the whole group.

The server runs in its own session (``setsid``): its pid is its process group id, and vLLM's
engine workers join that group, so ``stop`` can signal everything the lane started with one ``killpg``:
SIGTERM, a grace period, then SIGKILL. The pid file holds the group id for other maestro processes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from maestro.lane.errors import LaneError


@dataclass(frozen=True, slots=True)
class Started:
    pid: int
    log: Path
    pid_file: Path


def port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now (nothing listens there)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise LaneError(f"cannot bind {host}:{port}: {e.strerror or e}") from e
    return True


def start(argv: Sequence[str], env: Mapping[str, str], log: Path, pid_file: Path) -> Started:
    """Start ``argv`` in a new session with stdout and stderr appended to ``log``; write its pid.

    ``posix_spawn`` rather than ``subprocess.Popen``: the server outlives this process on purpose, and no
    Popen object is left to warn about a child still running.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"--- maestro: starting {' '.join(argv)}\n".encode())
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    null = os.open(os.devnull, os.O_RDONLY)
    actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, fd, 1), (os.POSIX_SPAWN_DUP2, fd, 2)]
    try:
        pid = os.posix_spawn(argv[0], list(argv), dict(env), file_actions=actions, setsid=True)
    except OSError as e:
        raise LaneError(f"cannot start {argv[0]}: {e.strerror or e}; run `maestro lane install`") from e
    finally:
        os.close(fd)
        os.close(null)
    pid_file.write_text(f"{pid}\n", encoding="utf-8")
    return Started(pid, log, pid_file)


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie child of ours is reaped and counts as gone)."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def group_alive(pgid: int) -> bool:
    """Whether any process of group ``pgid`` still runs."""
    _reap(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    members = _members(pgid)
    return members is None or any(not _zombie(pid) for pid in members)


def stop(pgid: int, grace_s: float = 15.0, poll_s: float = 0.05) -> str:
    """SIGTERM the group, wait up to ``grace_s``, then SIGKILL; return "stopped", "killed" or "gone"."""
    if not group_alive(pgid):
        return "gone"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    if _wait_gone(pgid, grace_s, poll_s):
        return "stopped"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    if _wait_gone(pgid, 5.0, poll_s):
        return "killed"
    raise LaneError(f"process group {pgid} survived SIGKILL; look at `ps -g {pgid}`")


def _wait_gone(pgid: int, timeout_s: float, poll_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return True
        time.sleep(poll_s)
    return not group_alive(pgid)


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()  # fields after the command name: state, ppid, pgrp, ...


def _zombie(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] in ("Z", "X")


def _members(pgid: int) -> list[int] | None:
    """The pids in group ``pgid`` from /proc; None where there is no /proc."""
    if not Path("/proc/self/stat").exists():
        return None
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[2] == str(pgid):
            members.append(int(entry.name))
    return members
