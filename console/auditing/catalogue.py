"""Every action the audit log may hold: its name, meaning, payload type and who may cause it.

`append_event` refuses an action missing here, or a payload whose keys differ from its type, so
the log holds only what this page describes. A leaf module: any layer may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from console.auditing import monitoring_payloads as mp
from console.auditing import payloads as p
from console.identity.permissions import Permission

STORE_CREATED: Final = "store.created"
USER_ADDED: Final = "user.added"
USER_REVOKED: Final = "user.revoked"
USER_ROLE_CHANGED: Final = "user.role_changed"
KEY_ROTATED: Final = "key.rotated"
RELEASE_KEY_REGISTERED: Final = "release_key.registered"
POLICY_CHANGED: Final = "policy.changed"
MODEL_CREATED: Final = "model.created"
MODEL_TIER_CHANGED: Final = "model.tier_changed"
DATASET_REGISTERED: Final = "dataset.registered"
VERSION_REGISTERED: Final = "version.registered"
CARD_EDITED: Final = "card.edited"
CARD_INHERITED: Final = "card.inherited"
CARD_CONFIRMED: Final = "card.confirmed"
VALIDATION_COMPLETED: Final = "validation.completed"
PACKAGE_BUILT: Final = "package.built"
PROMOTION_REQUESTED: Final = "promotion.requested"
PROMOTION_APPROVED: Final = "promotion.approved"
PROMOTION_REJECTED: Final = "promotion.rejected"
PROMOTION_WITHDRAWN: Final = "promotion.withdrawn"
PROMOTION_EXECUTED: Final = "promotion.executed"
CANARY_STARTED: Final = "canary.started"
CANARY_STEP: Final = "canary.step"
CANARY_COMPLETED: Final = "canary.completed"
CANARY_ABORTED: Final = "canary.aborted"
ROLLBACK_EXECUTED: Final = "rollback.executed"
STAGE_RETIRED: Final = "stage.retired"
VERSION_RETIRED: Final = "version.retired"
MODEL_RETIRED: Final = "model.retired"
AUDIT_CHECKPOINT: Final = "audit.checkpoint"
REPORT_GENERATED: Final = "report.generated"
SETTINGS_CHANGED: Final = "settings.changed"
MONITORING_INGESTED: Final = "monitoring.ingested"
MONITORING_LABELS_INGESTED: Final = "monitoring.labels_ingested"
MONITORING_DRIFT_EVALUATED: Final = "monitoring.drift_evaluated"
MONITORING_PERFORMANCE_EVALUATED: Final = "monitoring.performance_evaluated"
MONITORING_FAIRNESS_EVALUATED: Final = "monitoring.fairness_evaluated"
MONITORING_ALERT_OPENED: Final = "monitoring.alert_opened"
MONITORING_ALERT_RESOLVED: Final = "monitoring.alert_resolved"
MONITORING_ALERTS_RESOLVED: Final = "monitoring.alerts_resolved"
MONITORING_RETRAINING_REQUESTED: Final = "monitoring.retraining_requested"
MONITORING_RETRAINED: Final = "monitoring.retrained"

# The evaluation event of each monitoring kind.
EVALUATED: Mapping[str, str] = {
    "drift": MONITORING_DRIFT_EVALUATED,
    "performance": MONITORING_PERFORMANCE_EVALUATED,
    "fairness": MONITORING_FAIRNESS_EVALUATED,
}


@dataclass(frozen=True)
class Action:
    """One kind of audit event."""

    name: str
    meaning: str
    payload: Any  # the TypedDict of its payload (mypy has no type for "a TypedDict class")
    permission: Permission | None  # None: the rule below decides, not the permission table
    rule: str = ""  # who may cause it, when that is not simply the permission

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.payload.__required_keys__ | self.payload.__optional_keys__)


_ACTIONS = (
    Action(
        STORE_CREATED,
        "the store exists; registers its first admin and key (event 0)",
        p.StoreCreated,
        None,
        "the first admin, at `signoff init`",
    ),
    Action(
        USER_ADDED,
        "a user and their key, valid from the next event (a revoked name: a new generation)",
        p.UserAdded,
        Permission.MANAGE_USERS,
    ),
    Action(
        USER_REVOKED,
        "a user and every key of theirs stop signing",
        p.UserRevoked,
        Permission.MANAGE_USERS,
    ),
    Action(
        USER_ROLE_CHANGED,
        "a user's role changes, with the reason; their key and history stay",
        p.UserRoleChanged,
        Permission.MANAGE_USERS,
        "a holder of manage-users; never demoting the last active admin",
    ),
    Action(
        KEY_ROTATED,
        "a user's key is replaced: the old one ends, the new one is valid from the next event",
        p.KeyRotated,
        Permission.MANAGE_USERS,
        "the user, with their current key; or a holder of manage-users",
    ),
    Action(
        RELEASE_KEY_REGISTERED,
        "a user's ECDSA P-256 release key for OpenSSF Model Signing; replaces their previous one",
        p.ReleaseKeyRegistered,
        Permission.MANAGE_USERS,
    ),
    Action(
        POLICY_CHANGED,
        "the promotion policy is replaced (its full text)",
        p.PolicyChanged,
        Permission.SET_POLICY,
    ),
    Action(
        MODEL_CREATED,
        "a model, with owner, risk tier and intended use",
        p.ModelCreated,
        Permission.REGISTER,
    ),
    Action(
        MODEL_TIER_CHANGED,
        "a model's risk tier, and so the policy's tier rules that apply to it, with the reason",
        p.ModelTierChanged,
        Permission.SET_TIER,
    ),
    Action(
        DATASET_REGISTERED,
        "a training dataset, by sha256, with its profile's digest",
        p.DatasetRegistered,
        Permission.REGISTER,
    ),
    Action(
        VERSION_REGISTERED,
        "an immutable version: artifact, training data, params, metrics, lineage",
        p.VersionRegistered,
        Permission.REGISTER,
    ),
    Action(
        CARD_EDITED,
        "model card fields written by people, old and new digests",
        p.CardEdited,
        Permission.EDIT_CARD,
    ),
    Action(
        CARD_INHERITED,
        "a new version's card fields copied from its parent's (or the previous version's) card",
        p.CardInherited,
        Permission.REGISTER,
    ),
    Action(
        CARD_CONFIRMED,
        "inherited card fields a card editor confirmed as true of the new version",
        p.CardConfirmed,
        Permission.EDIT_CARD,
    ),
    Action(
        VALIDATION_COMPLETED,
        "a validation run and the digest of its report",
        p.ValidationCompleted,
        Permission.VALIDATE,
    ),
    Action(
        PACKAGE_BUILT,
        "a signed deployment package and its members' digests",
        p.PackageBuilt,
        Permission.PACKAGE,
    ),
    Action(
        PROMOTION_REQUESTED,
        "a request to move a version to a stage, bound to its evidence digest",
        p.PromotionRequested,
        Permission.REQUEST,
    ),
    Action(
        PROMOTION_APPROVED,
        "a signed approval of a request's evidence",
        p.PromotionDecided,
        None,
        "the stage's approver roles (policy); never the version's author or the requester",
    ),
    Action(
        PROMOTION_REJECTED,
        "a signed rejection of a request's evidence",
        p.PromotionDecided,
        None,
        "the stage's approver roles (policy); never the version's author or the requester",
    ),
    Action(
        PROMOTION_WITHDRAWN,
        "the requester takes a request back",
        p.PromotionWithdrawn,
        None,
        "the requester",
    ),
    Action(
        PROMOTION_EXECUTED,
        "a stage now serves the version (quorum reached, gates passed)",
        p.PromotionExecuted,
        Permission.PROMOTE,
    ),
    Action(
        CANARY_STARTED,
        "a canary of the version takes its first traffic share",
        p.PromotionExecuted,
        Permission.PROMOTE,
    ),
    Action(
        CANARY_STEP,
        "a canary moves to its next traffic share, with the comparison it was held to; past an "
        "inconclusive comparison only with an override reason, flagged `break_glass`",
        p.CanaryStepped,
        Permission.PROMOTE,
    ),
    Action(
        CANARY_COMPLETED,
        "a canary's last step: the stage now serves it (held to the comparison as a step is)",
        p.CanaryStepped,
        Permission.PROMOTE,
    ),
    Action(
        CANARY_ABORTED,
        "a canary is stopped; traffic returns to the champion",
        p.CanaryAborted,
        Permission.PROMOTE,
    ),
    Action(
        ROLLBACK_EXECUTED,
        "break-glass: a stage returns to a version that held it before, without approvals",
        p.RollbackExecuted,
        None,
        "the break-glass roles (policy `[rollback] break_glass_roles`)",
    ),
    Action(
        STAGE_RETIRED,
        "a stage stops serving a version being retired; it serves none until a new promotion",
        p.StageRetired,
        Permission.PROMOTE,
    ),
    Action(
        VERSION_RETIRED,
        "a version is decommissioned, with the reason: no new requests or promotions",
        p.VersionRetired,
        Permission.PROMOTE,
    ),
    Action(
        MODEL_RETIRED,
        "a model and all its versions are decommissioned, with the reason",
        p.ModelRetired,
        Permission.PROMOTE,
    ),
    Action(
        AUDIT_CHECKPOINT,
        "a signed checkpoint of the log's size and Merkle root",
        p.CheckpointSigned,
        Permission.CHECKPOINT,
    ),
    Action(
        REPORT_GENERATED,
        "a PDF compliance report and its sha256",
        p.ReportGenerated,
        Permission.REPORT,
    ),
    Action(
        SETTINGS_CHANGED,
        "a store setting (the reports' owner, classification or distribution) changed",
        p.SettingChanged,
        Permission.SET_POLICY,
    ),
    Action(
        MONITORING_INGESTED,
        "a prediction log stored as a Parquet artifact",
        mp.PredictionsIngested,
        Permission.INGEST,
    ),
    Action(
        MONITORING_LABELS_INGESTED,
        "outcomes attached to logged predictions by request id",
        mp.OutcomesIngested,
        Permission.INGEST,
    ),
    Action(
        MONITORING_DRIFT_EVALUATED,
        "drift windows recorded (new or changed statistics)",
        mp.WindowsEvaluated,
        Permission.EVALUATE,
    ),
    Action(
        MONITORING_PERFORMANCE_EVALUATED,
        "performance windows recorded (new or changed statistics)",
        mp.WindowsEvaluated,
        Permission.EVALUATE,
    ),
    Action(
        MONITORING_FAIRNESS_EVALUATED,
        "fairness windows recorded: gaps per sensitive attribute (new or changed statistics)",
        mp.WindowsEvaluated,
        Permission.EVALUATE,
    ),
    Action(
        MONITORING_ALERT_OPENED,
        "a window crossed a policy threshold",
        mp.AlertOpened,
        Permission.EVALUATE,
    ),
    Action(
        MONITORING_ALERT_RESOLVED,
        "an alert closed with a reason (logs before `monitoring.alerts_resolved`)",
        mp.AlertResolved,
        Permission.RESOLVE_ALERT,
    ),
    Action(
        MONITORING_ALERTS_RESOLVED,
        "alerts of one model (one or several, or an incident) closed together with one reason",
        mp.AlertsResolved,
        Permission.RESOLVE_ALERT,
    ),
    Action(
        MONITORING_RETRAINING_REQUESTED,
        "a retraining job opened by the policy's triggers",
        mp.RetrainingRequested,
        Permission.EVALUATE,
    ),
    Action(
        MONITORING_RETRAINED,
        "a retraining job closed with its candidate version",
        mp.Retrained,
        Permission.RETRAIN,
    ),
)

CATALOGUE: Mapping[str, Action] = {action.name: action for action in _ACTIONS}


def check_event(action: str, payload: Mapping[str, object]) -> None:
    """Refuse an action the catalogue does not name, or a payload not shaped like its type.

    A programming error, not a user's: raises ValueError.
    """
    entry = CATALOGUE.get(action)
    if entry is None:
        raise ValueError(f"{action!r} is not an action of the audit catalogue")
    keys = set(payload)
    missing = sorted(entry.payload.__required_keys__ - keys)
    unknown = sorted(keys - entry.keys)
    if missing or unknown:
        raise ValueError(
            f"{action} payload does not match {entry.payload.__name__}: "
            f"missing {missing}, unknown {unknown}"
        )
