"""What a framework item cites: one kind of evidence, and the finder every section extends."""

from __future__ import annotations

from dataclasses import dataclass

from reports.snapshot import Snapshot


@dataclass(frozen=True)
class Evidence:
    kind: str
    refs: tuple[str, ...]
    missing: str = ""  # why there is no evidence (empty when there is)
    problems: tuple[str, ...] = ()  # what does not hold now (open alerts): never MET

    @property
    def found(self) -> bool:
        return not self.missing

    @property
    def holds(self) -> bool:
        return self.found and not self.problems


def short(digest: str) -> str:
    return f"{digest[:16]}…" if len(digest) > 16 else digest


def num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


class EvidenceFinder:
    """The version a checklist is about, as the snapshot knows it; sections add finders."""

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
