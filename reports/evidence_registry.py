"""Evidence from the registry, the model card and the audit log itself, for checklist items."""

from __future__ import annotations

from console.registry.cards import FIELDS
from reports.evidence_base import Evidence, EvidenceFinder, short
from reports.report_text import when


class RegistryEvidence(EvidenceFinder):
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

    # -- the card -----------------------------------------------------------------------------

    def _card(self, kind: str, names: tuple[str, ...]) -> Evidence:
        filled = [n for n in names if n in self.card]
        if not filled:
            return self.none(kind, "not written on the model card")
        refs = [
            f"{n} {self.card[n].origin()} ({self.card[n].action} #{self.card[n].event_seq})"
            for n in filled
        ]
        empty = [n for n in names if n not in self.card]
        if empty:
            refs.append(f"still empty: {', '.join(empty)}")
        # A field copied from an earlier version says nothing of this one until confirmed.
        unconfirmed = tuple(
            f"{n} {self.card[n].origin()}"
            for n in filled
            if self.card[n].action == "card.inherited"
        )
        return Evidence(kind, tuple(refs), problems=unconfirmed)

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
                kind, "not retired; signoff retire MODEL[:VERSION] --reason records it"
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
