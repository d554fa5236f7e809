"""Evidence from validation runs, the policy and the release workflow, for checklist items."""

from __future__ import annotations

from dataclasses import replace

from console.validation.details import details_of
from reports.evidence_base import Evidence, EvidenceFinder, num, short
from reports.evidence_monitoring import fairness_problems, production_fairness
from reports.report_text import when


class ReleaseEvidence(EvidenceFinder):
    # -- validation ---------------------------------------------------------------------------

    def _checks(self, kind: str, prefix: str, what: str) -> Evidence:
        run = self.run
        if run is None:
            return self.none(kind, "no validation run of this version")
        checks = [c for c in run.checks if c.name.startswith(prefix)]
        if not checks:
            return self.none(kind, f"run {run.id} has no {what} checks")
        failed = [c.name for c in checks if c.status == "fail"]
        shown = [
            f"{c.name.removeprefix(prefix)} {num(c.value)} {c.status}"
            for c in checks
            if c.threshold is not None or c.status == "fail"
        ][:6]
        refs = [f"run {run.id} (validation.completed #{run.event_seq}): {len(checks)} check(s)"]
        if shown:
            refs.append("; ".join(shown))
        if failed:
            refs.append(f"FAILED: {', '.join(failed)}")
        return self.ok(kind, *refs)

    def validation_performance(self, kind: str) -> Evidence:
        return self._checks(kind, "performance.", "performance")

    def validation_fairness(self, kind: str) -> Evidence:
        """Validation's fairness checks, and production fairness when monitoring recorded it."""
        if self.run is not None and not self.run.sensitive:
            return self.none(kind, f"run {self.run.id} named no sensitive attribute")
        found = self._checks(kind, "fairness.", "fairness")
        summary = self.s.monitoring(self.model)
        production = production_fairness(summary, self.version)
        if not found.found or not production:
            return found
        return replace(
            found,
            refs=(*found.refs, *production),
            problems=(*found.problems, *fairness_problems(summary, self.version)),
        )

    def validation_robustness(self, kind: str) -> Evidence:
        return self._checks(kind, "robustness.", "robustness")

    def validation_drift(self, kind: str) -> Evidence:
        run = self.run
        if run is None:
            return self.none(kind, "no validation run of this version")
        psi = [c for c in run.checks if c.name.startswith("drift.psi.")]
        ks = [c for c in run.checks if c.name.startswith("drift.ks.")]
        if not psi and not ks:
            return self.none(kind, f"run {run.id} has no drift checks")
        top = max(psi, key=lambda c: c.value or 0.0) if psi else None
        refs = [
            f"run {run.id} (validation.completed #{run.event_seq}): {len(psi)} PSI, {len(ks)} KS"
        ]
        if top is not None:
            refs.append(f"largest PSI {num(top.value)} ({top.name.removeprefix('drift.psi.')})")
        failed = [c.name for c in psi + ks if c.status == "fail"]
        if failed:
            refs.append(f"FAILED: {', '.join(failed)}")
        return self.ok(kind, *refs)

    def validation_data_quality(self, kind: str) -> Evidence:
        return self._checks(kind, "data.", "data quality")

    def validation_champion(self, kind: str) -> Evidence:
        run = self.run
        check = run.check("champion.not_worse") if run else None
        if run is None or check is None:
            return self.none(kind, "no champion comparison recorded")
        if check.status == "info":
            note = details_of(check).note or "no champion held the stage"
            return self.none(kind, f"run {run.id}: {note}")
        return self.ok(kind, f"run {run.id}: champion.not_worse {check.status}")

    def validation_reproducibility(self, kind: str) -> Evidence:
        return self._checks(kind, "reproducibility.", "reproducibility")

    def validation_report(self, kind: str) -> Evidence:
        run = self.run
        if run is None:
            return self.none(kind, "no validation run of this version")
        return self.ok(
            kind,
            f"run {run.id} on {run.dataset_name} sha256 {short(run.dataset_sha256)}",
            f"report sha256 {short(run.report_sha256)}, signed by {run.actor} at "
            f"{when(run.finished_at)} (validation.completed #{run.event_seq})",
        )

    # -- policy and workflow ------------------------------------------------------------------

    def _policy_ref(self) -> str:
        p = self.s.policy
        origin = (
            f"policy.changed #{p.set_by_seq} by {p.set_by}"
            if p.set_by_seq
            else "the policy of store.created #0"
        )
        ref = f"policy sha256 {short(p.recorded_digest or p.digest)}, {origin}"
        return f"{ref}; NOTE: {p.note}" if p.note else ref

    def policy_in_force(self, kind: str) -> Evidence:
        stages = ", ".join(self.s.policy.policy.stage_names)
        return self.ok(kind, self._policy_ref(), f"stages {stages}")

    def policy_thresholds(self, kind: str) -> Evidence:
        thresholds = self.s.policy.policy.validation
        if not thresholds:
            return self.none(kind, "the policy sets no validation thresholds (defaults apply)")
        listed = ", ".join(f"{k} {v:g}" for k, v in sorted(thresholds.items()))
        return self.ok(kind, self._policy_ref(), listed)

    def gates_evaluated(self, kind: str) -> Evidence:
        if not self.requests:
            return self.none(kind, "no promotion request for this version")
        refs = []
        for r in self.requests:
            gates = ", ".join(
                f"{g.get('name')} {'pass' if g.get('passed') else 'FAIL'}" for g in r.gates
            )
            refs.append(f"request {r.id} to {r.stage} (#{r.event_seq}): {gates or 'no gates'}")
        return self.ok(kind, *refs)

    def requests_evidence_bound(self, kind: str) -> Evidence:
        if not self.requests:
            return self.none(kind, "no promotion request for this version")
        return self.ok(
            kind,
            *(
                f"request {r.id} to {r.stage} (#{r.event_seq}, {r.status}): evidence sha256 "
                f"{short(r.evidence_digest)}"
                for r in self.requests
            ),
        )

    def approvals_signed(self, kind: str) -> Evidence:
        sound = [d for d in self.decisions if d.sound]
        if not sound:
            why = (
                "no decision on this version verifies"
                if self.decisions
                else "no signed decision on this version"
            )
            return self.none(kind, why)
        refs = [
            f"{d.approval.approver} ({d.approval.role}) {d.approval.decision}d request "
            f"{d.approval.request_id}, signature valid (#{d.approval.event_seq})"
            for d in sound
        ]
        bad = [d for d in self.decisions if not d.sound]
        if bad:
            refs.append(f"{len(bad)} decision(s) do NOT verify; see Approvals")
        return self.ok(kind, *refs)

    def separation_duties(self, kind: str) -> Evidence:
        stages = [s.name for s in self.s.policy.policy.stages if s.separation_of_duties]
        if not stages:
            return self.none(kind, "the policy does not require separation of duties")
        authors = {self.row.author, *(r.requester for r in self.requests)}
        decided = sorted({d.approval.approver for d in self.decisions})
        clash = [name for name in decided if name in authors]
        refs = [f"required by the policy for {', '.join(stages)}"]
        if decided:
            refs.append(
                f"deciders {', '.join(decided)}; author {self.row.author}; "
                + ("none of them authored or requested" if not clash else f"CLASH: {clash}")
            )
        return self.ok(kind, *refs)

    def roles_assigned(self, kind: str) -> Evidence:
        added = [e for e in self.s.events if e.action in ("store.created", "user.added")]
        people = ", ".join(f"{name} ({role})" for name, role in sorted(self.s.users.items()))
        seqs = ", ".join(f"#{e.seq}" for e in added[:12]) + (" …" if len(added) > 12 else "")
        return self.ok(kind, f"{len(self.s.users)} users: {people}", f"registered by {seqs}")

    def stage_history(self, kind: str) -> Evidence:
        if not self.deployments:
            return self.none(kind, "this version never changed stage")
        return self.ok(
            kind,
            *(
                f"#{d.event_seq} {d.kind} v{d.version} {d.stage} by {d.actor}"
                + (" (BREAK-GLASS)" if d.break_glass else "")
                for d in self.deployments
            ),
        )

    def canary_rollout(self, kind: str) -> Evidence:
        canary = [d for d in self.deployments if d.kind.startswith("canary.")]
        if not canary:
            return self.none(kind, "no canary rollout of this version")
        return self.ok(kind, *(f"#{d.event_seq} {d.kind} in {d.stage}" for d in canary))

    def rollback_procedure(self, kind: str) -> Evidence:
        roles = ", ".join(self.s.policy.policy.break_glass_roles)
        if not roles:
            return self.none(kind, "the policy names no break-glass role")
        done = [d for d in self.s.deployments if d.model == self.model and d.kind == "rollback"]
        refs = [f"break-glass roles in the policy: {roles}"]
        refs += [f"rollback #{d.event_seq} of {d.stage} to v{d.version}: {d.reason}" for d in done]
        return self.ok(kind, *refs)

    def package_attested(self, kind: str) -> Evidence:
        built = [p for p in self.s.packages if p.model == self.model and p.version == self.version]
        if not built:
            return self.none(kind, "no package built for this version")
        return self.ok(
            kind,
            *(
                f"package.built #{p.event_seq}: {p.file_name} sha256 {short(p.sha256)}, "
                f"statement sha256 {short(p.statement_sha256)}"
                for p in built
            ),
        )
