"""The policy's text checked strictly: every key known, every value in range, errors by line."""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from typing import Any

from console.errors import BadInput
from console.identity.permissions import ROLES
from console.release.policy_fairness import parse_fairness_bounds
from console.release.policy_monitoring import parse_monitoring
from console.release.policy_rules import DEFAULT_TIERS, Policy, StagePolicy

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
    "independent_validation",
    "primary_metric",
}
# What a canary's champion and challenger are compared on (classifiers; regressors use MSE).
PRIMARY_METRICS = ("roc_auc", "accuracy")
# A tier rule overrides the workflow of a stage; validation and canary comparisons measure
# against the champion whatever the tier, so the tolerance and the metric stay per stage.
TIER_STAGE_KEYS = STAGE_KEYS - {"champion_tolerance", "primary_metric"}
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
TOP_KEYS = {"version", "stages", "stage", "rollback", "validation", "monitoring", "tiers", "tier"}


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
    tiers = _tiers(data.get("tiers", list(DEFAULT_TIERS)), fail)
    tier_stages = _tier_stages(data.get("tier", {}), tiers, names, tables, fail)
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
    bounds = parse_fairness_bounds(validation.get("fairness", {}), fail)
    for key, value in validation.items():
        if key == "fairness":
            continue
        if key not in VALIDATION_KEYS:
            raise fail(
                f"unknown key {key!r} in [validation]; allowed: {', '.join(sorted(VALIDATION_KEYS))}",
                key,
                "validation",
            )
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise fail(f"{key} must be a number", key, "validation")
        thresholds[key] = float(value)
    monitoring = parse_monitoring(data.get("monitoring", {}), fail)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Policy(
        stages, tuple(roles), thresholds, digest, text, monitoring, tiers, tier_stages, bounds
    )


def _tiers(names: Any, fail: Any) -> tuple[str, ...]:
    """The risk tiers a model may have (`tiers = [...]`), in the order people rank them."""
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise fail("tiers must be a non-empty list of risk tier names", "tiers")
    if len(set(names)) != len(names) or not all(_is_stage_name(n) for n in names):
        raise fail("tiers must not repeat, be empty, padded or hold control characters", "tiers")
    return tuple(names)


def _tier_stages(
    table: Any, tiers: tuple[str, ...], names: list[str], stage_tables: dict[str, Any], fail: Any
) -> tuple[StagePolicy, ...]:
    """Each `[tier.T.stage.S]`: its keys over the stage's own, for models of tier T."""
    if not isinstance(table, dict):
        raise fail("[tier.TIER.stage.STAGE] tables expected", "tier")
    rules: list[StagePolicy] = []
    for tier, body in table.items():
        if tier not in tiers:
            raise fail(
                f"[tier.{tier}] names a tier no model can have; tiers = {list(tiers)}",
                f"tier.{tier}",
            )
        if not isinstance(body, dict) or set(body) - {"stage"}:
            raise fail(f"[tier.{tier}] holds only [tier.{tier}.stage.STAGE] tables", f"tier.{tier}")
        stages = body.get("stage", {})
        if not isinstance(stages, dict):
            raise fail(f"[tier.{tier}.stage.STAGE] tables expected", f"tier.{tier}")
        for name, override in stages.items():
            section = f"tier.{tier}.stage.{name}"
            if name not in names:
                raise fail(f"[{section}] names a stage not in stages = {names}", section)
            if not isinstance(override, dict):
                raise fail(f"[{section}] must be a table", section)
            for key in override:
                if key not in TIER_STAGE_KEYS:
                    why = " (it is set per stage)" if key in STAGE_KEYS else ""
                    raise fail(
                        f"key {key!r} cannot be set in [{section}]{why}; allowed: "
                        f"{', '.join(sorted(TIER_STAGE_KEYS))}",
                        key,
                        section,
                    )
            base = dict(stage_tables.get(name, {}))
            if isinstance(override.get("approvals"), dict):
                base.pop("approver_roles", None)  # a per-role quorum names its own roles
            merged = {**base, **override}
            sources = {key: f"[stage.{name}]" for key in base}
            sources.update({key: f"[{section}]" for key in override})
            rules.append(_stage(name, merged, fail, section, tier, sources))
    return tuple(rules)


def _is_stage_name(name: str) -> bool:
    """A name people type and read: not empty, no control or format characters, trimmed."""
    return (
        bool(name.strip())
        and name == name.strip()
        and not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name)
    )


def _check_roles(roles: Any, key: str, fail: Any, section: str) -> None:
    if not isinstance(roles, list) or not roles:
        raise fail(f"{key} must be a non-empty list of roles", key, section)
    for role in roles:
        if role not in ROLES:
            raise fail(
                f"unknown role {role!r} in {key}; roles are {', '.join(ROLES)}", key, section
            )


def _stage(
    name: str,
    table: Any,
    fail: Any,
    section: str | None = None,
    tier: str | None = None,
    sources: dict[str, str] | None = None,
) -> StagePolicy:
    section = section or f"stage.{name}"
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
    role_quorum = _role_quorum(approvals, table, fail, section)
    if role_quorum:
        roles = [role for role, _ in role_quorum]
        approvals = sum(count for _, count in role_quorum)
    elif not isinstance(approvals, int) or isinstance(approvals, bool) or approvals < 0:
        raise fail(
            "approvals must be a whole number >= 0 or a table of roles, e.g. "
            "{ reviewer = 1, risk-officer = 1 }",
            "approvals",
            section,
        )
    else:
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
    for key, default in (
        ("separation_of_duties", True),
        ("may_skip", False),
        ("independent_validation", False),
    ):
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise fail(f"{key} must be true or false", key, section)
        flags[key] = value
    metric = table.get("primary_metric", "roc_auc")
    if metric not in PRIMARY_METRICS:
        raise fail(
            f"primary_metric must be one of {', '.join(PRIMARY_METRICS)}", "primary_metric", section
        )
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
        role_quorum=role_quorum,
        independent_validation=flags["independent_validation"],
        primary_metric=str(metric),
        tier=tier,
        sources=tuple(sorted((sources or {k: f"[{section}]" for k in table}).items())),
    )


def _role_quorum(
    approvals: Any, table: Any, fail: Any, section: str
) -> tuple[tuple[str, int], ...]:
    """`approvals = { reviewer = 1, risk-officer = 1 }`: how many of each role; () for a count."""
    if not isinstance(approvals, dict):
        return ()
    if "approver_roles" in table:
        raise fail(
            "a per-role quorum names its roles: drop approver_roles, or give approvals as a number",
            "approver_roles",
            section,
        )
    if not approvals:
        raise fail("approvals = {} names no role; give each role its count", "approvals", section)
    _check_roles(list(approvals), "approvals", fail, section)
    for role, count in approvals.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise fail(f"approvals of {role} must be a whole number >= 1", "approvals", section)
    return tuple(approvals.items())


def _require_stated_stages(text: str, source: str) -> None:
    """A new policy names its stages: an empty file would silently become the defaults."""
    data = tomllib.loads(text)
    if "stages" not in data:
        what = "does not list its stages" if data else "is empty"
        raise BadInput(
            f"{source} {what}; a policy must state stages = [...] and their [stage.NAME] "
            "tables (see `signoff policy show` for the one in force)"
        )
