"""`signoff register`, `models`, `show` and `demo`: the registry from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from console.cli.options import common, invocation, print_json, table


def _parse_tags(values: tuple[str, ...]) -> dict[str, str]:
    from console.errors import BadInput

    tags: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise BadInput(f"--tag {value!r} is not KEY=VALUE")
        tags[key] = val
    return tags


@click.command("register")
@click.argument("model")
@click.option(
    "--artifact", required=True, type=click.Path(path_type=Path), help="skops (or pickle) file."
)
@click.option(
    "--train-data", required=True, type=click.Path(path_type=Path), help="Training CSV or Parquet."
)
@click.option("--target", required=True, help="The target column in the training data.")
@click.option(
    "--code-dir", type=click.Path(path_type=Path), help="Git checkout of the training code."
)
@click.option("--parent", type=int, help="The version this one derives from.")
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE, repeatable.")
@click.option("--trust-pickle", is_flag=True, help="Accept a pickle/joblib file (runs its code!).")
@click.option(
    "--trust-type",
    "trust_types",
    multiple=True,
    help="A type skops cannot vet that you have reviewed (repeatable; recorded).",
)
@click.option(
    "--allow-duplicate",
    is_flag=True,
    help="Register an artifact the model already holds as a new version (recorded).",
)
@click.option("--owner", help="Owner of a new model (default: you).")
@click.option("--description", default="", help="Description of a new model.")
@click.option(
    "--tier",
    "--risk-tier",
    "risk_tier",
    default="medium",
    show_default=True,
    help="Risk tier of a new model, one of the policy's tiers (its tier rules then apply).",
)
@click.option("--intended-use", default="", help="Intended use of a new model.")
@common(json_output=True)
def register_cmd(
    model: str,
    artifact: Path,
    train_data: Path,
    target: str,
    code_dir: Path | None,
    parent: int | None,
    tags: tuple[str, ...],
    trust_pickle: bool,
    trust_types: tuple[str, ...],
    allow_duplicate: bool,
    owner: str | None,
    description: str,
    risk_tier: str,
    intended_use: str,
    **kwargs: Any,
) -> None:
    """Register a new immutable version of MODEL from a fitted estimator.

    A skops file may hold only types skops trusts, plus those you name with --trust-type
    (scikit-learn's tree internals among them). An artifact the model already holds is
    refused, naming its version, unless --allow-duplicate.

    \b
    Example:
        signoff register credit-risk --artifact model.skops \\
            --train-data train.csv --target default --code-dir . --as dana
    """
    from console.errors import BadInput
    from console.registry.refs import check_model_name
    from console.registry.register import ModelInfo, RegisterRequest, register_version

    run = invocation(kwargs)
    check_model_name(model)
    if not artifact.is_file():
        raise BadInput(f"--artifact {artifact} does not exist or is not a file")
    try:
        data = artifact.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read --artifact {artifact}: {exc.strerror}") from exc
    request = RegisterRequest(
        model=model,
        artifact=data,
        artifact_source=str(artifact),
        train_data=train_data,
        target=target,
        code_dir=code_dir,
        parent=parent,
        tags=_parse_tags(tags),
        trust_pickle=trust_pickle,
        trust_types=trust_types,
        info=ModelInfo(owner, description, risk_tier, intended_use),
        allow_duplicate=allow_duplicate,
    )
    store = run.store()
    result = register_version(store, run.signer(store), request)
    if run.as_json:
        print_json(result.__dict__)
        return
    click.echo(
        f"registered {result.model}:{result.version} (artifact sha256 {result.artifact_sha256})"
    )
    click.echo(
        "training metrics: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(result.metrics.items()))
    )


@click.command("models")
@common(json_output=True)
def models_cmd(**kwargs: Any) -> None:
    """List models with their latest version and stages.

    \b
    Example:
        signoff models --json
    """
    from console.registry.views import read_models

    run = invocation(kwargs)
    with run.rows() as store:
        views = read_models(store)
    if run.as_json:
        print_json([v.as_dict() for v in views])
        return
    if not views:
        click.echo("no models yet; register one with `signoff register`")
        return
    rows = []
    for view in views:
        stages = ", ".join(f"{s}=v{v}" for s, v in sorted(view.stages.items()) if v) or "-"
        name = f"{view.name} (retired)" if view.retired else view.name
        rows.append([name, view.risk_tier, view.owner, str(len(view.versions)), stages])
    click.echo(table(rows, ["MODEL", "RISK", "OWNER", "VERSIONS", "STAGES"]))


@click.command("show")
@click.argument("ref")
@common(json_output=True)
def show_cmd(ref: str, **kwargs: Any) -> None:
    """Show MODEL (its versions) or MODEL:VERSION (everything recorded about it).

    \b
    Example:
        signoff show credit-risk:2
    """
    from console.registry.refs import check_model_name, parse_ref
    from console.registry.views import read_model, read_version

    run = invocation(kwargs)
    name, number = parse_ref(ref)
    check_model_name(name)
    with run.rows() as store:
        view = read_model(store, name) if number is None else None
        version = read_version(store, name, number) if number is not None else None
    if view is not None:
        if run.as_json:
            print_json(view.as_dict())
            return
        retired = ", retired" if view.retired else ""
        click.echo(f"{view.name}  (risk {view.risk_tier}, owner {view.owner}{retired})")
        if view.description:
            click.echo(view.description)
        if view.intended_use:
            click.echo(f"intended use: {view.intended_use}")
        rows = [
            [
                str(v.number),
                v.estimator_class.rsplit(".", 1)[-1],
                v.author,
                v.created_at[:19],
                ", ".join(v.stages) or ("retired" if v.retired else "-"),
                " ".join(f"{k}={val:.3f}" for k, val in sorted(v.metrics.items())[:3]),
            ]
            for v in view.versions
        ]
        click.echo(table(rows, ["VERSION", "ESTIMATOR", "AUTHOR", "CREATED", "STAGES", "METRICS"]))
        return
    assert version is not None
    if run.as_json:
        print_json(version.as_dict())
        return
    click.echo(f"{version.model}:{version.number}  {version.estimator_class} ({version.task_type})")
    click.echo(f"  author       {version.author}, {version.created_at}")
    click.echo(f"  artifact     sha256 {version.artifact_sha256} ({version.artifact_format})")
    click.echo(
        f"  training     dataset {version.train_dataset_sha256[:16]}…, target {version.target}"
    )
    click.echo(f"  parent       {version.parent or '-'}   code {version.code_ref or '-'}")
    click.echo(f"  stages       {', '.join(version.stages) or '-'}")
    if version.retired:
        click.echo("  status       retired: no new requests or promotions")
    if version.trusted_types or version.trusted_pickle:
        trusted = [*version.trusted_types, *(["pickle"] if version.trusted_pickle else [])]
        click.echo(f"  trusted      {', '.join(trusted)} (named at registration)")
    click.echo("  features     " + ", ".join(c["name"] for c in version.input_schema))
    click.echo(
        "  metrics      " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(version.metrics.items()))
    )
    if version.tags:
        click.echo(
            "  tags         " + ", ".join(f"{k}={v}" for k, v in sorted(version.tags.items()))
        )


@click.command("demo")
@click.option("--force", is_flag=True, help="Replace an existing demo store at --home.")
@common()
def demo_cmd(force: bool, **kwargs: Any) -> None:
    """Build a demo store from data shipped inside scikit-learn (no download).

    \b
    Example:
        signoff demo --home ./demo && signoff --home ./demo
    """
    from fixtures.demo import DEMO_PASSPHRASE, build_demo

    run = invocation(kwargs)
    summary = build_demo(run.home, force=force, echo=click.echo)
    click.echo(f"demo store ready at {run.home} ({summary})")
    click.echo(f"demo users' keys are in {run.home / 'demo-keys'}, passphrase {DEMO_PASSPHRASE!r}")
    click.echo(f"try: SIGNOFF_PASSPHRASE={DEMO_PASSPHRASE} signoff --home {run.home} --as rita")


def register(cli: click.Group) -> None:
    for command in (register_cmd, models_cmd, show_cmd, demo_cmd):
        cli.add_command(command)
