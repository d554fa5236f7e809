"""Maps a framework's items to the evidence the store holds for one version, at log size N.

`find_evidence` looks for every kind of `framework_catalog.EVIDENCE_KINDS` and returns, per
kind, concrete references (event sequence numbers `#n`, run ids, digests) or why there is
none. An item is MET when each of its kinds has evidence, PARTIAL when some has, GAP when
none has. Evidence that exists but shows a problem (a failed check, a log that does not
verify) is still cited, with the problem, so that a reader sees it rather than a silence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from console.registry.cards import FIELDS
from console.validation.details import details_of
from reports.framework_catalog import EVIDENCE_KINDS, Framework, FrameworkItem
from reports.report_text import when
from reports.snapshot import Snapshot

MET, PARTIAL, GAP = "MET", "PARTIAL", "GAP"


@dataclass(frozen=True)
class Evidence:
    kind: str
    refs: tuple[str, ...]
    missing: str = ""  # why there is no evidence (empty when there is)

    @property
    def found(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class ItemResult:
    item: FrameworkItem
    evidence: tuple[Evidence, ...]

    @property
    def status(self) -> str:
        found = sum(1 for e in self.evidence if e.found)
        if found == len(self.evidence):
            return MET
        return PARTIAL if found else GAP

    @property
    def missing_kinds(self) -> list[str]:
        return [e.kind for e in self.evidence if not e.found]


def short(digest: str) -> str:
    return f"{digest[:16]}…" if len(digest) > 16 else digest


def num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


class _Finder:
    def __init__(self, snapshot: Snapshot, model: str, version: int) -> None:
        self.s = snapshot
        self.model = model
        self.version = version
        self.entry = snapshot.models[model]
        self.row = snapshot.versions[(model, version)]
        self.run = snapshot.latest_run(model, version)
        self.card = snapshot.cards.get((model, version), {})
        self.requests = [
            r for r in snapshot.requests.values() if r.model == model and r.version == version
        ]
        self.decisions = [
            d for d in snapshot.decisions if d.model == model and d.version == version
        ]
        self.deployments = [
            d
            for d in snapshot.deployments
            if d.model == model and version in (d.version, d.replaced_version)
        ]

    def ok(self, kind: str, *refs: str) -> Evidence:
        return Evidence(kind, tuple(refs))

    def none(self, kind: str, why: str) -> Evidence:
        return Evidence(kind, (), why)

    # -- the registry ------------------------------------------------------------------------

    def model_description(self, kind: str) -> Evidence:
        e = self.entry
        if not e.description:
            return self.none(kind, "the model was registered without a description")
        text = e.description if len(e.description) < 90 else e.description[:88] + "…"
        return self.ok(kind, f"model.created #{e.event_seq}: {text}")

    def owner(self, kind: str) -> Evidence:
        e = self.entry
        if not e.owner:
            return self.none(kind, "no owner recorded")
        return self.ok(kind, f"owner {e.owner} (model.created #{e.event_seq})")

    def risk_tier(self, kind: str) -> Evidence:
        e = self.entry
        if not e.risk_tier:
            return self.none(kind, "no risk tier recorded")
        return self.ok(kind, f"risk tier {e.risk_tier} (model.created #{e.event_seq})")

    def registry_inventory(self, kind: str) -> Evidence:
        e = self.entry
        versions = self.s.model_versions(self.model)
        seqs = ", ".join(f"v{v.number} #{v.event_seq}" for v in versions)
        return self.ok(
            kind,
            f"inventory entry {e.name} (model.created #{e.event_seq}), owner {e.owner}, "
            f"tier {e.risk_tier}",
            f"{len(versions)} version(s) registered: {seqs}",
        )

    def version_registered(self, kind: str) -> Evidence:
        v = self.row
        return self.ok(
            kind,
            f"version.registered #{v.event_seq} by {v.author} at {when(v.created_at)}",
            f"artifact sha256 {short(v.artifact_sha256)} ({v.estimator_class})",
        )

    def version_lineage(self, kind: str) -> Evidence:
        v = self.row
        data = self.s.datasets.get(v.train_dataset_sha256)
        if data is None:
            return self.none(kind, "the training dataset is not registered in the log")
        parent = f"parent v{v.parent}" if v.parent else "no parent version (first of its line)"
        code = f"code {v.code_ref}" if v.code_ref else "code reference not recorded"
        return self.ok(
            kind,
            f"trained on {data.name} sha256 {short(data.sha256)}",
            f"{parent}; {code}",
        )

    def artifact_integrity(self, kind: str) -> Evidence:
        v = self.row
        load = (
            "pickle, trusted explicitly at registration"
            if v.trusted_pickle
            else f"{v.artifact_format}, loaded only with trusted types"
        )
        return self.ok(kind, f"content address sha256 {short(v.artifact_sha256)}; {load}")

    def dataset_profile(self, kind: str) -> Evidence:
        data = self.s.datasets.get(self.row.train_dataset_sha256)
        if data is None or data.event_seq is None:
            return self.none(kind, "no dataset.registered event for the training data")
        return self.ok(
            kind,
            f"dataset.registered #{data.event_seq}: {data.name}, {data.row_count:,} rows x "
            f"{data.column_count} columns",
            f"profile sha256 {short(data.profile_sha256)}",
        )

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
        if self.run is not None and not self.run.sensitive:
            return self.none(kind, f"run {self.run.id} named no sensitive attribute")
        return self._checks(kind, "fairness.", "fairness")

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

    # -- the card -----------------------------------------------------------------------------

    def _card(self, kind: str, names: tuple[str, ...]) -> Evidence:
        filled = [n for n in names if n in self.card]
        if not filled:
            return self.none(kind, "not written on the model card")
        refs = [
            f"{n} by {self.card[n].updated_by} (card.edited #{self.card[n].event_seq})"
            for n in filled
        ]
        empty = [n for n in names if n not in self.card]
        if empty:
            refs.append(f"still empty: {', '.join(empty)}")
        return self.ok(kind, *refs)

    def card_intended_use(self, kind: str) -> Evidence:
        names = tuple(f.name for f in FIELDS if f.name.startswith("intended_use."))
        return self._card(kind, names)

    def card_factors(self, kind: str) -> Evidence:
        return self._card(kind, ("factors",))

    def card_ethical_considerations(self, kind: str) -> Evidence:
        names = tuple(f.name for f in FIELDS if f.name.startswith("ethical_considerations."))
        return self._card(kind, names)

    def card_caveats(self, kind: str) -> Evidence:
        return self._card(kind, ("caveats_and_recommendations",))

    def card_contact(self, kind: str) -> Evidence:
        return self._card(kind, ("contact",))

    # -- the log ------------------------------------------------------------------------------

    def audit_verified(self, kind: str) -> Evidence:
        if not self.s.verified:
            return self.none(
                kind,
                f"VERIFICATION FAILED at event {self.s.first_bad_seq}: {self.s.failure}",
            )
        return self.ok(
            kind,
            f"events 0..{self.s.size - 1} verified: chain, hashes, keys, signatures",
            f"Merkle root at {self.s.size}: {short(self.s.root_hex)}",
        )

    def audit_checkpoint(self, kind: str) -> Evidence:
        c = self.s.checkpoint
        if c is None:
            return self.none(kind, "no checkpoint issued before this report's log size")
        if not (c.signature_ok and c.matches_log):
            return self.none(kind, f"checkpoint {c.id} does not hold: {c.problem}")
        return self.ok(
            kind,
            f"checkpoint {c.id} (#{c.event_seq}): size {c.size}, root {short(c.root_hex)}, "
            f"signed by {c.issued_by}",
        )

    def _actions(self, kind: str, prefixes: tuple[str, ...], why: str) -> Evidence:
        found = [e for e in self.s.model_events(self.model) if e.action.startswith(prefixes)]
        if not found:
            return self.none(kind, why)
        return self.ok(kind, *(f"#{e.seq} {e.action} {e.subject}" for e in found[:8]))

    def monitoring_plan(self, kind: str) -> Evidence:
        return self._actions(
            kind, ("monitor",), "no monitoring records for this model in the store"
        )

    def decommission_record(self, kind: str) -> Evidence:
        """`signoff retire`: this version's `version.retired`, or its model's `model.retired`."""
        found = [
            e
            for e in self.s.model_events(self.model)
            if e.action == "model.retired"
            or (e.action == "version.retired" and e.payload.get("version") == self.version)
        ]
        if not found:
            return self.none(
                kind, "not retired; `signoff retire MODEL[:VERSION] --reason` records it"
            )
        return self.ok(
            kind,
            *(
                f"#{e.seq} {e.action} {e.subject} by {e.actor}: {e.payload.get('reason', '')}"
                for e in found
            ),
        )

    def conformity_declaration(self, kind: str) -> Evidence:
        return self.none(kind, "not kept by signoff; attach the signed declaration separately")

    def standards_applied(self, kind: str) -> Evidence:
        return self.none(kind, "not kept by signoff; list the standards applied separately")


def find_evidence(snapshot: Snapshot, model: str, version: int) -> dict[str, Evidence]:
    """Every evidence kind, looked up for one version."""
    finder = _Finder(snapshot, model, version)
    found: dict[str, Evidence] = {}
    for kind in EVIDENCE_KINDS:
        method: Callable[[str], Evidence] = getattr(finder, kind.replace(".", "_"))
        found[kind] = method(kind)
    return found


def evaluate(framework: Framework, evidence: dict[str, Evidence]) -> list[ItemResult]:
    return [
        ItemResult(item, tuple(evidence[kind] for kind in item.evidence))
        for item in framework.items
    ]
