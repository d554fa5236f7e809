"""`signoff monitor incidents` and `monitor resolve`: alerts worked on per incident, not per row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from console.cli.options import common, invocation, print_json, table

if TYPE_CHECKING:
    from console.monitoring.incidents import Incident


def _subjects(incident: Incident, limit: int = 5) -> str:
    subjects = incident.subjects
    more = f" +{len(subjects) - limit}" if len(subjects) > limit else ""
    return ", ".join(subjects[:limit]) + more


def _worst(incident: Incident) -> str:
    from console.cli.monitor_output import fmt

    worst = incident.worst
    return f"{worst.kind} {worst.subject} {fmt(worst.value)} > {fmt(worst.threshold)}"


def incident_row(incident: Incident) -> list[str]:
    open_count = len(incident.open_alerts)
    count = f"{len(incident.alerts)}" + (
        f" ({open_count} open)" if 0 < open_count < len(incident.alerts) else ""
    )
    return [
        str(incident.id),
        f"{incident.model}:{incident.version}",
        incident.window_start[:10],
        count,
        ", ".join(incident.kinds),
        _subjects(incident),
        _worst(incident),
        incident.status,
    ]


INCIDENT_HEADERS = ["INCIDENT", "VERSION", "WINDOW", "ALERTS", "TESTS", "SUBJECTS", "WORST"]


@click.command("incidents")
@click.argument("model", required=False)
@click.option("--all", "show_all", is_flag=True, help="Also resolved incidents.")
@common(json_output=True)
def incidents_cmd(model: str | None, show_all: bool, **kwargs: Any) -> None:
    """Open incidents: the alerts of one version and window together (with --all, also
    resolved ones). Resolve one with `signoff monitor resolve --incident N`.

    \b
    Example:
        signoff monitor incidents credit-risk
    """
    from console.monitoring.incidents import list_incidents
    from console.monitoring.views import OPEN
    from console.registry.refs import check_model_name

    run = invocation(kwargs)
    if model is not None:
        check_model_name(model)
    incidents = list_incidents(run.store(), model, status=None if show_all else OPEN)
    if run.as_json:
        print_json({"incidents": [i.as_dict() for i in incidents]})
        return
    if not incidents:
        click.echo("no open incidents" if not show_all else "no incidents")
        return
    click.echo(table([incident_row(i) for i in incidents], [*INCIDENT_HEADERS, "STATUS"]))


@click.command("resolve")
@click.argument("alerts", nargs=-1, type=int)
@click.option("--incident", type=int, help="Resolve every open alert of this incident.")
@click.option("--reason", required=True, help="What was found or done.")
@common(json_output=True)
def resolve_cmd(alerts: tuple[int, ...], incident: int | None, reason: str, **kwargs: Any) -> None:
    """Resolve open alerts, or a whole incident, with one reason (risk officers, admins;
    one audited event). Every id must be an open alert of the same model.

    \b
    Examples:
        signoff monitor resolve --incident 12 --reason "upstream income field fixed" --as raj
        signoff monitor resolve 4 5 9 --reason "seasonal shift, reviewed" --as raj
    """
    from console.errors import BadInput
    from console.monitoring.resolution import resolve_alerts, resolve_incident

    if incident is not None and alerts:
        raise BadInput("give alert ids or --incident N, not both")
    if incident is None and not alerts:
        raise BadInput("name the alerts to resolve (ALERT ...) or --incident N")
    run = invocation(kwargs)
    store = run.store()
    signer = run.signer(store)
    if incident is not None:
        done = resolve_incident(store, signer, incident, reason)
    else:
        done = resolve_alerts(store, signer, alerts, reason)
    if run.as_json:
        print_json(done.as_dict())
        return
    what = f"incident {done.incident}: " if done.incident is not None else ""
    click.echo(f"resolved {what}{len(done.alerts)} alert(s) of {done.model}")
    for alert in done.alerts:
        click.echo(f"  alert {alert.id}: {alert.kind} {alert.subject} (v{alert.version})")
