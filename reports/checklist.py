"""Maps a framework's items to the evidence the store holds for one version, at log size N.

`find_evidence` looks for every kind of `framework_catalog.EVIDENCE_KINDS` and returns, per
kind, concrete references (event sequence numbers `#n`, run ids, digests) or why there is
none. An item is MET when each of its kinds has evidence, PARTIAL when some has, GAP when
none has. Evidence that exists but shows a problem (a failed check, a log that does not
verify) is still cited, with the problem, so that a reader sees it rather than a silence;
evidence that must hold now (production monitoring) names what does not (its open alerts),
and its item is then PARTIAL, never MET.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reports.evidence_base import Evidence, num, short
from reports.evidence_monitoring import MonitoringEvidence
from reports.evidence_registry import RegistryEvidence
from reports.evidence_release import ReleaseEvidence
from reports.framework_catalog import EVIDENCE_KINDS, Framework, FrameworkItem
from reports.snapshot import Snapshot

MET, PARTIAL, GAP = "MET", "PARTIAL", "GAP"


@dataclass(frozen=True)
class ItemResult:
    item: FrameworkItem
    evidence: tuple[Evidence, ...]

    @property
    def status(self) -> str:
        if all(e.holds for e in self.evidence):
            return MET
        return PARTIAL if any(e.found for e in self.evidence) else GAP

    @property
    def missing_kinds(self) -> list[str]:
        return [e.kind for e in self.evidence if not e.found]

    @property
    def problems(self) -> list[str]:
        return [problem for e in self.evidence for problem in e.problems]


class _Finder(RegistryEvidence, ReleaseEvidence, MonitoringEvidence):
    """Every finder, looked up by the evidence kind's name."""


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


__all__ = [
    "GAP",
    "MET",
    "PARTIAL",
    "Evidence",
    "ItemResult",
    "evaluate",
    "find_evidence",
    "num",
    "short",
]
