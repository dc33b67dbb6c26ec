"""maestro ledger show | export | import | prove | verify | anchor | request | approve | submit"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from maestro import state
from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import (
    TEXT_AND_JSON,
    TEXT_JSON_YAML,
    FormatAlias,
    JsonFlag,
    json_as,
    output_option,
    resolve_format,
    say,
    write_output,
)
from maestro.cli.reference import examples
from maestro.errors import UsageError
from maestro.ledger import anchor, cosign, export, pinned, query
from maestro.ledger.dualcontrol import Rule, rules_from
from maestro.ledger.keys import KEYS_DIR, Keyring, key_path, load_keyring, read_signing_key
from maestro.ledger.statement import Action, Subject
from maestro.ledger.store import Ledger
from maestro.ledger.verify import read_checkpoint
from maestro.report import ledger as out

ledger_app = typer.Typer(help="The signed provenance ledger of every action.", no_args_is_help=True)

StateOpt = Annotated[
    Path | None, typer.Option("--state", metavar="FILE", help="State store (default: .maestro/state.db).")
]
KeysOpt = Annotated[
    Path | None, typer.Option("--keys", metavar="DIR", help="Trusted public keys (default: .maestro/keys/).")
]
KeysFromOpt = Annotated[
    str | None,
    typer.Option(
        "--keys-from",
        metavar="REV",
        help="Trust the keys in .maestro/keys/ at this git revision (e.g. main), not the checkout.",
    ),
]
OutputOpt = Annotated[str | None, output_option(TEXT_AND_JSON)]
ManifestsOpt = Annotated[
    list[Path] | None, typer.Option("--manifests", "-m", help="Manifests whose dual-control rules apply.")
]


def repository_root() -> Path:
    # loaded on use: maestro.manifests.validate imports the schema and CEL machinery (~0.25 s), which only
    # `verify`, `import` and `submit` need (for the dual-control rules)
    from maestro.manifests.validate import repository_root as root

    return root()


def _store(path: Path | None) -> Path | str:
    return path or state.default_path(repository_root())


def _open(path: Path | None) -> Ledger:
    return Ledger.open(_store(path), readonly=True)


def _keyring(folder: Path | None, ref: str | None = None) -> Keyring:
    if ref is not None:
        if folder is not None:
            raise UsageError("pass --keys DIR or --keys-from REF, not both")
        keyring = pinned.keyring_at(repository_root(), ref)
        if not len(keyring):
            raise UsageError(f"no trusted public keys in {KEYS_DIR} at {ref}; commit them there first")
        return keyring
    where = folder or repository_root() / KEYS_DIR
    keyring = load_keyring(where)
    if not len(keyring):
        raise UsageError(f"no trusted public keys in {where}; run `maestro keys init`, or pass --keys DIR")
    return keyring


def _rules(paths: list[Path] | None) -> list[Rule]:
    """Dual-control rules of the Policies and AutonomyLevels, and the Rollouts' approvals pinned to their
    digests, in the manifests (none without manifests)."""
    from maestro.manifests.kinds.autonomylevel import AutonomyLevel
    from maestro.manifests.kinds.policy import Policy
    from maestro.manifests.kinds.rollout import Rollout
    from maestro.manifests.validate import default_paths, validate
    from maestro.router.table import content_hash

    try:
        manifests = validate(paths or default_paths()).manifests
    except UsageError:
        if paths:
            raise
        return []
    pinned = [
        Rule(
            f"Rollout/{doc.name}",
            "rollout.transition",
            rollout.approvals_required,
            digest=content_hash(doc).removeprefix("sha256:"),
            roles=tuple(sorted(set(rollout.approval_roles))),
        )
        for doc in manifests.of_kind("Rollout")
        if isinstance(rollout := doc.record, Rollout) and rollout.approvals_required
    ]
    return rules_from(manifests.records(Policy), manifests.records(AutonomyLevel)) + pinned


@ledger_app.command("show", epilog=examples("maestro ledger show --since 7d", "maestro ledger show --json"))
def show_command(
    since: Annotated[
        str | None, typer.Option("--since", metavar="WHEN", help="From this date/time or age (2h, 7d).")
    ] = None,
    output: Annotated[str | None, output_option(TEXT_JSON_YAML)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
    store: StateOpt = None,
) -> None:
    """List the entries: index, time, action, actor, autonomy level, signers (json: one Statement a line;
    yaml: one document each)."""
    fmt = resolve_format(TEXT_JSON_YAML, output, as_json, format_alias)
    cutoff = query.parse_since(since) if since else None
    if not query.has_ledger(_store(store)):
        write_output(out.empty_text(str(_store(store))) if fmt == "text" else "", None)
        return
    with _open(store) as ledger:
        shown = list(query.show(ledger, cutoff))
    write_output(out.shown_text(shown) if fmt == "text" else json_as(fmt, out.shown_json(shown)), None)


@ledger_app.command("export", epilog=examples("maestro ledger export ledger.intoto.jsonl"))
def export_command(
    file: Annotated[Path, typer.Argument(help="The .intoto.jsonl file to write.")],
    store: StateOpt = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Write the ledger as .intoto.jsonl: the head checkpoint, then every entry and checkpoint in order."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    with _open(store) as ledger:
        count = export.write(ledger, file)
    say(fmt, f"wrote {count} entries to {file}", {"file": str(file), "entries": count})


@ledger_app.command("import", epilog=examples("maestro ledger import ledger.intoto.jsonl"))
def import_command(
    file: Annotated[Path, typer.Argument(help="An .intoto.jsonl export.")],
    store: StateOpt = None,
    keys: KeysOpt = None,
    manifests: ManifestsOpt = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Verify an export and add the entries this store lacks (an empty store, or a prefix of the export)."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    keyring, rules = _keyring(keys), _rules(manifests)
    with Ledger.open(_store(store)) as ledger:
        added = export.import_file(ledger, file, keyring, rules)
    say(fmt, f"imported {added} entries from {file}", {"file": str(file), "imported": added})


@ledger_app.command(
    "prove", epilog=examples("maestro ledger prove 3", "maestro ledger prove 0 --consistency-from 2 --json")
)
def prove_command(
    entry: Annotated[int, typer.Argument(help="Index of the entry.", min=0)],
    since_size: Annotated[
        int | None,
        typer.Option("--consistency-from", metavar="N", help="Instead: prove the tree of N entries is a prefix."),
    ] = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
    store: StateOpt = None,
    keys: KeysOpt = None,
) -> None:
    """An inclusion proof of ENTRY in the latest signed checkpoint (RFC 9162), checked before it is printed."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    keyring = _keyring(keys)
    with _open(store) as ledger:
        if since_size is not None:
            c = query.prove_consistency(ledger, since_size, keyring)
            text = out.consistency_text(c) if fmt == "text" else json.dumps(out.consistency_dict(c), indent=2) + "\n"
        else:
            p = query.prove_inclusion(ledger, entry, keyring)
            text = out.inclusion_text(p) if fmt == "text" else json.dumps(out.inclusion_dict(p), indent=2) + "\n"
    write_output(text, None)


@ledger_app.command(
    "verify",
    epilog=examples("maestro ledger verify", "maestro ledger verify ledger.intoto.jsonl --checkpoint kept.checkpoint"),
)
def verify_command(
    file: Annotated[Path | None, typer.Argument(help="An .intoto.jsonl export (default: the state store).")] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", metavar="FILE", help="A checkpoint kept elsewhere the log must extend."),
    ] = None,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", metavar="FILE", help="A Sigstore bundle of a checkpoint (from `ledger anchor`)."),
    ] = None,
    identity: Annotated[
        str | None, typer.Option("--identity", metavar="IDENTITY", help="The workflow identity the bundle must carry.")
    ] = None,
    issuer: Annotated[
        str, typer.Option("--issuer", metavar="URL", help="The OIDC issuer of that identity.")
    ] = anchor.GITHUB_ISSUER,
    trusted_root: Annotated[
        Path | None,
        typer.Option("--trusted-root", metavar="FILE", help="Sigstore trusted root (default: the pinned one)."),
    ] = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
    store: StateOpt = None,
    keys: KeysOpt = None,
    keys_from: KeysFromOpt = None,
    manifests: ManifestsOpt = None,
) -> None:
    """Check offline: every signature, chain link, checkpoint root, checkpoint signature and consistency."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    keyring, rules = _keyring(keys, keys_from), _rules(manifests)
    notes = [_read_text(p) for p in checkpoint or []]
    if bundle is not None:
        if not identity:
            raise typer.BadParameter("--bundle needs the expected --identity", param_hint="--identity")
        note_path = anchor.note_for_bundle(bundle)
        note = _read_text(note_path)
        anchor.verify(note.encode(), bundle, identity, issuer, trusted_root)
        notes.append(note)
    if file is not None:
        result, what = export.verify_file(file, keyring, rules, trusted=notes), str(file)
    else:
        with _open(store) as ledger:
            result, what = query.verify_store(ledger, keyring, rules, trusted=notes), ledger.where
    text = (
        out.report_text(result, what) if fmt == "text" else json.dumps(out.report_dict(result, what), indent=2) + "\n"
    )
    write_output(text, None)
    if not result.ok:
        raise typer.Exit(EXIT_FINDINGS)


@ledger_app.command("anchor", epilog=examples("maestro ledger anchor ledger.intoto.jsonl"))
def anchor_command(
    file: Annotated[Path, typer.Argument(help="An .intoto.jsonl export whose head checkpoint to anchor.")],
    keys: KeysOpt = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Sign the export's latest checkpoint with Sigstore keyless signing (GitHub Actions OIDC only)."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    head = export.read(file).head
    assert head is not None
    note = read_checkpoint(head, _keyring(keys)).note
    note_path = anchor.checkpoint_path(file)
    bundle = note_path.with_name(note_path.name + anchor.BUNDLE_SUFFIX)
    anchor.require_oidc()
    note_path.write_text(note, encoding="utf-8")
    anchor.sign(note.encode(), bundle)
    say(fmt, f"wrote {note_path} and {bundle}", {"checkpoint": str(note_path), "bundle": str(bundle)})


KeyOpt = Annotated[
    Path | None,
    typer.Option("--key", metavar="FILE", help="Your signing key (default: $MAESTRO_LEDGER_KEY or ~/.config/maestro)."),
]


@ledger_app.command(
    "request",
    epilog=examples(
        "maestro ledger request autonomy.raise --level L3 --subject level=manifests/autonomy.yaml --out-file raise.json"
    ),
)
def request_command(
    action: Annotated[str, typer.Argument(help="The guarded action, e.g. autonomy.raise.")],
    out_file: Annotated[Path, typer.Option("--out-file", "--out", metavar="FILE", help="The request file to write.")],
    subject: Annotated[
        list[str],
        typer.Option("--subject", metavar="NAME=FILE", help="NAME=FILE: what the action is about (repeatable)."),
    ],
    level: Annotated[
        str | None, typer.Option("--level", metavar="LEVEL", help="The autonomy level it concerns.")
    ] = None,
    key: KeyOpt = None,
    store: StateOpt = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Prepare a dual-control entry at the ledger's head, signed by you, for approvers to co-sign."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    signing = read_signing_key(key_path(key))
    subjects = [_subject(item) for item in subject]
    entry = Action(action, signing.name, subjects, autonomy_level=level)
    with Ledger.open(_store(store)) as ledger:
        cosign.write(ledger.prepare(entry, signing), out_file)
    next_step = f"maestro ledger approve {out_file}"
    say(fmt, f"wrote {out_file}: ask the approvers to run `{next_step}`", {"file": str(out_file), "next": next_step})


@ledger_app.command("approve", epilog=examples("maestro ledger approve raise.json"))
def approve_command(
    file: Annotated[Path, typer.Argument(help="A request from `maestro ledger request`.")],
    key: KeyOpt = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Add your signature to a request (you cannot approve your own)."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    signing = read_signing_key(key_path(key))
    entry = cosign.approve(file, signing)
    level = f" to {entry.autonomy_level}" if entry.autonomy_level else ""
    data = {
        "file": str(file),
        "approver": signing.name,
        "action": entry.action,
        "level": entry.autonomy_level,
        "requester": entry.actor,
    }
    say(fmt, f"{signing.name} approved '{entry.action}'{level} requested by {entry.actor} ({file})", data)


@ledger_app.command("submit", epilog=examples("maestro ledger submit raise.json"))
def submit_command(
    file: Annotated[Path, typer.Argument(help="An approved request.")],
    key: KeyOpt = None,
    store: StateOpt = None,
    keys: KeysOpt = None,
    keys_from: KeysFromOpt = None,
    manifests: ManifestsOpt = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Append an approved request; refused when its approvals fall short of the dual-control rules."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    signing = read_signing_key(key_path(key))
    envelope, _ = cosign.read(file)
    keyring, rules = _keyring(keys, keys_from), _rules(manifests)
    with Ledger.open(_store(store)) as ledger:
        index = ledger.append_envelope(envelope, keyring, rules, signing)
    say(fmt, f"appended entry {index}", {"file": str(file), "index": index})


def _subject(item: str) -> Subject:
    name, sep, path = item.partition("=")
    if not sep or not name:
        raise typer.BadParameter(f"'{item}' is not NAME=FILE", param_hint="--subject")
    try:
        return Subject.of(name, Path(path).read_bytes())
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from e


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read {path}: {getattr(e, 'strerror', None) or 'not UTF-8'}") from e


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
