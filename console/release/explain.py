"""Which rules of the policy a promotion meets and why: the tier rule or the stage, or a default."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlmodel import Session

from console.errors import NotFound
from console.registry.lookup import require_model
from console.registry.refs import check_model_name
from console.release.evidence import latest_validation_in
from console.release.gates import independent_validation_in
from console.release.policy import Policy, StagePolicy, load_policy
from console.release.tiers import model_tier
from console.store.db import Store
from console.store.models import ModelVersion


@dataclass(frozen=True)
class RuleLine:
    """One rule that applies: its policy key, its value in words, and the section it comes from."""

    key: str
    value: str
    source: str
    why: str = ""


@dataclass(frozen=True)
class PolicyExplanation:
    model: str
    version: int
    stage: str
    tier: str
    author: str
    policy_sha256: str
    tier_rule: str | None  # "[tier.high.stage.production]" when one applies
    rules: list[RuleLine] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The explanation as the CLI prints it and the review screen shows it."""
        out = [
            f"{self.model}:{self.version} to {self.stage}: risk tier {self.tier}, "
            f"author {self.author}, policy sha256 {self.policy_sha256[:16]}…",
            f"tier rule: {self.tier_rule} over [stage.{self.stage}]"
            if self.tier_rule
            else f"tier rule: none for tier {self.tier}; [stage.{self.stage}] applies",
        ]
        width = max(len(r.key) for r in self.rules)
        for rule in self.rules:
            why = f"  ({rule.why})" if rule.why else ""
            out.append(f"  {rule.key:<{width}}  {rule.value}  <- {rule.source}{why}")
        return out


def explain_rules(stage: StagePolicy, author: str) -> list[RuleLine]:
    """Each rule of a (tier-resolved) stage, with where its value comes from."""
    src = stage.source
    rules = [
        RuleLine(
            "approvals",
            stage.quorum_text,
            src("approvals"),
            "each approver counts for the role they hold when deciding"
            if stage.role_quorum
            else "distinct approvers of any of these roles",
        )
    ]
    if not stage.role_quorum:
        rules.append(
            RuleLine("approver_roles", ", ".join(stage.approver_roles), src("approver_roles"))
        )
    rules += [
        RuleLine(
            "separation_of_duties",
            "on" if stage.separation_of_duties else "off",
            src("separation_of_duties"),
            f"{author} (the author) and the requester may not decide"
            if stage.separation_of_duties
            else "",
        ),
        RuleLine(
            "independent_validation",
            "on" if stage.independent_validation else "off",
            src("independent_validation"),
            f"only validation runs by someone other than {author} count"
            if stage.independent_validation
            else "",
        ),
        RuleLine("gates", ", ".join(stage.gates) or "none", src("gates")),
        RuleLine("champion_tolerance", f"{stage.champion_tolerance:g}", src("champion_tolerance")),
        RuleLine("approval_ttl_hours", f"{stage.approval_ttl_hours:g}", src("approval_ttl_hours")),
        RuleLine(
            "canary_steps",
            ", ".join(f"{s}%" for s in stage.canary_steps) or "none (promotes at once)",
            src("canary_steps"),
        ),
        RuleLine("may_skip", "yes" if stage.may_skip else "no", src("may_skip")),
    ]
    return rules


def explain_in(
    session: Session, policy: Policy, model: str, version: int, stage_name: str
) -> PolicyExplanation:
    require_model(session, model)
    row = session.get(ModelVersion, (model, version))
    if row is None:
        raise NotFound(f"model {model!r} has no version {version}; see `signoff show {model}`")
    tier = model_tier(session, model) or ""
    stage = policy.stage_for(policy.stage(stage_name).name, tier)
    rules = explain_rules(stage, row.author)
    if stage.independent_validation:
        run, why = independent_validation_in(session, model, version)
    else:
        run, why = latest_validation_in(session, model, version), ""
    counted = f"run {run.id} by {run.actor} ({run.status})" if run else "none yet"
    rules.append(
        RuleLine("validation run counted", counted, stage.source("independent_validation"), why)
    )
    if "fairness.passed" in stage.gates:
        rules += [
            RuleLine(
                f"fairness bound of {bound.attribute}",
                ", ".join(f"{key} {value:g}" for key, value in bound.limits),
                bound.section,
                bound.reason,
            )
            for bound in policy.fairness_bounds
        ]
    tier_rule = f"[tier.{tier}.stage.{stage.name}]" if stage.tier else None
    return PolicyExplanation(
        model, version, stage.name, tier, row.author, policy.digest, tier_rule, rules
    )


def explain_promotion(store: Store, model: str, version: int, stage: str) -> PolicyExplanation:
    """`signoff policy explain MODEL:VERSION --to STAGE`: exactly the rules that apply, and why."""
    check_model_name(model)
    policy = load_policy(store)
    with store.session() as session:
        return explain_in(session, policy, model, version, stage)
