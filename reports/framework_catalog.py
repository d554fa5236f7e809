"""Compliance frameworks as data: `reports/frameworks/*.toml`, checked strictly when loaded.

Each file names a framework and its items; each item lists the kinds of evidence (from
`EVIDENCE_KINDS`, the vocabulary `reports.checklist` knows how to find in the store) that
together satisfy it. Adding a framework is adding a file; an unknown key or evidence kind is
an error, so a typo cannot silently turn an item into a gap.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from console.errors import BadInput

# kind -> what it is, as the checklist prints it
EVIDENCE_KINDS: dict[str, str] = {
    "model.description": "model description in the registry",
    "owner": "accountable owner",
    "risk.tier": "risk tier",
    "registry.inventory": "model inventory entry",
    "version.registered": "registered version and artifact digest",
    "version.lineage": "lineage: training data, code, parent version",
    "artifact.integrity": "artifact digest and load safety",
    "dataset.profile": "training dataset, by digest, with its profile",
    "validation.performance": "performance checks against thresholds",
    "validation.fairness": "fairness checks across groups",
    "validation.robustness": "robustness check",
    "validation.drift": "holdout drift checks (PSI, KS) against the training data",
    "validation.data_quality": "data quality checks",
    "validation.champion": "comparison with the champion",
    "validation.reproducibility": "reproducibility check",
    "validation.report": "signed validation report",
    "policy.in_force": "promotion policy in force",
    "policy.thresholds": "validation thresholds of the policy",
    "gates.evaluated": "promotion gates evaluated",
    "requests.evidence_bound": "requests bound to an evidence digest",
    "approvals.signed": "signed approvals",
    "separation.duties": "separation of duties",
    "roles.assigned": "users, roles and keys registered by signed events",
    "stage.history": "stage history",
    "canary.rollout": "canary rollout",
    "rollback.procedure": "break-glass rollback procedure",
    "package.attested": "attested deployment package",
    "card.intended_use": "model card: intended use",
    "card.factors": "model card: relevant factors",
    "card.ethical_considerations": "model card: risks and mitigations",
    "card.caveats": "model card: caveats and recommendations",
    "card.contact": "model card: contact",
    "audit.verified": "audit log verified",
    "audit.checkpoint": "signed checkpoint of the log",
    "monitoring.plan": "monitoring plan: thresholds in force and prediction logs ingested",
    "monitoring.production": "production drift and performance now, with every open alert",
    "decommission.record": "decommissioning record",
    "conformity.declaration": "declaration of conformity",
    "standards.applied": "standards applied",
}

# Next to this module (package data), found by path: an editable install can make `reports`
# a namespace package, which importlib.resources cannot read from.
FOLDER = Path(__file__).parent / "frameworks"
_FRAMEWORK_KEYS = {"id", "title", "short", "source", "item"}
_ITEM_KEYS = {"id", "title", "description", "evidence"}


@dataclass(frozen=True)
class FrameworkItem:
    id: str
    title: str
    description: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    short: str
    source: str
    items: tuple[FrameworkItem, ...]


def framework_names() -> list[str]:
    """The frameworks shipped in `reports/frameworks/`, by id (= file name), sorted."""
    return sorted(path.stem for path in FOLDER.glob("*.toml"))


def list_frameworks() -> list[Framework]:
    """Every shipped framework, loaded and checked, by id: what a picker offers."""
    return [load_framework(name) for name in framework_names()]


def load_framework(name: str) -> Framework:
    """Read and check one framework file; BadInput names the known ones for an unknown name."""
    known = framework_names()
    if name not in known:
        raise BadInput(f"unknown framework {name!r}; use one of: {', '.join(known)}")
    text = (FOLDER / f"{name}.toml").read_text(encoding="utf-8")
    return parse_framework(text, f"{name}.toml")


def parse_framework(text: str, where: str) -> Framework:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"framework file {where} is not valid TOML: {exc}") from exc
    extra = set(data) - _FRAMEWORK_KEYS
    if extra:
        raise BadInput(f"framework file {where}: unknown key(s) {', '.join(sorted(extra))}")
    items: list[FrameworkItem] = []
    seen: set[str] = set()
    for raw in data.get("item", []):
        if not isinstance(raw, dict) or set(raw) != _ITEM_KEYS:
            raise BadInput(
                f"framework file {where}: each [[item]] has exactly {', '.join(sorted(_ITEM_KEYS))}"
            )
        kinds = raw["evidence"]
        if not isinstance(kinds, list) or not kinds:
            raise BadInput(f"framework file {where}: item {raw['id']} lists no evidence")
        unknown = [k for k in kinds if k not in EVIDENCE_KINDS]
        if unknown:
            raise BadInput(
                f"framework file {where}: item {raw['id']} names unknown evidence "
                f"{', '.join(map(str, unknown))}"
            )
        if raw["id"] in seen:
            raise BadInput(f"framework file {where}: item {raw['id']} appears twice")
        seen.add(str(raw["id"]))
        items.append(
            FrameworkItem(str(raw["id"]), str(raw["title"]), str(raw["description"]), tuple(kinds))
        )
    for key in ("id", "title", "short", "source"):
        if not isinstance(data.get(key), str):
            raise BadInput(f"framework file {where}: {key} must be a string")
    if not items:
        raise BadInput(f"framework file {where} has no [[item]]")
    if where.endswith(".toml") and data["id"] != where.removesuffix(".toml"):
        raise BadInput(f"framework file {where} names itself {data['id']!r}")
    return Framework(data["id"], data["title"], data["short"], data["source"], tuple(items))
