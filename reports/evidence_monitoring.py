"""Evidence from production monitoring, for checklist items: it holds only while nothing is open.

Holdout drift (validation.drift) compares validation data with training data before release;
these finders read what monitoring recorded in production, and an open alert or a failing
latest window is named as a problem, so the item cannot be MET until it is dealt with.
"""

from __future__ import annotations

from console.monitoring.settings import monitoring_settings
from console.monitoring.views import MonitoringSummary
from reports.evidence_base import Evidence, EvidenceFinder, num, short
from reports.monitoring_rows import (
    FAILING,
    alert_rows,
    day,
    fairness_of,
    feature_drift,
    incident_rows,
    performance_rows,
    windows_of,
)

# Open incidents named one by one in a checklist cell; the rest are counted (section 4 lists
# all their alerts).
NAMED_INCIDENTS = 6


class MonitoringEvidence(EvidenceFinder):
    def _production_problems(self) -> list[str]:
        """What does not hold now: each open incident, and a latest window that failed."""
        summary = self.s.monitoring(self.model)
        opened = incident_rows(alert_rows(summary, self.version), open_only=True)
        problems = [f"incident {i.id} is OPEN: {i.what}" for i in opened[:NAMED_INCIDENTS]]
        if len(opened) > NAMED_INCIDENTS:
            problems.append(
                f"and {len(opened) - NAMED_INCIDENTS} more open incident(s) "
                f"(incidents {', '.join(str(i.id) for i in opened[NAMED_INCIDENTS:])})"
            )
        for kind in ("drift", "performance", "fairness"):
            windows = windows_of(summary, self.version, kind)
            if windows and windows[-1].status == FAILING:
                latest = windows[-1]
                problems.append(
                    f"the latest {kind} window ({day(latest.start)} to {day(latest.end)}, "
                    f"#{latest.event_seq}) FAILED"
                )
        return problems

    def monitoring_plan(self, kind: str) -> Evidence:
        settings = monitoring_settings(self.s.policy.policy)
        summary = self.s.monitoring(self.model)
        logs = [b for b in summary.logs if self.version in b.versions]
        if not logs:
            why = (
                f"no prediction log of v{self.version} was ingested: its production is not "
                "monitored"
            )
            return self.none(kind, why)
        rows = sum(b.versions[self.version] for b in logs)
        return self.ok(
            kind,
            f"thresholds of the policy sha256 {short(settings.policy_sha256)}: window "
            f"{settings.window.text}, PSI {num(settings.max_psi)}, KS "
            f"{num(settings.max_ks_statistic)}, decay tolerance {num(settings.decay_tolerance)}",
            f"{rows:,} predictions of v{self.version} in {len(logs)} ingested log(s) "
            f"(monitoring.ingested #{logs[0].event_seq} to #{logs[-1].event_seq})",
        )

    def monitoring_production(self, kind: str) -> Evidence:
        summary = self.s.monitoring(self.model)
        windows, features = feature_drift(summary, self.version)
        performance = performance_rows(summary, self.version)
        fairness = production_fairness(summary, self.version)
        if not windows and not performance and not fairness:
            return self.none(
                kind, f"no production drift or performance window of v{self.version} recorded"
            )
        refs = []
        if windows:
            largest = max(
                ((v, f.feature, windows[i]) for f in features for i, v in enumerate(f.psi) if v),
                key=lambda found: found[0],
                default=None,
            )
            refs.append(
                f"{len(windows)} production drift window(s), {day(windows[0].start)} to "
                f"{day(windows[-1].end)} (monitoring.drift_evaluated #{windows[-1].event_seq})"
                + (
                    f"; largest production PSI {num(largest[0])} ({largest[1]}, window "
                    f"{day(largest[2].start)})"
                    if largest
                    else ""
                )
            )
        if performance:
            latest = performance[-1]
            measured = "; ".join(
                f"{name} {num(m.value)} [{num(m.low)}, {num(m.high)}]"
                for name, m in sorted(latest.metrics.items())
            )
            refs.append(
                f"{len(performance)} performance window(s); the latest "
                f"({day(latest.window.start)}, {latest.labelled:,} labelled rows): {measured}"
            )
        refs += fairness
        jobs = [j for j in summary.jobs if j.version == self.version]
        if jobs:
            refs.append(
                "retraining: "
                + "; ".join(
                    f"job {j.id} {j.status}"
                    + (f" as v{j.result_version}" if j.result_version is not None else "")
                    for j in jobs
                )
            )
        return Evidence(kind, tuple(refs), problems=tuple(self._production_problems()))


def production_fairness(summary: MonitoringSummary, version: int) -> list[str]:
    """The latest fairness window per attribute, cited (empty when none was recorded)."""
    rows = fairness_of(summary, version)
    if not rows:
        return []
    windows = windows_of(summary, version, "fairness")
    latest = {r.attribute: r for r in rows if not r.insufficient}
    measured = "; ".join(
        f"{name} ({day(r.start)}): parity {num(r.gaps['demographic_parity'].value)}, "
        f"opportunity {num(r.gaps['equal_opportunity'].value)}"
        + (f" FAILED {', '.join(r.failed)}" if r.failed else "")
        for name, r in latest.items()
    )
    return [
        f"{len(windows)} production fairness window(s) "
        f"(monitoring.fairness_evaluated #{windows[-1].event_seq})"
        + (f"; latest per attribute: {measured}" if measured else "")
    ]


def fairness_problems(summary: MonitoringSummary, version: int) -> list[str]:
    """Open production fairness alerts, each named with its incident: the fairness item cannot
    hold while one is open."""
    return [
        f"incident {incident.id} is OPEN: fairness alert {a.id}: {a.what}"
        for incident in incident_rows(alert_rows(summary, version), open_only=True)
        for a in incident.open_alerts
        if a.kind.startswith("fairness.")
    ][:NAMED_INCIDENTS]
