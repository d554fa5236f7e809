"""`signoff keys …`: create, list, export and rotate Ed25519 keys, and P-256 release keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from console.cli.options import (
    SignoffGroup,
    common,
    invocation,
    print_json,
    read_passphrase,
    table,
)


@click.group("keys", cls=SignoffGroup)
def keys() -> None:
    """Your signing keys (kept encrypted outside the store)."""


@keys.command("create")
@click.argument("name")
@common()
def create(name: str, **kwargs: Any) -> None:
    """Make an Ed25519 key pair NAME.key (encrypted, mode 0600) and NAME.pub.

    \b
    Example:
        signoff keys create alice
    """
    from audit.keys import KeyStore, check_name

    run = invocation(kwargs)
    check_name(name, "key name")
    store = KeyStore(run.keys())
    if store.key_path(name).exists():
        from console.errors import BadInput

        raise BadInput(f"a key named {name!r} already exists in {store.directory}")
    passphrase = read_passphrase(name, run.passphrase_file, confirm=True)
    private, public, kid = store.create(name, passphrase)
    click.echo(f"private key: {private}")
    click.echo(f"public key:  {public}")
    click.echo(f"fingerprint: {kid}")


@keys.command("list")
@common(json_output=True)
def list_keys(**kwargs: Any) -> None:
    """Names and fingerprints of the keys in your key directory.

    \b
    Example:
        signoff keys list
    """
    from audit.keys import KeyStore

    run = invocation(kwargs)
    rows = KeyStore(run.keys()).listing()
    if run.as_json:
        print_json([{"name": n, "keyid": k, "private": p} for n, k, p in rows])
        return
    if not rows:
        click.echo(f"no keys in {run.keys()}; create one with `signoff keys create NAME`")
        return
    click.echo(
        table(
            [[n, k, "yes" if p else "no"] for n, k, p in rows], ["NAME", "FINGERPRINT", "PRIVATE"]
        )
    )


@keys.command("export")
@click.argument("name")
@common()
def export(name: str, **kwargs: Any) -> None:
    """Print the public key NAME as PEM, to give to an admin.

    \b
    Example:
        signoff keys export alice > alice.pub
    """
    from audit.keys import KeyStore, check_name, public_pem

    run = invocation(kwargs)
    click.echo(public_pem(KeyStore(run.keys()).public_key(check_name(name, "key name"))), nl=False)


@keys.command("rotate")
@click.option(
    "--user", "target", help="Whose key to rotate (default: yourself; admins may name anyone)."
)
@click.option("--new-key", help="Name of a key in your key directory to rotate to.")
@click.option(
    "--pubkey",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Public key file to rotate to (when an admin rotates someone else's key).",
)
@common()
def rotate(target: str | None, new_key: str | None, pubkey: Path | None, **kwargs: Any) -> None:
    """Replace a user's key; endorsed by the old key or by an admin, and logged.

    \b
    Example:
        signoff keys create alice-2026 && signoff keys rotate --as alice --new-key alice-2026
    """
    from audit.keys import KeyStore, load_public_pem
    from console.errors import BadInput
    from console.identity.users import rotate_key

    run = invocation(kwargs)
    if (new_key is None) == (pubkey is None):
        raise BadInput("give exactly one of --new-key NAME or --pubkey FILE")
    if pubkey is not None:
        if not pubkey.is_file():
            raise BadInput(f"--pubkey {pubkey} does not exist")
        public = load_public_pem(pubkey.read_bytes(), str(pubkey))
    else:
        assert new_key is not None
        public = KeyStore(run.keys()).public_key(new_key)
    store = run.store()
    signer = run.signer(store)
    kid = rotate_key(store, signer, target or signer.name, public)
    click.echo(f"rotated {target or signer.name}'s key; new fingerprint {kid}")


@keys.group("release-key", cls=SignoffGroup)
def release_key() -> None:
    """ECDSA P-256 release keys, which sign packages for OpenSSF Model Signing."""


@release_key.command("create")
@click.argument("name")
@common()
def release_key_create(name: str, **kwargs: Any) -> None:
    """Make a P-256 release key pair release/NAME.key (encrypted, mode 0600) and NAME.pub.

    An admin then registers NAME.pub with `signoff users register-release-key`.

    \b
    Example:
        signoff keys release-key create rel-release
    """
    from audit.keys import check_name
    from audit.release_keys import ReleaseKeyStore

    run = invocation(kwargs)
    check_name(name, "key name")
    store = ReleaseKeyStore(run.keys())
    if store.key_path(name).exists() or store.pub_path(name).exists():
        from console.errors import BadInput

        raise BadInput(f"a release key named {name!r} already exists in {store.directory}")
    passphrase = read_passphrase(name, run.passphrase_file, confirm=True)
    private, public, kid = store.create(name, passphrase)
    click.echo(f"private key: {private}")
    click.echo(f"public key:  {public}")
    click.echo(f"release keyid: {kid}")


@release_key.command("list")
@common(json_output=True)
def release_key_list(**kwargs: Any) -> None:
    """Names and keyids of the release keys in your key directory.

    \b
    Example:
        signoff keys release-key list
    """
    from audit.release_keys import ReleaseKeyStore

    run = invocation(kwargs)
    rows = ReleaseKeyStore(run.keys()).listing()
    if run.as_json:
        print_json([{"name": n, "keyid": k, "private": p} for n, k, p in rows])
        return
    if not rows:
        click.echo(f"no release keys in {ReleaseKeyStore(run.keys()).directory}")
        return
    click.echo(
        table([[n, k, "yes" if p else "no"] for n, k, p in rows], ["NAME", "KEYID", "PRIVATE"])
    )


@release_key.command("export")
@click.argument("name")
@common()
def release_key_export(name: str, **kwargs: Any) -> None:
    """Print the release public key NAME as PEM (for an admin, or `model_signing verify key`).

    \b
    Example:
        signoff keys release-key export rel-release > rel-release.pub
    """
    from audit.release_keys import ReleaseKeyStore, release_public_pem

    run = invocation(kwargs)
    click.echo(release_public_pem(ReleaseKeyStore(run.keys()).public_key(name)), nl=False)


def register(cli: click.Group) -> None:
    cli.add_command(keys)
