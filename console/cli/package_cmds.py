"""`signoff package` and `signoff verify-package`: signed deployment packages and their check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from console.cli.options import common, invocation, print_json


@click.command("package")
@click.argument("ref", metavar="MODEL:VERSION")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Where to write the package (default: ./MODEL-vVERSION.tar.gz).",
)
@common(json_output=True)
def package_cmd(ref: str, output: Path | None, **kwargs: Any) -> None:
    """Build the signed, deterministic deployment package of MODEL:VERSION.

    The .tar.gz holds the artifact, its model card, the latest validation report, the input
    schema, an environment lock, a MANIFEST of digests and a DSSE attestation (in-toto
    Statement) signed by you. The same store state always gives the same bytes.

    \b
    Example:
        signoff package credit-risk:2 -o credit-risk-v2.tar.gz --as rel
    """
    from console.packaging.build import build_package
    from console.registry.refs import parse_ref

    run = invocation(kwargs)
    model, version = parse_ref(ref, version_required=True)
    assert version is not None
    store = run.store()
    result = build_package(store, run.signer(store), model, version, output)
    if run.as_json:
        print_json(result.as_dict())
        return
    click.echo(
        f"packaged {model}:{version} -> {result.path} ({result.size} bytes, "
        f"{len(result.files)} files)"
    )
    click.echo(f"  sha256 {result.sha256}")
    click.echo(f"  signed by {result.packager} (keyid {result.keyid})")


@click.command("verify-package")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--pubkey",
    "pubkeys",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Trust this packager's public key (PEM) instead of a store's keys; repeatable.",
)
@common(json_output=True)
def verify_package_cmd(file: Path, pubkeys: tuple[Path, ...], **kwargs: Any) -> None:
    """Check a package: safe members, MANIFEST digests and the signed attestation.

    Nothing is extracted. With a store (--home), the signer must be a key the store
    registered; on a machine without the store, pass the packager's public key. Exit 0 when
    everything verifies, 1 naming each problem.

    \b
    Example:
        signoff verify-package credit-risk-v2.tar.gz
        signoff verify-package credit-risk-v2.tar.gz --pubkey rel.pub   # no store needed
    """
    from console.errors import BadInput
    from console.packaging.verify import load_public_keys, verify_package
    from console.store.db import Store

    run = invocation(kwargs)
    if pubkeys:
        result = verify_package(file, public_keys=load_public_keys(pubkeys))
    else:
        if not Store(run.home, url=run.db).exists():
            raise BadInput(
                f"no signoff store at {run.home} to take the keys from; pass --pubkey FILE "
                "(the packager's public key) to verify without a store"
            )
        result = verify_package(file, store=run.store())
    if run.as_json:
        print_json(result.as_dict())
    elif result.ok:
        recorded = " (recorded in this store)" if result.recorded else ""
        click.echo(
            f"OK: {file} verifies: {result.model}:{result.version}, {len(result.files)} files, "
            f"signed by {result.packager} (keyid {result.keyid}){recorded}"
        )
        click.echo(f"  sha256 {result.sha256}")
    else:
        click.echo(f"FAILED: {file} does not verify")
        for problem in result.problems:
            click.echo(f"  - {problem}")
    if not result.ok:
        raise SystemExit(1)


def register(cli: click.Group) -> None:
    for command in (package_cmd, verify_package_cmd):
        cli.add_command(command)
