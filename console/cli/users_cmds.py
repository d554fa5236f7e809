"""`signoff init` and `signoff users …`: the first admin, then users and roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from console.cli.options import SignoffGroup, common, invocation, print_json, read_passphrase, table
from console.identity.permissions import ROLES


@click.command("init")
@click.option("--admin", "admin", required=True, help="Name of the first admin (and their key).")
@click.option(
    "--artifacts",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --db: the shared artifacts directory every client mounts (recorded in the store).",
)
@common()
def init(admin: str, artifacts: Path | None, **kwargs: Any) -> None:
    """Create a store whose first admin is ADMIN, and the log's genesis event.

    Uses the key ADMIN from your key directory, creating it if it does not exist. With --db,
    the store is created in an empty PostgreSQL database, its artifacts in --artifacts.

    \b
    Example:
        signoff init --admin alice --home ./governance
        signoff init --admin alice --db postgresql://signoff@db.internal/signoff \\
            --artifacts /mnt/signoff-artifacts
    """
    from audit.keys import KeyStore, Signer, check_name
    from console.errors import BadInput
    from console.identity.genesis import init_store
    from console.store.bootstrap import prepare_home
    from console.store.db import Store

    run = invocation(kwargs)
    check_name(admin, "admin name")
    store = Store(run.home, url=run.db)
    if run.db is None and artifacts is not None:
        raise BadInput(
            "--artifacts is for a team store (--db); a DuckDB store keeps them in --home"
        )
    if run.db is not None:
        if artifacts is None:
            raise BadInput(
                "--db needs --artifacts DIR: the artifacts directory every client mounts"
            )
        store.artifacts_dir = artifacts.absolute()
    prepare_home(store)
    keystore = KeyStore(run.keys())
    if not keystore.key_path(admin).exists():
        passphrase = read_passphrase(admin, run.passphrase_file, confirm=True)
        private, public, _ = keystore.create(admin, passphrase)
        click.echo(f"created key {private} and {public}")
    else:
        passphrase = read_passphrase(admin, run.passphrase_file)
    signer = Signer(admin, keystore.load_private(admin, passphrase))
    store_id = init_store(store, signer)
    where = run.home if run.db is None else store.backend.location()
    click.echo(f"created store {store_id} at {where}")
    click.echo(f"admin {admin} key fingerprint: {signer.keyid}")
    click.echo("record this fingerprint out of band: auditors check the log's genesis against it")


@click.group("users", cls=SignoffGroup)
def users() -> None:
    """People who may act on the store, and their roles (admins only change them)."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The user's role.")
@click.option(
    "--pubkey",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The user's public key (PEM from `signoff keys export`).",
)
@common()
def add(name: str, role: str, pubkey: Path, **kwargs: Any) -> None:
    """Register NAME with ROLE and their public key (admin only).

    A revoked NAME may be registered again with a new key: a new identity (its next
    generation); what the old key signed stays valid, and its approvals of pending requests
    stay void.

    \b
    Example:
        signoff users add bob --role reviewer --pubkey bob.pub --as alice
    """
    from audit.keys import load_public_pem
    from console.errors import BadInput
    from console.identity.users import add_user

    run = invocation(kwargs)
    if not pubkey.is_file():
        raise BadInput(f"--pubkey {pubkey} does not exist")
    public = load_public_pem(pubkey.read_bytes(), str(pubkey))
    store = run.store()
    view = add_user(store, run.signer(store), name, role, public)
    again = f" (generation {view.generation}, a new identity)" if view.generation > 1 else ""
    click.echo(f"added {view.name} as {view.role}{again}; key fingerprint {view.keyid}")


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--reason", required=True, help="Why the role changes (recorded in the log).")
@common()
def set_role_cmd(name: str, role: str, reason: str, **kwargs: Any) -> None:
    """Give NAME the role ROLE (admin only, signed); the last admin is never demoted.

    \b
    Example:
        signoff users set-role bob risk-officer --reason "joined model risk" --as alice
    """
    from console.identity.users import set_role

    run = invocation(kwargs)
    store = run.store()
    view = set_role(store, run.signer(store), name, role, reason)
    click.echo(f"{view.name} is now {view.role}")


@users.command("revoke")
@click.argument("name")
@common()
def revoke(name: str, **kwargs: Any) -> None:
    """Revoke NAME: their key signs nothing after this event (admin only).

    \b
    Example:
        signoff users revoke bob --as alice
    """
    from console.identity.users import revoke_user

    run = invocation(kwargs)
    store = run.store()
    seq = revoke_user(store, run.signer(store), name)
    click.echo(f"revoked {name} at log sequence {seq}")


@users.command("list")
@common(json_output=True)
def list_users_cmd(**kwargs: Any) -> None:
    """Users, roles, status and key fingerprints.

    \b
    Example:
        signoff users list --json
    """
    from console.identity.users import list_users

    run = invocation(kwargs)
    views = list_users(run.store())
    if run.as_json:
        print_json([v.__dict__ for v in views])
        return
    click.echo(
        table(
            [
                [
                    v.name,
                    v.role,
                    "active" if v.active else f"revoked at {v.revoked_seq}",
                    str(v.generation),
                    (v.keyid or "-")[:16],
                ]
                for v in views
            ],
            ["NAME", "ROLE", "STATUS", "GENERATION", "KEY"],
        )
    )


@users.command("register-release-key")
@click.argument("name")
@click.option(
    "--pubkey",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The release public key (PEM from `signoff keys release-key export`).",
)
@common()
def register_release_key_cmd(name: str, pubkey: Path, **kwargs: Any) -> None:
    """Register NAME's P-256 release key, which signs their packages' model.sig (admin only).

    It replaces NAME's previous release key; packages signed before stay verifiable.

    \b
    Example:
        signoff users register-release-key rel --pubkey rel-release.pub --as alice
    """
    from audit.release_keys import load_release_public_pem
    from console.errors import BadInput
    from console.identity.release_keys import register_release_key

    run = invocation(kwargs)
    if not pubkey.is_file():
        raise BadInput(f"--pubkey {pubkey} does not exist")
    public = load_release_public_pem(pubkey.read_bytes(), str(pubkey))
    store = run.store()
    view = register_release_key(store, run.signer(store), name, public)
    click.echo(
        f"registered {view.user}'s release key {view.keyid} at log sequence {view.registered_seq}"
    )


@users.command("release-keys")
@common(json_output=True)
def release_keys_cmd(**kwargs: Any) -> None:
    """Registered release keys: whose, keyid, and whether current or retired.

    \b
    Example:
        signoff users release-keys
    """
    from console.identity.release_keys import list_release_keys

    run = invocation(kwargs)
    views = list_release_keys(run.store())
    if run.as_json:
        print_json([{**v.__dict__, "current": v.current} for v in views])
        return
    if not views:
        click.echo("no release keys registered; see `signoff users register-release-key`")
        return
    click.echo(
        table(
            [
                [v.user, v.keyid[:16], "current" if v.current else f"retired at {v.retired_seq}"]
                for v in views
            ],
            ["USER", "KEYID", "STATUS"],
        )
    )


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(users)
