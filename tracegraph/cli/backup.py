"""`tracegraph backup OUT`, `backup verify IN`, `backup keygen NAME` and `tracegraph restore IN`
(docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from typer.core import TyperGroup

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, print_json, settings
from tracegraph.engine.errors import ValidationFailed


class _DefaultCreate(TyperGroup):
    """`tracegraph backup OUT` means `tracegraph backup create OUT`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own click Context type
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=_DefaultCreate, no_args_is_help=True,
                  help="Back up the embedded database with its keys and settings; check a backup offline.")

PASS_OPT = typer.Option(None, "--passphrase-file", help="Encrypt/decrypt with the passphrase in this file "
                        "(scrypt + AES-256-GCM).")


def _secret(path: Optional[Path]) -> bytes | None:
    if path is None:
        return None
    data = path.read_bytes().rstrip(b"\r\n")
    if not data:
        raise ValidationFailed(f"the passphrase file {path} is empty")
    return data


def _read(path: Optional[Path]) -> bytes | None:
    return None if path is None else path.read_bytes()


@app.command("create")
@clean_errors
def create(
    out: Path = typer.Argument(..., help="The backup file to write (outside the data folder)."),
    passphrase_file: Optional[Path] = PASS_OPT,
    recipient: Optional[Path] = typer.Option(None, "--recipient", help="Encrypt to this X25519 public key (PEM)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Take a consistent backup while writers run: database snapshot, keys, settings, signed manifest.

    Example: tracegraph backup /backups/tg-2026-03-01.tgbk --passphrase-file /secure/backup-pass
    """
    from tracegraph.engine.ops.backup import take_backup
    from tracegraph.engine.stores import open_store

    s = settings()
    store = open_store(s)
    try:
        rep = take_backup(store, s.data_dir, out, settings=s, passphrase=_secret(passphrase_file),
                          recipient=_read(recipient))
    finally:
        store.close()
    if as_json:
        print_json(rep.model_dump())
    else:
        console.print(f"backup written to {rep.path} ({rep.bytes:,} bytes, {rep.files} files, "
                      f"encrypted: {rep.encrypted or 'no'}); audit head seq {rep.audit_head['seq']} "
                      f"{str(rep.audit_head['hash'])[:16]}…, {rep.seconds:.1f} s")


@app.command("verify")
@clean_errors
def verify_cmd(
    path: Path = typer.Argument(..., help="The backup file."),
    passphrase_file: Optional[Path] = PASS_OPT,
    identity: Optional[Path] = typer.Option(None, "--identity", help="X25519 private key (PEM) of the recipient."),
    public_key: Optional[Path] = typer.Option(None, "--public-key", help="Trusted audit public key: the manifest "
                                              "must be signed by it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a backup offline: decryption, hashes, signed manifest, and that the snapshot loads with
    the manifest's audit head and a chain that verifies (in a throwaway server). Exit 1 if not.

    Example: tracegraph backup verify /backups/tg-2026-03-01.tgbk --passphrase-file /secure/backup-pass
    """
    from tracegraph.engine.ops.backup import verify_backup

    rep = verify_backup(path, passphrase=_secret(passphrase_file), identity=_read(identity),
                        public_key=_read(public_key))
    if as_json:
        print_json(rep.model_dump())
    elif rep.ok:
        h = rep.manifest.get("audit_head", {})
        console.print(f"[green]OK[/green] {path}: {len(rep.manifest.get('files', []))} files, snapshot loads, audit "
                      f"head seq {h.get('seq')} {str(h.get('hash'))[:16]}…, chain verifies "
                      f"({rep.audit.entries_checked if rep.audit else 0} entries); taken {rep.manifest.get('created_at')}")
    else:
        console.print(f"[red]REFUSED[/red] {path}:")
        for p in rep.problems:
            console.print(f"  - {p}")
    if not rep.ok:
        raise typer.Exit(1)


@app.command("keygen")
@clean_errors
def keygen_cmd(name: Path = typer.Argument(..., help="Writes NAME.key (private, 0600) and NAME.pub.")) -> None:
    """Make an X25519 key pair for `backup --recipient NAME.pub` / `restore --identity NAME.key`.

    Example: tracegraph backup keygen /secure/backup-recipient
    """
    from tracegraph.engine.ops.archive import keygen

    priv, pub = keygen(name)
    console.print(f"private key {priv} (keep it offline), public key {pub} (give it to the backup job)")


@clean_errors
def restore_cmd(
    path: Path = typer.Argument(..., help="The backup file."),
    data_dir: Path = typer.Option(..., "--data-dir", help="Folder to restore into (empty, or --force)."),
    force: bool = typer.Option(False, "--force", help="Restore into a non-empty folder (its contents are moved "
                               "aside to DIR.replaced-TIME). A running database is never overwritten."),
    passphrase_file: Optional[Path] = PASS_OPT,
    identity: Optional[Path] = typer.Option(None, "--identity", help="X25519 private key (PEM) of the recipient."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Restore a backup into a data folder, start the database and run `audit verify`. Exit 1 if verify fails.

    Example: tracegraph restore /backups/tg-2026-03-01.tgbk --data-dir /srv/tracegraph-restored
    """
    from tracegraph.engine.ops.backup import restore_backup

    rep = restore_backup(path, data_dir, force=force, passphrase=_secret(passphrase_file), identity=_read(identity),
                         appendfsync=settings().appendfsync)
    if as_json:
        print_json(rep.model_dump())
    else:
        if rep.moved_aside:
            console.print(f"previous contents moved to {rep.moved_aside}")
        a: Any = rep.audit
        state = "[green]OK[/green]" if rep.ok else "[red]FAILED[/red]"
        console.print(f"restored into {rep.data_dir} in {rep.seconds:.1f} s, database running; audit verify {state}: "
                      f"entries {a.from_seq}..{a.to_seq}, {a.records_checked} records, head seq {rep.audit_head['seq']}")
        if not rep.ok and a.first_error is not None:
            console.print(f"first broken entry {a.first_error.seq}: {a.first_error.message}")
    if not rep.ok:
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="backup")
    root.command("restore")(restore_cmd)
