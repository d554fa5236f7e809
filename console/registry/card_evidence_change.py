"""Inherited card text was written against its source's validation: say where the new version's differs.

A card field inherited from vP and not yet confirmed was written by people who saw vP's
evidence, not the new version's. `compare_evidence` sets the outcome of each check in vP's
latest results (per check, over all of vP's runs, the newest wins) beside the new version's
latest run, and lists the checks whose outcome differs, for any check the runs recorded:

- one side failed the check and the other gave it a verdict that holds (pass or warn);
- vP gave a verdict and the version's run did not make the check ("not run");
- vP did not make the check and the version's run fails it.

A warning is advice, not a finding (a latency warning depends on the machine's load), so a move
between pass and warn is not listed; an `info` result (a measure with no threshold) gives no
verdict and is never listed. Where vP or the version has no validation run the change says so
instead of listing anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from console.registry.card_reads import INHERITED, FieldOrigin, read_field_origins
from console.release.validation_reads import (
    ValidationView,
    read_latest_validation,
    read_validation_runs,
)
from console.store.rows import Rows

FAIL = "fail"
VERDICTS = ("pass", "warn", FAIL)
NOT_RUN = "not run"


@dataclass(frozen=True)
class CheckChange:
    """One check whose outcome differs: in the source version's results and in the version's run."""

    check: str
    before: str  # its status in the source's latest results, or NOT_RUN
    after: str  # its status in the version's latest run, or NOT_RUN

    def sentence(self, source: int, version: int) -> str:
        return f"{self.check}: {self.before} in v{source}, {self.after} in v{version}"

    def as_dict(self) -> dict[str, object]:
        return {"check": self.check, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class EvidenceChange:
    """The evidence inherited card text was written against, beside the version's own."""

    model: str
    version: int
    source: int  # the version the text was inherited from
    source_run: int | None  # the newest run of the source, None when it had none
    own_run: int | None  # the version's latest run, None when it has none
    changes: tuple[CheckChange, ...]

    @property
    def contradicted(self) -> bool:
        """True when the version's evidence differs from what the text was written against."""
        return bool(self.changes)

    def findings(self) -> list[str]:
        """What differs, one plain sentence per check, or the one sentence saying why nothing
        can be compared, or that nothing differs."""
        if self.source_run is None:
            return [f"v{self.source} had no validation run: the text was written without one"]
        if self.own_run is None:
            return [
                f"v{self.version} has no validation run yet: nothing shows it holds for v{self.version}"
            ]
        if not self.changes:
            return [
                f"v{self.version}'s validation (run {self.own_run}) gives the same outcome for "
                f"every check v{self.source}'s did"
            ]
        return [c.sentence(self.source, self.version) for c in self.changes]

    @property
    def heading(self) -> str:
        """ "written for v2; since then" (checks differ) or "written for v2" (nothing listed)."""
        return f"written for v{self.source}" + ("; since then" if self.changes else "")

    def summary(self) -> str:
        """One line for a card, a diff or a review: "written for v2; since then: …"."""
        return f"{self.heading}: " + "; ".join(self.findings())

    def payload(self, acknowledged: bool) -> dict[str, object]:
        """What a signed `card.confirmed` event records of the evidence its author was shown."""
        return {
            "source_run": self.source_run,
            "own_run": self.own_run,
            "changes": [c.as_dict() for c in self.changes],
            "acknowledged": acknowledged,
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "source_run": self.source_run,
            "own_run": self.own_run,
            "changes": [c.as_dict() for c in self.changes],
            "summary": self.summary(),
        }


def latest_outcomes(runs: Iterable[ValidationView]) -> dict[str, str]:
    """Each check's status in the newest of the runs that made it (runs oldest first)."""
    outcomes: dict[str, str] = {}
    for run in sorted(runs, key=lambda r: r.id):
        outcomes.update({check.name: check.status for check in run.checks})
    return outcomes


def compare_evidence(
    model: str,
    version: int,
    source: int,
    source_runs: Iterable[ValidationView],
    own_run: ValidationView | None,
) -> EvidenceChange:
    """The checks whose outcome differs between the source's latest results and the version's."""
    runs = sorted(source_runs, key=lambda r: r.id)
    source_run = runs[-1].id if runs else None
    changes: list[CheckChange] = []
    if runs and own_run is not None:
        before = latest_outcomes(runs)
        after = {check.name: check.status for check in own_run.checks}
        for name in sorted(before.keys() | after.keys()):
            old, new = before.get(name, NOT_RUN), after.get(name, NOT_RUN)
            if _differs(old, new):
                changes.append(CheckChange(name, old, new))
    own = own_run.id if own_run is not None else None
    return EvidenceChange(model, version, source, source_run, own, tuple(changes))


def _differs(before: str, after: str) -> bool:
    if before in VERDICTS and after in VERDICTS:
        return (before == FAIL) != (after == FAIL)
    if before in VERDICTS:
        return after == NOT_RUN
    return before == NOT_RUN and after == FAIL


def read_evidence_change(
    rows: Rows, model: str, version: int, origins: Mapping[str, FieldOrigin] | None = None
) -> EvidenceChange | None:
    """The change under a version's unconfirmed inherited fields; None when none awaits.

    `origins` are the version's field origins when the caller has read them already."""
    if origins is None:
        origins = read_field_origins(rows, model, version)
    sources = {
        o.from_version
        for o in origins.values()
        if o.state == INHERITED and o.from_version is not None
    }
    if not sources:
        return None
    return read_evidence_against(rows, model, version, min(sources))


def read_evidence_against(rows: Rows, model: str, version: int, source: int) -> EvidenceChange:
    """`compare_evidence` of `model:version` against the source's runs, read from the store."""
    return compare_evidence(
        model,
        version,
        source,
        read_validation_runs(rows, model, source),
        read_latest_validation(rows, model, version),
    )
