"""Offline verification of a ledger: every signature, every chain link, every checkpoint.

Entries are checked in chunks, in worker processes when there are many (Ed25519 verification dominates);
the Merkle tree and the checkpoints are checked in this process over the chunks' leaf hashes. A problem
names the entry index where the log breaks: the first entry that is altered, missing, out of place or
not covered by the signed checkpoints, or whose actor did not sign it, or whose approvals fall short or had
expired when the first checkpoint after it was signed (``dualcontrol``).
"""

from __future__ import annotations

import bisect
import json
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from maestro.ledger import checkpoint as cp
from maestro.ledger import dsse, signoffs
from maestro.ledger import statement as st
from maestro.ledger.dualcontrol import Rule, expired, expiry, parse_time, shortfall
from maestro.ledger.keys import Keyring, PublicKey
from maestro.ledger.merkle import Tree, leaf_hash, verify_consistency

PARALLEL_FROM = 20_000
MAX_PROBLEMS_PER_CHUNK = 50


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """Where the log breaks (``index`` of the entry; None for a problem of the file as a whole) and why."""

    index: int | None
    message: str


@dataclass(frozen=True)
class Report:
    entries: int
    checkpoints: int
    origin: str | None
    problems: tuple[Problem, ...]
    omitted: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_break(self) -> int | None:
        indexes = [p.index for p in self.problems if p.index is not None]
        return min(indexes) if indexes else None


@dataclass(frozen=True, slots=True)
class StoreEntries:
    """The entries of a state store, read by each worker process itself (only the path is sent)."""

    path: str
    count: int

    def __len__(self) -> int:
        return self.count

    def load(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        from maestro.ledger.store import Ledger

        with Ledger.open(self.path, readonly=True) as ledger:
            return ledger.lines(start, stop)


@dataclass(frozen=True, slots=True)
class CheckpointLine:
    """A checkpoint envelope and, in an export, how many entries stand before it."""

    envelope: bytes
    position: int | None = None


def verify(
    entries: Sequence[bytes] | StoreEntries,
    checkpoints: Sequence[CheckpointLine],
    keyring: Keyring,
    rules: Sequence[Rule] = (),
    *,
    origin: str | None = None,
    head: bytes | None = None,
    trusted: Sequence[str] = (),
    workers: int | None = None,
) -> Report:
    """Verify ``entries`` (envelope lines in order) against ``checkpoints`` and the ``head`` of an export.

    ``trusted`` are checkpoint notes kept elsewhere (an anchored one): the log must be consistent with each.
    """
    leaves, problems, omitted, timed = _check_entries(entries, keyring, rules, workers)
    tree = Tree(leaves)
    checker = _Checkpoints(tree, keyring, origin, problems)
    if head is not None:
        checker.head(head)
    for line in checkpoints:
        checker.check(line)
    checker.coverage()
    for note in trusted:
        checker.external(note)
    for approval in timed:
        checker.approval(approval)
    return Report(len(entries), len(checkpoints), checker.origin, tuple(sorted(problems, key=_order)), omitted)


def _order(p: Problem) -> tuple[int, int]:
    return (-1, 0) if p.index is None else (p.index, 0)


@dataclass(frozen=True, slots=True)
class Timed:
    """An entry whose approvals expire: checked against the first signed checkpoint after it."""

    index: int
    time: str
    rule: Rule


_Result = tuple[list[bytes], list[Problem], int, list[Timed]]


def _check_entries(
    entries: Sequence[bytes] | StoreEntries, keyring: Keyring, rules: Sequence[Rule], workers: int | None
) -> _Result:
    n = len(entries)
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if n >= PARALLEL_FROM else 1
    keys = [(k.name, k.raw) for k in keyring]
    if workers <= 1:
        lines = entries.load() if isinstance(entries, StoreEntries) else entries
        return _chunk((lines, 0, st.GENESIS, keys, list(rules)))
    step = -(-n // (workers * 2))
    leaves: list[bytes] = []
    problems: list[Problem] = []
    omitted = 0
    timed: list[Timed] = []
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        if isinstance(entries, StoreEntries):
            store_jobs = [(entries, i, min(n, i + step), keys, list(rules)) for i in range(0, n, step)]
            results = pool.map(_store_chunk, store_jobs)
        else:
            jobs = [
                (entries[i : i + step], i, leaf_hash(entries[i - 1]).hex() if i else st.GENESIS, keys, list(rules))
                for i in range(0, n, step)
            ]
            results = pool.map(_chunk, jobs)
        for part, found, more, expiring in results:
            leaves.extend(part)
            problems.extend(found)
            omitted += more
            timed.extend(expiring)
    return leaves, problems, omitted, timed


_Job = tuple[Sequence[bytes], int, str, list[tuple[str, bytes]], list[Rule]]


def _store_chunk(job: tuple[StoreEntries, int, int, list[tuple[str, bytes]], list[Rule]]) -> _Result:
    """A chunk read from the store by the worker, with the entry before it for the chain link."""
    source, start, stop, keys, rules = job
    lines = source.load(max(0, start - 1), stop)
    if start == 0:
        return _chunk((lines, 0, st.GENESIS, keys, rules))
    return _chunk((lines[1:], start, leaf_hash(lines[0]).hex(), keys, rules))


def _chunk(job: _Job) -> _Result:
    """Check entries ``start..`` of one chunk; return their leaf hashes and the problems found."""
    lines, start, previous, keys, rules = job
    keyring = Keyring.of(PublicKey(name, raw) for name, raw in keys)
    leaves: list[bytes] = []
    problems: list[Problem] = []
    omitted = 0
    timed: list[Timed] = []
    for offset, line in enumerate(lines):
        index = start + offset
        leaf = leaf_hash(line)
        leaves.append(leaf)
        message = _check_entry(line, index, previous, keyring, rules, timed=timed)
        previous = leaf.hex()
        if message:
            if len(problems) < MAX_PROBLEMS_PER_CHUNK:
                problems.append(Problem(index, f"entry {index}: {message}"))
            else:
                omitted += 1
    return leaves, problems, omitted, timed


def _check_entry(
    line: bytes, index: int, previous: str, keyring: Keyring, rules: Sequence[Rule], *, timed: list[Timed]
) -> str:
    try:
        envelope = dsse.decode(line)
    except dsse.EnvelopeFormatError as e:
        return f"unreadable envelope: {e}"
    if envelope.payload_type != dsse.INTOTO_PAYLOAD_TYPE:
        return f"payload type is '{envelope.payload_type}', not an in-toto statement"
    if not envelope.signatures:
        return "the envelope is not signed"
    signers = envelope.valid_signers(keyring)
    if len(signers) != len(envelope.signatures):
        bad = [s.keyid[:16] for s in envelope.signatures if keyring.get(s.keyid) not in signers]
        if not bad:
            return "a key signed it more than once"
        return f"signature by key {', '.join(bad)} does not verify or is not a trusted key in .maestro/keys/"
    try:
        entry = st.parse(envelope.payload)
    except st.StatementError as e:
        return str(e)
    if entry.index != index:
        return f"claims to be entry {entry.index}: an entry was deleted, inserted or moved here"
    if entry.previous != previous:
        return "its link to the previous entry is broken: an entry before it was altered or replaced"
    endorsers, unendorsed = signoffs.carried(entry.predicate, keyring, rules)
    if unendorsed:
        return unendorsed
    problem = shortfall(rules, entry.action, entry.autonomy_level, entry.actor, signers, endorsers=endorsers)
    rule = None if problem else expiry(rules, entry.action, entry.autonomy_level)
    if rule is not None:
        timed.append(Timed(index, entry.time, rule))
    return problem


def read_checkpoint(line: bytes, keyring: Keyring) -> cp.SignedCheckpoint:
    """A checkpoint envelope's signed note, checked: envelope signature, note signature, subject digest."""
    try:
        envelope = dsse.decode(line)
    except dsse.EnvelopeFormatError as e:
        raise cp.CheckpointError(f"unreadable envelope: {e}") from e
    signers = envelope.valid_signers(keyring)
    if not signers or len(signers) != len(envelope.signatures):
        raise cp.CheckpointError("its envelope signature does not verify against the trusted keys")
    try:
        data = json.loads(envelope.payload)
        if data["predicateType"] != st.CHECKPOINT_PREDICATE:
            raise cp.CheckpointError("not a checkpoint statement")
        note, subject = data["predicate"]["checkpoint"], data["subject"][0]
        signed = cp.verify(note, keyring)
        if subject != {"name": signed.checkpoint.origin, "digest": {"sha256": signed.checkpoint.root.hex()}}:
            raise cp.CheckpointError("its subject does not match its note")
    except (ValueError, KeyError, TypeError, IndexError) as e:
        if isinstance(e, cp.CheckpointError):
            raise
        raise cp.CheckpointError("not a checkpoint statement") from e
    return signed


class _Checkpoints:
    def __init__(self, tree: Tree, keyring: Keyring, origin: str | None, problems: list[Problem]) -> None:
        self.tree, self.keyring, self.origin, self.problems = tree, keyring, origin, problems
        self.broken = sorted({p.index for p in problems if p.index is not None})
        self.largest = 0
        self.head_size: int | None = None
        self.last_good: cp.Checkpoint | None = None
        self.tail: tuple[int | None, int] | None = None  # (position, size) of the last checkpoint line read
        self.times: dict[int, str] = {}  # size -> when a checkpoint of that size was signed

    def _read(self, line: bytes, where: str, index: int | None) -> cp.Checkpoint | None:
        try:
            checkpoint = read_checkpoint(line, self.keyring).checkpoint
        except cp.CheckpointError as e:
            self.problems.append(Problem(index, f"{where}: {e}"))
            return None
        if self.origin is None:
            self.origin = checkpoint.origin
        elif checkpoint.origin != self.origin:
            self.problems.append(
                Problem(index, f"{where}: belongs to another ledger ({checkpoint.origin}, not {self.origin})")
            )
            return None
        return checkpoint

    def head(self, line: bytes) -> None:
        checkpoint = self._read(line, "line 1 (the head checkpoint)", None)
        if checkpoint is not None:
            self.head_size = checkpoint.size
            self._against_tree(checkpoint, "the head checkpoint")

    def check(self, line: CheckpointLine) -> None:
        where = "a checkpoint" if line.position is None else f"the checkpoint after entry {line.position - 1}"
        checkpoint = self._read(line.envelope, where, line.position)
        self.tail = None if checkpoint is None else (line.position, checkpoint.size)
        if checkpoint is None:
            return
        if line.position is not None and line.position != checkpoint.size:
            self.problems.append(
                Problem(
                    min(line.position, checkpoint.size),
                    f"the checkpoint for {checkpoint.size} entries stands after entry {line.position - 1}: "
                    "entries were deleted or inserted before it",
                )
            )
        if self._against_tree(checkpoint, f"the checkpoint for {checkpoint.size} entries"):
            signed_at = _signed_at(line.envelope)
            if signed_at is not None:
                self.times.setdefault(checkpoint.size, signed_at)
            previous = self.last_good
            if previous is not None and previous.size <= checkpoint.size:
                proof = self.tree.consistency_proof(previous.size, checkpoint.size)
                if not verify_consistency(previous.size, checkpoint.size, previous.root, checkpoint.root, proof):
                    self.problems.append(
                        Problem(previous.size, f"checkpoints {previous.size} and {checkpoint.size} are inconsistent")
                    )
            self.last_good = checkpoint

    def _against_tree(self, checkpoint: cp.Checkpoint, what: str) -> bool:
        n = self.tree.size
        self.largest = max(self.largest, checkpoint.size)
        if checkpoint.size > n:
            self.problems.append(
                Problem(n, f"the log is truncated: {what} covers {checkpoint.size} entries, only {n} are here")
            )
            return False
        if self.tree.root(checkpoint.size) != checkpoint.root:
            since = self.last_good.size if self.last_good else 0
            # the entry checks usually name the entry exactly: the first broken one in the range is where it is
            since = min((i for i in self.broken if since <= i < checkpoint.size), default=since)
            self.problems.append(
                Problem(since, f"entries {since}..{checkpoint.size - 1} do not hash to the root signed in {what}")
            )
            return False
        return True

    def coverage(self) -> None:
        n = self.tree.size
        if self.head_size is not None and self.tail != (n, self.head_size):
            why = f"the file does not end with the checkpoint for its {n} entries: it was cut short or extended"
            self.problems.append(Problem(n, why))
        signed = self.head_size if self.head_size is not None else self.largest
        if n > signed:
            self.problems.append(Problem(signed, f"entries {signed}..{n - 1} are not covered by any signed checkpoint"))

    def external(self, note: str) -> None:
        try:
            checkpoint = cp.verify(note, self.keyring).checkpoint
        except cp.CheckpointError as e:
            self.problems.append(Problem(None, f"the given checkpoint: {e}"))
            return
        if self.origin is not None and checkpoint.origin != self.origin:
            self.problems.append(Problem(None, f"the given checkpoint is of another ledger ({checkpoint.origin})"))
            return
        n = self.tree.size
        if checkpoint.size > n:
            self.problems.append(
                Problem(n, f"the log is truncated: the given checkpoint covers {checkpoint.size} entries")
            )
            return
        proof = self.tree.consistency_proof(checkpoint.size, n)
        if not verify_consistency(checkpoint.size, n, checkpoint.root, self.tree.root(), proof):
            self.problems.append(
                Problem(0, f"the log is not an extension of the given checkpoint ({checkpoint.size} entries)")
            )

    def approval(self, timed: Timed) -> None:
        """Whether ``timed``'s approvals still stood when the first signed checkpoint after it was signed."""
        sizes = sorted(self.times)
        at = bisect.bisect_right(sizes, timed.index)
        if at == len(sizes):
            self.problems.append(
                Problem(
                    timed.index,
                    f"entry {timed.index}: its approvals expire (rule {timed.rule.name}) but no signed checkpoint "
                    "after it says when it was appended",
                )
            )
            return
        message = expired(timed.rule, timed.time, parse_time(self.times[sizes[at]]))
        if message:
            self.problems.append(Problem(timed.index, f"entry {timed.index}: {message}"))


def _signed_at(line: bytes) -> str | None:
    """The time in a checkpoint statement (already verified), or None when it has none that reads."""
    try:
        value = json.loads(dsse.decode(line).payload)["predicate"].get("time")
        return value if isinstance(value, str) and parse_time(value) else None
    except (ValueError, KeyError, TypeError, AttributeError, dsse.EnvelopeFormatError):
        return None
