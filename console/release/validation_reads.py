"""Validation runs and their checks in plain SQL: gates, requests and reviews read them the same
way in the console's sessions and in a read command's driver connection."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import takewhile

from console.store.rows import Row, Rows

RUN_COLUMNS = (
    "id, model, version, dataset_sha256, dataset_name, target, sensitive, stage, status, passed, "
    "report_sha256, started_at, finished_at, actor, summary, event_seq"
)
CHECK_COLUMNS = "run_id, name, category, status, value, threshold, detail"


@dataclass(frozen=True)
class CheckView:
    name: str
    category: str
    status: str
    value: float | None
    threshold: float | None
    detail: dict[str, object]

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ValidationView:
    id: int
    model: str
    version: int
    dataset_sha256: str
    dataset_name: str
    target: str
    sensitive: str | None
    stage: str | None
    status: str
    passed: bool
    report_sha256: str
    started_at: str
    finished_at: str
    actor: str
    summary: dict[str, object]
    event_seq: int
    checks: list[CheckView] = field(default_factory=list)

    def check(self, name: str) -> CheckView | None:
        for item in self.checks:
            if item.name == name:
                return item
        return None

    def by_category(self, category: str) -> list[CheckView]:
        return [c for c in self.checks if c.category == category]

    def as_dict(self) -> dict[str, object]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "checks"}
        data["checks"] = [c.as_dict() for c in self.checks]
        return data


def check_view(row: Row) -> CheckView:
    """A view of one row of CHECK_COLUMNS."""
    _run, name, category, status, value, threshold, detail = row
    return CheckView(name, category, status, value, threshold, json.loads(detail))


def run_view(row: Row, checks: list[CheckView]) -> ValidationView:
    """A view of one row of RUN_COLUMNS, with its checks."""
    (id_, model, version, dataset_sha256, dataset_name, target, sensitive, stage) = row[:8]
    (status, passed, report, started_at, finished_at, actor, summary, event_seq) = row[8:]
    return ValidationView(
        id=int(id_),
        model=model,
        version=int(version),
        dataset_sha256=dataset_sha256,
        dataset_name=dataset_name,
        target=target,
        sensitive=sensitive,
        stage=stage,
        status=status,
        passed=bool(passed),
        report_sha256=report,
        started_at=started_at,
        finished_at=finished_at,
        actor=actor,
        summary=json.loads(summary),
        event_seq=int(event_seq),
        checks=checks,
    )


def read_runs_with_checks(rows: Rows, runs: list[Row]) -> list[ValidationView]:
    """Views of RUN_COLUMNS rows, each with its checks by category and name (one query)."""
    if not runs:
        return []
    ids = {int(run[0]): index for index, run in enumerate(runs)}
    marks = ", ".join(f":r{n}" for n in range(len(ids)))
    checks: dict[int, list[CheckView]] = {run_id: [] for run_id in ids}
    for row in rows.all(
        f"SELECT {CHECK_COLUMNS} FROM validation_checks WHERE run_id IN ({marks}) "
        "ORDER BY run_id, category, name",
        {f"r{n}": run_id for n, run_id in enumerate(ids)},
    ):
        checks[int(row[0])].append(check_view(row))
    return [run_view(run, checks[int(run[0])]) for run in runs]


def read_validation_runs(
    rows: Rows, model: str, version: int | None = None, *, newest_first: bool = False
) -> list[ValidationView]:
    """A model's runs (or one version's), oldest first unless `newest_first`, with checks."""
    where = "model = :model" + ("" if version is None else " AND version = :version")
    order = "DESC" if newest_first else ""
    runs = rows.all(
        f"SELECT {RUN_COLUMNS} FROM validation_runs WHERE {where} ORDER BY id {order}",
        {"model": model, "version": version},
    )
    return read_runs_with_checks(rows, runs)


def read_latest_validation(rows: Rows, model: str, version: int) -> ValidationView | None:
    """The newest validation run of a version (the one gates and evidence digests use)."""
    runs = rows.all(
        f"SELECT {RUN_COLUMNS} FROM validation_runs WHERE model = :model AND version = :version "
        "ORDER BY id DESC LIMIT 1",
        {"model": model, "version": version},
    )
    found = read_runs_with_checks(rows, runs)
    return found[0] if found else None


def read_independent_validation(
    rows: Rows, model: str, version: int
) -> tuple[ValidationView | None, str]:
    """The newest run by someone other than the version's author (SR 11-7), and why the newer
    runs did not count ("" when none was set aside)."""
    found = rows.all(
        "SELECT author FROM model_versions WHERE model = :model AND number = :version",
        {"model": model, "version": version},
    )
    author = found[0][0] if found else ""
    runs = rows.all(
        f"SELECT {RUN_COLUMNS} FROM validation_runs WHERE model = :model AND version = :version "
        "ORDER BY id DESC",
        {"model": model, "version": version},
    )
    skipped = list(takewhile(lambda r: r[13] == author, runs))  # r[13]: the run's actor
    counted = runs[len(skipped)] if len(skipped) < len(runs) else None
    why = ""
    if skipped:
        numbers = ", ".join(str(r[0]) for r in skipped)
        runs_by = (
            f"run {numbers} by {author} does"
            if len(skipped) == 1
            else f"runs {numbers} by {author} do"
        )
        why = f"{runs_by} not count: the version's author ran it and the stage requires independent validation"
    if counted is None:
        return None, why
    return read_runs_with_checks(rows, [counted])[0], why
