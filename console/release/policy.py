"""The promotion policy: strict TOML validation, its digest, and the copy the store keeps."""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.errors import BadInput
from console.identity.actor import ROLES
from console.store.db import Store

if TYPE_CHECKING:
    from sqlmodel import Session

    from audit.keys import Signer
    from console.store.models import PolicyText

KNOWN_GATES = (
    "validation.passed",
    "champion.not_worse",
    "fairness.passed",
    "card.complete",
    "package.verified",
)
STAGE_KEYS = {
    "approvals",
    "approver_roles",
    "separation_of_duties",
    "gates",
    "champion_tolerance",
    "approval_ttl_hours",
    "canary_steps",
    "may_skip",
}
VALIDATION_KEYS = {
    "min_accuracy",
    "min_balanced_accuracy",
    "imbalanced_class_share",
    "decision_threshold",
    "min_roc_auc",
    "min_gini",
    "min_ks_statistic",
    "max_calibration_slope_deviation",
    "max_calibration_intercept_deviation",
    "max_expected_calibration_error",
    "min_hosmer_lemeshow_pvalue",
    "max_score_psi",
    "min_r2",
    "max_mae",
    "max_residual_bias",
    "max_psi",
    "max_ks_pvalue_fail",
    "max_demographic_parity_difference",
    "max_equal_opportunity_difference",
    "max_null_rate_increase",
    "max_out_of_range_share",
    "max_unseen_category_share",
    "max_robustness_flip_rate",
    "max_latency_p95_ms_per_row",
}
# [monitoring]: production drift, performance decay and retraining triggers (console.monitoring).
MONITORING_NUMBER_KEYS = {
    "max_psi",
    "max_ks_statistic",
    "max_ks_pvalue",
    "max_prediction_psi",
    "max_null_rate_increase",
    "max_out_of_range_share",
    "max_unseen_category_share",
    "decay_tolerance",
    "max_model_age_days",
    "compare_alpha",
}
MONITORING_COUNT_KEYS = {"min_window_rows", "min_compare_rows"}
# Numbers that are not shares or probabilities (the rest lie in [0, 1]).
MONITORING_UNBOUNDED_KEYS = {"max_psi", "max_prediction_psi", "max_model_age_days"}
MONITORING_KEYS = MONITORING_NUMBER_KEYS | MONITORING_COUNT_KEYS | {"window", "retrain_triggers"}
RETRAIN_TRIGGERS = ("drift_alert", "decay_alert", "model_age")
WINDOW_PATTERN = re.compile(r"([1-9][0-9]{0,3})([hdw])")
TOP_KEYS = {"version", "stages", "stage", "rollback", "validation", "monitoring"}


@dataclass(frozen=True)
class StagePolicy:
    name: str
    approvals: int
    approver_roles: tuple[str, ...]
    separation_of_duties: bool
    gates: tuple[str, ...]
    champion_tolerance: float
    approval_ttl_hours: float
    canary_steps: tuple[int, ...]
    may_skip: bool


@dataclass(frozen=True)
class Policy:
    stages: tuple[StagePolicy, ...]
    break_glass_roles: tuple[str, ...]
    validation: dict[str, float] = field(default_factory=dict)
    digest: str = ""
    text: str = ""
    monitoring: dict[str, object] = field(default_factory=dict)

    def stage(self, name: str) -> StagePolicy:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise BadInput(
            f"unknown stage {name!r}; the policy's stages are {', '.join(self.stage_names)}"
        )

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]


def default_policy_text() -> str:
    return (Path(__file__).parent / "default_policy.toml").read_text(encoding="utf-8")


def default_policy_row(recorded_at: str) -> PolicyText:
    """The default policy as the store keeps it (written by `init`)."""
    from console.store.models import PolicyText

    text = default_policy_text()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return PolicyText(sha256=digest, text=text, recorded_at=recorded_at)


def policy_text(store: Store) -> str | None:
    """The text of the policy in force as stored, unchecked (None when it is missing)."""
    from console.store.models import PolicyText, StoreInfo

    with store.session() as session:
        recorded = session.get(StoreInfo, "policy_sha256")
        row = session.get(PolicyText, recorded.value) if recorded is not None else None
        return row.text if row is not None else None


def load_policy(store: Store) -> Policy:
    """The policy in force; one changed in the store outside `signoff policy set` is refused."""
    from console.errors import IntegrityError
    from console.store.models import PolicyText, StoreInfo

    with store.session() as session:
        recorded = session.get(StoreInfo, "policy_sha256")
        expected = recorded.value if recorded is not None else None
        row = session.get(PolicyText, expected) if expected is not None else None
        text = row.text if row is not None else None
    if expected is None or text is None:
        raise IntegrityError(
            "the store's policy is missing; restore the store from a backup (the policy's "
            "text is in the log's policy events)"
        )
    policy = parse_policy(text, "the store's policy")
    if policy.digest != expected:
        raise IntegrityError(
            f"the store's policy was changed outside `signoff policy set` (sha256 "
            f"{policy.digest[:16]}…, the log says {expected[:16]}…); restore it, or apply the "
            "change with `signoff policy set FILE`"
        )
    return policy


def _line_of(text: str, key: str, section: str | None = None) -> int:
    start = 0
    lines = text.splitlines()
    if section is not None:
        for number, line in enumerate(lines):
            if re.match(rf"\s*\[\s*{re.escape(section)}\s*\]", line):
                start = number
                break
    if section is not None:
        for number, line in enumerate(lines):
            if re.match(rf"\s*\[\s*{re.escape(section + '.' + key)}\s*\]", line):
                return number + 1
    for number in range(start, len(lines)):
        if re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", lines[number]) or re.match(
            rf"\s*\[\s*{re.escape(key)}\s*\]", lines[number]
        ):
            return number + 1
    return 0


def parse_policy(text: str, source: str) -> Policy:
    """Parse and validate strictly; every error names the line and what to do."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{source}: not valid TOML ({exc})") from exc

    def fail(message: str, key: str, section: str | None = None) -> BadInput:
        line = _line_of(text, key, section)
        where = f"{source}, line {line}" if line else source
        return BadInput(f"{where}: {message}")

    for key in data:
        if key not in TOP_KEYS:
            raise fail(f"unknown key {key!r}; allowed: {', '.join(sorted(TOP_KEYS))}", key)
    if data.get("version", 1) != 1:
        raise fail("unsupported policy version; use version = 1", "version")
    names = data.get("stages", ["dev", "staging", "production"])
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise fail("stages must be a non-empty list of stage names", "stages")
    if len(set(names)) != len(names):
        raise fail("stages must not repeat", "stages")
    for name in names:
        if not _is_stage_name(name):
            raise fail(
                f"stage name {name!r} is not allowed: stage names are non-empty, without "
                "control characters or surrounding spaces",
                "stages",
            )
    tables = data.get("stage", {})
    if not isinstance(tables, dict):
        raise fail("[stage.NAME] tables expected", "stage")
    for name in tables:
        if name not in names:
            raise fail(f"[stage.{name}] is not in stages = {names}", f"stage.{name}")
    stages = tuple(_stage(name, tables.get(name, {}), fail) for name in names)
    rollback = data.get("rollback", {})
    if not isinstance(rollback, dict):
        raise fail("[rollback] must be a table", "rollback")
    for key in rollback:
        if key != "break_glass_roles":
            raise fail(f"unknown key {key!r} in [rollback]", key, "rollback")
    roles = rollback.get("break_glass_roles", ["release-manager", "admin"])
    _check_roles(roles, "break_glass_roles", fail, "rollback")
    validation = data.get("validation", {})
    if not isinstance(validation, dict):
        raise fail("[validation] must be a table", "validation")
    thresholds: dict[str, float] = {}
    for key, value in validation.items():
        if key not in VALIDATION_KEYS:
            raise fail(
                f"unknown key {key!r} in [validation]; allowed: {', '.join(sorted(VALIDATION_KEYS))}",
                key,
                "validation",
            )
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise fail(f"{key} must be a number", key, "validation")
        thresholds[key] = float(value)
    monitoring = _monitoring(data.get("monitoring", {}), fail)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Policy(stages, tuple(roles), thresholds, digest, text, monitoring)


def _is_stage_name(name: str) -> bool:
    """A name people type and read: not empty, no control or format characters, trimmed."""
    return (
        bool(name.strip())
        and name == name.strip()
        and not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name)
    )


def _monitoring(table: Any, fail: Any) -> dict[str, object]:
    """[monitoring]: every key known, numbers >= 0 (shares and alpha <= 1), counts >= 1."""
    if not isinstance(table, dict):
        raise fail("[monitoring] must be a table", "monitoring")
    out: dict[str, object] = {}
    for key, value in table.items():
        if key not in MONITORING_KEYS:
            raise fail(
                f"unknown key {key!r} in [monitoring]; allowed: {', '.join(sorted(MONITORING_KEYS))}",
                key,
                "monitoring",
            )
        if key == "window":
            if not isinstance(value, str) or not WINDOW_PATTERN.fullmatch(value):
                raise fail('window must be a length like "7d", "12h" or "2w"', key, "monitoring")
            out[key] = value
        elif key == "retrain_triggers":
            if not isinstance(value, list) or any(t not in RETRAIN_TRIGGERS for t in value):
                raise fail(
                    f"retrain_triggers must be a list of {', '.join(RETRAIN_TRIGGERS)}",
                    key,
                    "monitoring",
                )
            out[key] = list(dict.fromkeys(value))
        elif key in MONITORING_COUNT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise fail(f"{key} must be a whole number >= 1", key, "monitoring")
            out[key] = value
        else:
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise fail(f"{key} must be a number >= 0", key, "monitoring")
            if key not in MONITORING_UNBOUNDED_KEYS and value > 1:
                raise fail(f"{key} is a share or probability: between 0 and 1", key, "monitoring")
            out[key] = float(value)
    return out


def _check_roles(roles: Any, key: str, fail: Any, section: str) -> None:
    if not isinstance(roles, list) or not roles:
        raise fail(f"{key} must be a non-empty list of roles", key, section)
    for role in roles:
        if role not in ROLES:
            raise fail(
                f"unknown role {role!r} in {key}; roles are {', '.join(ROLES)}", key, section
            )


def _stage(name: str, table: Any, fail: Any) -> StagePolicy:
    section = f"stage.{name}"
    if not isinstance(table, dict):
        raise fail(f"[{section}] must be a table", section)
    for key in table:
        if key not in STAGE_KEYS:
            raise fail(
                f"unknown key {key!r} in [{section}]; allowed: {', '.join(sorted(STAGE_KEYS))}",
                key,
                section,
            )
    approvals = table.get("approvals", 1)
    if not isinstance(approvals, int) or isinstance(approvals, bool) or approvals < 0:
        raise fail("approvals must be a whole number >= 0", "approvals", section)
    roles = table.get("approver_roles", ["reviewer", "risk-officer"])
    _check_roles(roles, "approver_roles", fail, section)
    gates = table.get("gates", [])
    if not isinstance(gates, list):
        raise fail("gates must be a list", "gates", section)
    for gate in gates:
        if gate not in KNOWN_GATES:
            raise fail(
                f"unknown gate {gate!r}; gates are {', '.join(KNOWN_GATES)}", "gates", section
            )
    steps = table.get("canary_steps", [])
    if (
        not isinstance(steps, list)
        or not all(isinstance(s, int) and 0 < s <= 100 for s in steps)
        or steps != sorted(set(steps))
        or (steps and steps[-1] != 100)
    ):
        raise fail(
            "canary_steps must be increasing percentages ending at 100, e.g. [10, 50, 100]",
            "canary_steps",
            section,
        )
    ttl = table.get("approval_ttl_hours", 168)
    tolerance = table.get("champion_tolerance", 0.0)
    for key, value in (("approval_ttl_hours", ttl), ("champion_tolerance", tolerance)):
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise fail(f"{key} must be a number >= 0", key, section)
    flags = {}
    for key, default in (("separation_of_duties", True), ("may_skip", False)):
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise fail(f"{key} must be true or false", key, section)
        flags[key] = value
    return StagePolicy(
        name=name,
        approvals=approvals,
        approver_roles=tuple(roles),
        separation_of_duties=flags["separation_of_duties"],
        gates=tuple(gates),
        champion_tolerance=float(tolerance),
        approval_ttl_hours=float(ttl),
        canary_steps=tuple(steps),
        may_skip=flags["may_skip"],
    )


def _require_stated_stages(text: str, source: str) -> None:
    """A new policy names its stages: an empty file would silently become the defaults."""
    data = tomllib.loads(text)
    if "stages" not in data:
        what = "does not list its stages" if data else "is empty"
        raise BadInput(
            f"{source} {what}; a policy must state stages = [...] and their [stage.NAME] "
            "tables (see `signoff policy show` for the one in force)"
        )


def _refuse_dropping_held_stages(session: Session, policy: Policy) -> None:
    """A stage a model still holds (or canaries in) cannot leave the policy: roll it back first."""
    from sqlmodel import col, or_, select

    from console.errors import Refused
    from console.store.models import StageAssignment

    held = session.exec(
        select(StageAssignment)
        .where(col(StageAssignment.stage).not_in(policy.stage_names))
        .where(
            or_(
                col(StageAssignment.version).is_not(None),
                col(StageAssignment.canary_version).is_not(None),
            )
        )
        .order_by(col(StageAssignment.stage), col(StageAssignment.model))
    ).all()
    if held:
        first = held[0]
        more = f" and {len(held) - 1} more" if len(held) > 1 else ""
        raise Refused(
            f"the new policy drops stage {first.stage!r}, which {first.model} still holds"
            f"{more}; roll those models back out of it first"
        )


def set_policy(store: Store, signer: Signer, text: str, source: str) -> Policy:
    """Replace the policy (admins only); the change and the new digest are audited."""
    from console.auditing import catalogue as actions
    from console.auditing.log import append_event
    from console.identity.actor import require_actor
    from console.identity.permissions import Permission
    from console.store.models import PolicyText, StoreInfo

    policy = parse_policy(text, source)
    _require_stated_stages(text, source)
    old = load_policy(store)
    with store.session() as session:
        require_actor(session, signer, Permission.SET_POLICY)
        _refuse_dropping_held_stages(session, policy)
        in_force = session.get(StoreInfo, "policy_sha256")
        if in_force is None or in_force.value != old.digest:
            raise BadInput("the policy changed while this command ran; run it again")
        if policy.digest == old.digest:
            raise BadInput(
                f"{source} is the policy already in force (sha256 {policy.digest[:16]}…)"
            )
        now = store.clock()
        append_event(
            session,
            signer,
            actions.POLICY_CHANGED,
            "policy",
            {
                "sha256": policy.digest,
                "previous_sha256": old.digest,
                "stages": policy.stage_names,
                "text": text,
            },
            ts=now,
        )
        session.merge(StoreInfo(key="policy_sha256", value=policy.digest))
        if session.get(PolicyText, policy.digest) is None:
            session.add(PolicyText(sha256=policy.digest, text=text, recorded_at=now))
    return policy
