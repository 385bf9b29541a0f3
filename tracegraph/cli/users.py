"""`tracegraph users ...`, `tracegraph login|logout|whoami`: accounts, roles and CLI sessions.

Writing commands act as the logged-in user (`tracegraph login` saves a token in
`<data_dir>/session.json`, mode 0600) or, for scripts, TRACEGRAPH_USER + TRACEGRAPH_PASSWORD.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, print_json, settings, store

if TYPE_CHECKING:
    from tracegraph.engine.access.actor import Actor
    from tracegraph.engine.stores.base import GraphStore

app = typer.Typer(help="User accounts and roles (every change is audited).", no_args_is_help=True)

PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from stdin (one line).")


def _password(from_stdin: bool, prompt: str = "Password", confirm: bool = False) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    typed: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)  # click types it Any
    return typed


def _actor(s: GraphStore) -> Actor:
    from tracegraph.engine.access.auth import cli_actor

    return cli_actor(s, settings().data_dir)


def _show(user, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        print_json(user.model_dump())
    else:
        console.print(f"{user.id} ({user.name}): roles {', '.join(user.roles) or '-'}, {user.status}"
                      + (", LOCKED" if user.locked else ""))


@app.command()
@clean_errors
def init(
    username: str = typer.Option(..., "--username", prompt=True),
    name: str = typer.Option(..., "--name", prompt="Printed name (shown on signatures)"),
    password_stdin: bool = PASSWORD_STDIN,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create the first administrator (only when no user exists) and the checkpoint signing key.

    Example: echo 'a-long-Passphrase-1' | tracegraph users init --username admin --name "Ada Admin" --password-stdin
    """
    from tracegraph.engine.access.auth import init_admin
    from tracegraph.engine.audit.checkpoints import ensure_signing_key

    password = _password(password_stdin, confirm=True)
    s = store()
    try:
        user = init_admin(s, username, name, password)
    finally:
        s.close()
    ensure_signing_key(settings().data_dir)
    _show(user, as_json)


@app.command()
@clean_errors
def add(
    username: str = typer.Argument(...),
    name: str = typer.Option(..., "--name", help="Printed name (shown on signatures)."),
    roles: str = typer.Option("viewer", "--roles", help="Comma-separated roles."),
    reason: str = typer.Option("", "--reason"),
    password_stdin: bool = PASSWORD_STDIN,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a user (needs users.manage).

    Example: tracegraph users add qa.lead --name "Quinn Lead" --roles qa,qa_manager
    """
    from tracegraph.engine.access.auth import add_user

    password = _password(password_stdin, "Initial password", confirm=True)
    s = store()
    try:
        user = add_user(s, _actor(s), username, name, password, [r.strip() for r in roles.split(",") if r.strip()],
                        reason=reason)
    finally:
        s.close()
    _show(user, as_json)


@app.command("list")
@clean_errors
def list_(as_json: bool = JSON_OPTION) -> None:
    """List users, their roles and status.

    Example: tracegraph users list --json
    """
    from tracegraph.engine.access.auth import list_users

    s = store()
    try:
        users = list_users(s, _actor(s))
    finally:
        s.close()
    if as_json:
        print_json([u.model_dump() for u in users])
        return
    t = Table("user id", "name", "roles", "status", "locked", "failed", "created")
    for u in users:
        t.add_row(u.id, u.name, ", ".join(u.roles), u.status, "yes" if u.locked else "", str(u.failed_attempts),
                  u.created_at[:19])
    console.print(t)


def _simple(action: str):  # type: ignore[no-untyped-def]
    from tracegraph.engine.access import auth

    fn = {"disable": auth.disable_user, "enable": auth.enable_user}[action]

    @clean_errors
    def cmd(
        username: str = typer.Argument(...),
        reason: str = typer.Option("", "--reason"),
        as_json: bool = JSON_OPTION,
    ) -> None:
        s = store()
        try:
            user = fn(s, _actor(s), username, reason=reason)
        finally:
            s.close()
        _show(user, as_json)

    cmd.__doc__ = {
        "disable": "Disable a user (accounts are never deleted).\n\nExample: tracegraph users disable j.doe --reason left",
        "enable": "Re-enable a disabled user.\n\nExample: tracegraph users enable j.doe",
    }[action]
    return cmd


for _name in ("disable", "enable"):
    app.command(_name)(_simple(_name))


@app.command("locks")
@clean_errors
def locks(as_json: bool = JSON_OPTION) -> None:
    """Failed-login delays: accounts and client addresses with failures counted or a window open.

    Example: tracegraph users locks
    """
    from tracegraph.engine.access.login_throttle import list_throttles

    s = store()
    try:
        rows = list_throttles(s, _actor(s))
    finally:
        s.close()
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    t = Table("key", "failures", "last failure", "delayed until", "wait (s)")
    for r in rows:
        t.add_row(r.id, str(r.failures), (r.last_failed_at or "")[:19], (r.until or "")[:19] if r.active else "",
                  f"{r.retry_after_s:.0f}" if r.active else "")
    console.print(t if rows else "no failed-login delays")


@app.command("unlock")
@clean_errors
def unlock(
    username: str = typer.Argument(None, help="the user id whose failed-login delay to clear"),
    address: str = typer.Option(None, "--address", help="clear the delay of this client address instead"),
    reason: str = typer.Option("", "--reason"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Clear an account's failed-login delay (or, with --address, a client address's). Audited.

    Example: tracegraph users unlock j.doe --reason "identity confirmed by phone"
    """
    from tracegraph.engine.access import auth, login_throttle

    if bool(username) == bool(address):
        raise typer.BadParameter("give a user id or --address, not both")
    s = store()
    try:
        actor = _actor(s)
        if address:
            t = login_throttle.clear(s, actor, f"address:{address}", reason=reason)
        else:
            user = auth.unlock_user(s, actor, username, reason=reason)
    finally:
        s.close()
    if address:
        print_json(t.model_dump()) if as_json else console.print(f"cleared {t.id}")
    else:
        _show(user, as_json)


@app.command("set-roles")
@clean_errors
def set_roles(
    username: str = typer.Argument(...),
    roles: str = typer.Argument(..., help="Comma-separated roles (replaces the current ones)."),
    reason: str = typer.Option("", "--reason"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace a user's roles.

    Example: tracegraph users set-roles j.doe qa,complaint_handler --reason "new QA engineer"
    """
    from tracegraph.engine.access.auth import set_roles as do

    s = store()
    try:
        user = do(s, _actor(s), username, [r.strip() for r in roles.split(",") if r.strip()], reason=reason)
    finally:
        s.close()
    _show(user, as_json)


@app.command("reset-password")
@clean_errors
def reset_password(
    username: str = typer.Argument(...),
    reason: str = typer.Option("", "--reason"),
    password_stdin: bool = PASSWORD_STDIN,
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a new password for a user (also unlocks the account).

    Example: tracegraph users reset-password j.doe --reason "forgotten"
    """
    from tracegraph.engine.access.auth import reset_password as do

    password = _password(password_stdin, "New password", confirm=True)
    s = store()
    try:
        user = do(s, _actor(s), username, password, reason=reason)
    finally:
        s.close()
    _show(user, as_json)


def login(
    username: str = typer.Option(..., "--username", prompt=True),
    password_stdin: bool = PASSWORD_STDIN,
    as_json: bool = JSON_OPTION,
) -> None:
    """Log in: save a session token in the data folder (mode 0600) for later commands.

    Example: tracegraph login --username qa.lead
    """
    from tracegraph.engine.access.auth import login as do_login
    from tracegraph.engine.access.auth import save_session

    password = _password(password_stdin)
    s = store()
    try:
        result = do_login(s, username, password, ttl_minutes=settings().token_ttl_minutes)
    finally:
        s.close()
    path = save_session(settings().data_dir, result)
    if as_json:
        print_json({"user": result.user, "session": result.session, "expires_at": result.expires_at, "file": str(path)})
    else:
        console.print(f"logged in as {result.user} until {result.expires_at[:19]} UTC")


def logout(as_json: bool = JSON_OPTION) -> None:
    """Log out: revoke the saved token and delete it.

    Example: tracegraph logout
    """
    from tracegraph.engine.access.auth import clear_session, load_session
    from tracegraph.engine.access.auth import logout as do_logout

    saved = load_session(settings().data_dir)
    revoked = False
    if saved is not None:
        s = store()
        try:
            revoked = do_logout(s, saved.token)
        finally:
            s.close()
    clear_session(settings().data_dir)
    if as_json:
        print_json({"logged_out": saved is not None, "revoked": revoked})
    else:
        console.print("logged out" if saved else "no saved session")


def whoami(as_json: bool = JSON_OPTION) -> None:
    """Show the user that writing commands act as.

    Example: tracegraph whoami
    """
    s = store()
    try:
        a = _actor(s)
    finally:
        s.close()
    out = {"id": a.id, "name": a.name, "roles": sorted(a.roles), "session": a.session}
    if as_json:
        print_json(out)
    else:
        console.print(f"{a.name} ({a.id}), roles: {', '.join(sorted(a.roles))}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="users")
    root.command("login")(clean_errors(login))
    root.command("logout")(clean_errors(logout))
    root.command("whoami")(clean_errors(whoami))
