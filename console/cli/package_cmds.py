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
    Statement) signed by you. With a registered release key, model.sig signs the model files
    in the OpenSSF Model Signing format (`model_signing verify key` checks it). The same store
    state always gives the same bytes.

    \b
    Example:
        signoff package credit-risk:2 -o credit-risk-v2.tar.gz --as rel
    """
    from console.identity.actor import key_dirs
    from console.identity.release_keys import unlock_release_key
    from console.packaging.build import build_package
    from console.registry.refs import parse_ref

    run = invocation(kwargs)
    model, version = parse_ref(ref, version_required=True)
    assert version is not None
    store = run.store()
    signer = run.signer(store)
    release = unlock_release_key(store, signer.name, key_dirs(store, run.keys()), run.passphrase)
    result = build_package(store, signer, model, version, output, release=release)
    if run.as_json:
        print_json(result.as_dict())
        return
    click.echo(
        f"packaged {model}:{version} -> {result.path} ({result.size} bytes, "
        f"{len(result.files)} files)"
    )
    click.echo(f"  sha256 {result.sha256}")
    click.echo(f"  signed by {result.packager} (keyid {result.keyid})")
    if result.release_keyid is not None:
        click.echo(f"  model.sig (OpenSSF Model Signing) by release key {result.release_keyid}")
    else:
        click.echo(
            f"  no model.sig: {result.packager} has no registered release key "
            "(`signoff keys release-key create`, then `signoff users register-release-key`)"
        )


@click.command("verify-package")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--pubkey",
    "pubkeys",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Trust this packager's public key (PEM) instead of a store's keys; repeatable.",
)
@click.option(
    "--trust-key",
    "trust_keys",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Pin the key (PEM) that must sign the package's checkpoint; repeatable.",
)
@click.option(
    "--require-stage",
    metavar="STAGE",
    help="Fail unless the package proves its version approved for and serving STAGE.",
)
@common(json_output=True)
def verify_package_cmd(
    file: Path,
    pubkeys: tuple[Path, ...],
    trust_keys: tuple[Path, ...],
    require_stage: str | None,
    **kwargs: Any,
) -> None:
    """Check a package: safe members, MANIFEST digests, attestation and carried approvals.

    The approvals are its version's signed decisions and stage history, each event proven
    to be in the log a checkpoint signs. Nothing is extracted. With a store (--home), the signer must be a key the store
    registered; on a machine without the store, pass the packager's public key, or rely on
    the keys the package's governance registers. --trust-key pins the key that must sign the
    checkpoint; without it the package vouches for itself, and the output says so.
    --require-stage STAGE fails unless a promotion of this version to STAGE, with every
    approval it counted, is in the package and the version still held STAGE when packaged.
    Exit 0 when everything verifies, 1 naming each problem.

    \b
    Example:
        signoff verify-package credit-risk-v2.tar.gz
        signoff verify-package credit-risk-v2.tar.gz --pubkey rel.pub   # no store needed
        signoff verify-package credit-risk-v2.tar.gz --require-stage production \\
            --trust-key rel.pub   # on the serving machine, before loading the model
    """
    from console.errors import BadInput
    from console.packaging.verify import load_public_keys, verify_package
    from console.store.db import Store

    run = invocation(kwargs)
    if require_stage is not None and not require_stage.strip():
        raise BadInput("--require-stage needs a stage name, e.g. --require-stage production")
    pinned = load_public_keys(trust_keys, "--trust-key") if trust_keys else None
    options: dict[str, Any] = {"trust_keys": pinned, "require_stage": require_stage}
    if pubkeys:
        result = verify_package(file, public_keys=load_public_keys(pubkeys), **options)
    elif Store(run.home, url=run.db).exists():
        result = verify_package(file, store=run.store(), **options)
    else:  # no store here: the package's own governance names its packager's key
        result = verify_package(file, **options)
    if run.as_json:
        print_json(result.as_dict())
    elif result.ok:
        recorded = " (recorded in this store)" if result.recorded else ""
        click.echo(
            f"OK: {file} verifies: {result.model}:{result.version}, {len(result.files)} files, "
            f"signed by {result.packager} (keyid {result.keyid}){recorded}"
        )
        click.echo(f"  sha256 {result.sha256}")
        if result.release_keyid is not None:
            click.echo(
                f"  model.sig (OpenSSF Model Signing) verifies: release key {result.release_keyid}"
            )
        _echo_governance(result.governance, result.trust)
    else:
        click.echo(f"FAILED: {file} does not verify")
        for problem in result.problems:
            click.echo(f"  - {problem}")
    if not result.ok:
        raise SystemExit(1)


def _echo_governance(governance: dict[str, Any] | None, trust: str) -> None:
    if governance is None:
        click.echo("  governance: none carried (no request or stage change names this version)")
        return
    checkpoint = governance["checkpoint"]
    for approval in governance["approvals"]:
        click.echo(
            f"  decision: {approval['approver']} ({approval['role']}) {approval['decision']}d "
            f"request {approval['request']} for {approval['stage']} (event {approval['seq']})"
        )
    for change in governance["stages"]:
        click.echo(
            f"  stage: {change['action']} {change['stage']} v{change['version']} "
            f"(event {change['seq']})"
        )
    if governance["required_stage"]:
        click.echo(f"  approved for and serving {governance['required_stage']}")
    click.echo(
        f"  checkpoint: {checkpoint['size']} events of {checkpoint['origin']}, "
        f"signed by {checkpoint['signer']}"
    )
    if trust == "package":
        click.echo(
            "  trust: the keys are the package's own; pin the checkpoint signer's key "
            "with --trust-key"
        )
    elif trust == "pinned":
        click.echo("  trust: the checkpoint is signed by a key you pinned (--trust-key)")


def register(cli: click.Group) -> None:
    for command in (package_cmd, verify_package_cmd):
        cli.add_command(command)
