"""The store as it stood when the audit log held N events, for reports that can be remade.

A report states the log size N it was made at. Everything it prints comes from here, and
everything here comes from state at N: rows that carry an `event_seq` below N (validation
runs, approvals, deployments, requests, versions through their registration events), and
mutable state replayed from the first N events (request status, card fields, stage holders,
users' keys, the policy, packages). Nothing reads the clock; the report's time is the
timestamp of event N-1. So `as_of=N` gives the same snapshot, and the same PDF, for ever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from audit.chain import verify_records
from audit.key_history import KEY_ACTIONS, KeyHistory
from audit.merkle import root_from_leaf_hashes
from audit.note import format_checkpoint
from console.auditing.log import iter_records, log_size
from console.auditing.log_stream import EventStream
from console.auditing.replay import (
    cards_from,
    checkpoint_from,
    decisions_from,
    models_from,
    packages_from,
    policy_from,
    requests_from,
    stages_from,
)
from console.auditing.replay_entries import (
    CardValue,
    CheckpointEntry,
    DatasetEntry,
    DecisionEntry,
    Event,
    KeyEntry,
    ModelEntry,
    PackageEntry,
    PolicyState,
    RequestEntry,
    StageState,
    VersionEntry,
)
from console.auditing.state_check import prove_model_after
from console.errors import BadInput, NotFound
from console.monitoring.views import MonitoringSummary, monitoring_summary
from console.release.evidence import ValidationView
from console.release.history import DeploymentView
from console.release.policy import policy_text
from console.release.serving import serving_version
from console.store.db import Store
from reports.snapshot_rows import dataset_entry, read_rows, version_entry

Progress = Callable[[str, float], None]


@dataclass
class Snapshot:
    """Everything a report may say, as of log size N."""

    size: int
    as_of_ts: str
    origin: str
    verified: bool
    first_bad_seq: int | None
    failure: str | None
    signatures_checked: int
    root_hex: str
    checkpoint_body: str
    checkpoint: CheckpointEntry | None
    events: list[Event]
    policy: PolicyState
    models: dict[str, ModelEntry]
    versions: dict[tuple[str, int], VersionEntry]
    datasets: dict[str, DatasetEntry]
    runs: list[ValidationView]
    requests: dict[int, RequestEntry]
    decisions: list[DecisionEntry]
    deployments: list[DeploymentView]
    stages: dict[tuple[str, str], StageState]
    packages: list[PackageEntry]
    cards: dict[tuple[str, int], dict[str, CardValue]]
    keys: list[KeyEntry]
    users: dict[str, str]  # name -> role at N
    since: str | None = None
    read_monitoring: Callable[[str], MonitoringSummary] | None = None  # a model's, as of N
    _by_model: dict[str, list[Event]] = field(default_factory=dict)
    _monitoring: dict[str, MonitoringSummary] = field(default_factory=dict)

    def model_events(self, model: str) -> list[Event]:
        if not self._by_model:
            for event in self.events:
                if event.model:
                    self._by_model.setdefault(event.model, []).append(event)
        return self._by_model.get(model, [])

    def monitoring(self, model: str) -> MonitoringSummary:
        """Logs, windows, alerts and jobs of a model recorded by the first N events."""
        if model not in self._monitoring:
            if self.read_monitoring is None:
                raise RuntimeError("this snapshot was made without its store")
            self._monitoring[model] = self.read_monitoring(model)
        return self._monitoring[model]

    def serving_versions(self, model: str) -> list[int]:
        """The versions holding a stage of the model at N, canaries included."""
        held = set()
        for state in self.stages_of(model):
            held |= {v for v in (state.version, state.canary_version) if v is not None}
        return sorted(held)

    def model_versions(self, model: str) -> list[VersionEntry]:
        return sorted(
            (v for (m, _), v in self.versions.items() if m == model), key=lambda v: v.number
        )

    def runs_of(self, model: str, version: int) -> list[ValidationView]:
        return [r for r in self.runs if r.model == model and r.version == version]

    def latest_run(self, model: str, version: int) -> ValidationView | None:
        runs = self.runs_of(model, version)
        return runs[-1] if runs else None

    def stages_of(self, model: str) -> list[StageState]:
        order = {name: i for i, name in enumerate(self.policy.policy.stage_names)}
        found = [s for (m, _), s in self.stages.items() if m == model]
        return sorted(found, key=lambda s: (order.get(s.stage, len(order)), s.stage))

    def held_by(self, model: str, version: int) -> list[str]:
        held = []
        for state in self.stages_of(model):
            if state.version == version:
                held.append(state.stage)
            if state.canary_version == version:
                held.append(f"{state.stage} (canary {state.canary_share}%)")
        return held

    def in_period(self, ts: str) -> bool:
        return self.since is None or ts >= self.since


def parse_since(value: str | None) -> str | None:
    """`--since DATE` as the ISO prefix timestamps compare against; BadInput when malformed."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise BadInput(f"--since {value!r} is not a date; use YYYY-MM-DD") from None


def _silent(_label: str, _fraction: float) -> None:
    return None


def take_snapshot(
    store: Store,
    *,
    as_of: int | None,
    since: str | None = None,
    progress: Progress | None = None,
    prove: str | None = None,
    prove_skip: Sequence[str] = (),
) -> Snapshot:
    """Read the store at log size `as_of` (default: now) and verify the first N events.

    With `prove`, when they verify, that model's rows are proven against the log as well
    (StateForged otherwise), without verifying the same signatures twice.
    """
    step = progress or _silent
    step("reading the audit log", 0.0)
    with store.session() as session:
        total = log_size(session)
        if total == 0:
            raise BadInput("the audit log is empty; nothing to report")
        if as_of is not None and not 1 <= as_of <= total:
            raise BadInput(f"--as-of {as_of} is outside the log, which holds 1..{total} events")
        size = total if as_of is None else as_of
        rows = read_rows(session, size)
        # Records stream through the verifier; only their events stay (a long log is big).
        log = EventStream(iter_records(session, upto=size))
        step("verifying the audit log", 0.15)
        result = verify_records(
            log,
            expected_total=size,
            progress=lambda done: step("verifying the audit log", 0.15 + 0.2 * done / size),
        )
        log.drain()  # a failing log's report still lists every event
    events, leaves = log.events, log.leaves
    if prove is not None and result.ok:
        prove_model_after(store, prove, events, skip=prove_skip)
    history = KeyHistory()
    for event in events:
        if event.action in KEY_ACTIONS:  # the others change nothing (and their payloads wait)
            history.apply(event.seq, event.actor, event.action, event.payload)
    root = root_from_leaf_hashes(leaves)
    origin = rows.origin or (history.origin or "signoff")
    first = result.first
    step("reading the evidence", 0.4)
    snapshot = Snapshot(
        size=size,
        as_of_ts=log.last_ts,
        origin=origin,
        verified=result.ok,
        first_bad_seq=first.seq if first else None,
        failure=first.reason if first else None,
        signatures_checked=result.size,
        root_hex=root.hex(),
        checkpoint_body=format_checkpoint(origin, size, root),
        checkpoint=checkpoint_from(rows.checkpoints, events, leaves, history),
        events=events,
        policy=policy_from(events, policy_text(store)),
        models=models_from(events),
        versions={},
        datasets={},
        runs=[],
        requests={},
        decisions=[],
        deployments=[],
        stages={},
        packages=packages_from(events),
        cards=cards_from(events),
        keys=[
            KeyEntry(k.keyid, k.user, history.role_of(k.user) or "", k.valid_from, k.revoked_at)
            for k in history.keys.values()
        ],
        users={name: user.role for name, user in history.users.items()},
        since=since,
        read_monitoring=lambda model: monitoring_summary(store, model, upto_seq=size),
    )
    registered = {
        (str(e.payload.get("model")), int(str(e.payload.get("version")))): e.seq
        for e in events
        if e.action == "version.registered"
    }
    snapshot.versions = {
        (v.model, v.number): version_entry(v, registered[(v.model, v.number)])
        for v in rows.versions
        if (v.model, v.number) in registered
    }
    dataset_events = {
        str(e.payload.get("sha256")): e for e in events if e.action == "dataset.registered"
    }
    snapshot.datasets = {
        d.sha256: dataset_entry(d, dataset_events.get(d.sha256))
        for d in rows.datasets
        if d.sha256 in dataset_events
    }
    snapshot.runs = rows.runs
    snapshot.requests = requests_from(rows.requests, events, snapshot.as_of_ts)
    snapshot.deployments = rows.deployments
    snapshot.stages = stages_from(events)
    snapshot.decisions = decisions_from(
        rows.approvals, events, snapshot.requests, history, rows.pems
    )
    step("evidence read", 0.45)
    return snapshot


def check_model(snapshot: Snapshot, model: str, version: int | None) -> int:
    """The version a model report covers: the one asked for, else the one serving the last stage."""
    if model not in snapshot.models:
        raise NotFound(
            f"no model {model!r} in this store at log size {snapshot.size}; see `signoff models`"
        )
    versions = snapshot.model_versions(model)
    if version is not None:
        if (model, version) not in snapshot.versions:
            numbers = ", ".join(str(v.number) for v in versions) or "none"
            raise NotFound(
                f"model {model!r} has no version {version} at log size {snapshot.size} "
                f"(versions: {numbers})"
            )
        return version
    states = snapshot.stages_of(model)
    serving = serving_version([s.stage for s in states], {s.stage: s.version for s in states})
    if serving is not None:
        return serving
    if not versions:
        raise NotFound(f"model {model!r} has no version at log size {snapshot.size}")
    return versions[-1].number


__all__ = [
    "CardValue",
    "CheckpointEntry",
    "DatasetEntry",
    "DecisionEntry",
    "Event",
    "KeyEntry",
    "ModelEntry",
    "PackageEntry",
    "PolicyState",
    "RequestEntry",
    "Snapshot",
    "StageState",
    "VersionEntry",
    "check_model",
    "parse_since",
    "take_snapshot",
]
