"""The JSON report of a run: every check with its detail, in canonical JSON, stored by digest."""

from __future__ import annotations

from typing import Any

from audit.canonical import canonical_json
from console.validation.checks import Check, plain

REPORT_TYPE = "signoff/validation-report/v1"


def build_report(
    *,
    run_id: int,
    subject: dict[str, Any],
    dataset: dict[str, Any],
    settings: dict[str, Any],
    outcome: dict[str, Any],
    checks: list[Check],
    environment: dict[str, Any],
) -> bytes:
    """Canonical JSON bytes (sorted keys, no NaN or infinity: undefined numbers are null)."""
    return canonical_json(
        plain(
            {
                "type": REPORT_TYPE,
                "run_id": run_id,
                "model": subject,
                "dataset": dataset,
                "settings": settings,
                **outcome,
                "checks": [c.as_dict() for c in checks],
                "environment": environment,
            }
        )
    )
