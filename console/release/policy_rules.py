"""The promotion policy in force, as the services read it: each stage's rules, per risk tier."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.errors import BadInput

DEFAULT_TIERS = ("low", "medium", "high")
DEFAULT_SOURCE = "default"


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
    # Per-role quorum (`approvals = { reviewer = 1, risk-officer = 1 }`); empty: `approvals` of
    # any of `approver_roles`.
    role_quorum: tuple[tuple[str, int], ...] = ()
    # SR 11-7: only validation runs by someone other than the version's author count.
    independent_validation: bool = False
    # The metric a canary is compared with its champion on (`monitor compare`, `canary step`).
    primary_metric: str = "roc_auc"
    # The risk tier whose rule this is, or None for the stage's own rules.
    tier: str | None = None
    # Where each key's value comes from: "[stage.S]", "[tier.T.stage.S]" or "default".
    sources: tuple[tuple[str, str], ...] = ()

    def source(self, key: str) -> str:
        return dict(self.sources).get(key, DEFAULT_SOURCE)

    @property
    def quorum_text(self) -> str:
        """The quorum in the words messages use: "1 reviewer and 1 risk-officer"."""
        if self.role_quorum:
            return " and ".join(f"{count} {role}" for role, count in self.role_quorum)
        return f"{self.approvals} of {' or '.join(self.approver_roles)}"


@dataclass(frozen=True)
class FairnessBound:
    """`[validation.fairness.ATTR]`: one sensitive attribute's own parity bounds, and why."""

    attribute: str
    # (policy key, bound) for the keys it sets; the others keep [validation]'s value.
    limits: tuple[tuple[str, float], ...]
    reason: str

    @property
    def section(self) -> str:
        return f"[validation.fairness.{self.attribute}]"

    def limit(self, key: str) -> float | None:
        return dict(self.limits).get(key)


@dataclass(frozen=True)
class Policy:
    stages: tuple[StagePolicy, ...]
    break_glass_roles: tuple[str, ...]
    validation: dict[str, float] = field(default_factory=dict)
    digest: str = ""
    text: str = ""
    monitoring: dict[str, object] = field(default_factory=dict)
    tiers: tuple[str, ...] = DEFAULT_TIERS
    # Each `[tier.T.stage.S]` merged over the stage's own rules.
    tier_stages: tuple[StagePolicy, ...] = ()
    # Per-attribute fairness bounds over [validation]'s, each with its reason.
    fairness_bounds: tuple[FairnessBound, ...] = ()

    def fairness_bound(self, attribute: str) -> FairnessBound | None:
        """The attribute's own bounds, or None when [validation]'s apply to it."""
        for bound in self.fairness_bounds:
            if bound.attribute == attribute:
                return bound
        return None

    def stage(self, name: str) -> StagePolicy:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise BadInput(
            f"unknown stage {name!r}; the policy's stages are {', '.join(self.stage_names)}"
        )

    def stage_for(self, name: str, tier: str | None) -> StagePolicy:
        """The rules of a stage for a model of this risk tier: its tier rule, else the stage's."""
        base = self.stage(name)
        for rule in self.tier_stages:
            if rule.name == base.name and rule.tier == tier:
                return rule
        return base

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    @property
    def last_stage(self) -> str:
        """The serving stage (production): the last one in promotion order."""
        return self.stages[-1].name
