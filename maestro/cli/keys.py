"""maestro keys init | list"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from maestro.cli.output import TEXT_AND_JSON, FormatAlias, JsonFlag, output_option, resolve_format, say
from maestro.cli.output import as_json as json_text
from maestro.cli.reference import examples
from maestro.errors import UsageError
from maestro.ledger.keys import KEYS_DIR, SigningKey, key_path, load_keyring, write_public_key, write_signing_key
from maestro.manifests.validate import repository_root

keys_app = typer.Typer(help="Signing keys of the provenance ledger.", no_args_is_help=True)

_GITIGNORE = "# the ledger's state store is local; commit keys/*.pub only\nstate.db*\n"


@keys_app.command(
    "init", epilog=examples("maestro keys init --name alice", "maestro keys init --name bob --role support-lead")
)
def init_command(
    name: Annotated[
        str | None, typer.Option("--name", metavar="NAME", help="Who holds the key (default: your user name).")
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key", metavar="FILE", help="Private key file (default: $MAESTRO_LEDGER_KEY or ~/.config/maestro)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key.")] = False,
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            metavar="ROLE",
            help="An approver role the key's holder gets in .maestro/keys/roles.json (repeatable).",
        ),
    ] = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Create an Ed25519 signing key (file mode 0600, outside the repository) and commit its public key."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    root = repository_root()
    signing = SigningKey.generate(name or getpass.getuser())
    where = key_path(key)
    if where.resolve().is_relative_to(root.resolve()):
        raise UsageError(
            f"{where} is inside the repository {root}, where it could be committed; keep the private key outside "
            "it (the default is ~/.config/maestro/ledger.key), and commit only .maestro/keys/*.pub"
        )
    write_signing_key(signing, where, force=force)
    public = write_public_key(signing.public, root, force=force)
    ignore = root / ".maestro" / ".gitignore"
    if not ignore.exists():
        ignore.write_text(_GITIGNORE, encoding="utf-8")
    committed = [public.relative_to(root)]
    if role:
        from maestro.ledger import roles

        committed.append(roles.grant(public.parent, signing.name, role).relative_to(root))
    next_step = f"git add {' '.join(str(c) for c in committed)} && git commit"
    text = (
        f"private key: {where} (mode 0600; keep it out of the repository)\n"
        f"public key:  {public}\nkey id:      {signing.keyid}\n\nNext: {next_step}"
    )
    data = {
        "private_key": str(where),
        "public_key": str(public),
        "keyid": signing.keyid,
        "roles": sorted(set(role or [])),
        "next": next_step,
    }
    say(fmt, text, data)


@keys_app.command("list", epilog=examples("maestro keys list --json"))
def list_command(
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """The public keys this repository trusts (.maestro/keys/*.pub)."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    keyring = load_keyring(repository_root() / KEYS_DIR)
    if fmt == "json":
        typer.echo(json_text([{"name": public.name, "keyid": public.keyid} for public in keyring]), nl=False)
        return
    for public in keyring:
        typer.echo(f"{public.name:<24} {public.keyid}")
    if not len(keyring):
        typer.echo("no trusted keys; run `maestro keys init`")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
