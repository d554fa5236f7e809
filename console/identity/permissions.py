"""Who may do what: one table from each role to its fixed rights, read by every check and hint.

A leaf module (standard library only), so services, reports and faces all read the same table.
Two rights are not fixed here because the policy names their roles: deciding on a promotion
request (each stage's `approver_roles`) and break-glass rollback (`[rollback] break_glass_roles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Permission(StrEnum):
    """A fixed right a role may hold."""

    REGISTER = "register"
    REQUEST = "request"
    PROMOTE = "promote"
    PACKAGE = "package"
    VALIDATE = "validate"
    EDIT_CARD = "edit-card"
    REPORT = "report"
    CHECKPOINT = "checkpoint"
    INGEST = "ingest"
    EVALUATE = "evaluate"
    RESOLVE_ALERT = "resolve-alert"
    RETRAIN = "retrain"
    MANAGE_USERS = "manage-users"
    SET_POLICY = "set-policy"
    SET_TIER = "set-tier"


# What each right lets its holder do, in the words the README and the console use.
MEANING: Mapping[Permission, str] = {
    Permission.REGISTER: "register models, versions and their training data",
    Permission.REQUEST: "open a promotion request for a version",
    Permission.PROMOTE: "execute an approved request, step or abort a canary, retire a version",
    Permission.PACKAGE: "build a signed deployment package",
    Permission.VALIDATE: "run and record a validation suite",
    Permission.EDIT_CARD: "write the fields of a model card that people write",
    Permission.REPORT: "generate a signed PDF compliance report",
    Permission.CHECKPOINT: "sign a checkpoint of the audit log",
    Permission.INGEST: "store prediction logs and outcomes",
    Permission.EVALUATE: "record monitoring windows, open alerts and retraining jobs",
    Permission.RESOLVE_ALERT: "close a monitoring alert with a reason",
    Permission.RETRAIN: "retrain a model from an open retraining job or new data",
    Permission.MANAGE_USERS: "add and revoke users, change their roles, rotate another user's key",
    Permission.SET_POLICY: "replace the promotion policy",
    Permission.SET_TIER: "change a model's risk tier (and so which tier rules apply to it)",
}

# The table. Roles are listed in the order messages name them: admin, who holds every right,
# last.
ROLE_PERMISSIONS: Mapping[str, frozenset[Permission]] = {
    "release-manager": frozenset(
        {
            Permission.REQUEST,
            Permission.PROMOTE,
            Permission.PACKAGE,
            Permission.CHECKPOINT,
            Permission.INGEST,
            Permission.EVALUATE,
        }
    ),
    "author": frozenset(
        {
            Permission.REGISTER,
            Permission.REQUEST,
            Permission.PACKAGE,
            Permission.VALIDATE,
            Permission.EDIT_CARD,
            Permission.CHECKPOINT,
            Permission.INGEST,
            Permission.EVALUATE,
            Permission.RETRAIN,
        }
    ),
    "reviewer": frozenset(
        {Permission.VALIDATE, Permission.EDIT_CARD, Permission.REPORT, Permission.CHECKPOINT}
    ),
    "risk-officer": frozenset(
        {
            Permission.VALIDATE,
            Permission.EDIT_CARD,
            Permission.REPORT,
            Permission.CHECKPOINT,
            Permission.EVALUATE,
            Permission.RESOLVE_ALERT,
            Permission.SET_TIER,
        }
    ),
    "auditor": frozenset({Permission.REPORT, Permission.CHECKPOINT}),
    "admin": frozenset(Permission),
}

ROLES: tuple[str, ...] = tuple(ROLE_PERMISSIONS)


def may(role: str | None, permission: Permission) -> bool:
    """Whether a user of this role holds the permission (an unknown role holds none)."""
    return role is not None and permission in ROLE_PERMISSIONS.get(role, frozenset())


def roles_with(permission: Permission) -> tuple[str, ...]:
    """The roles holding the permission, in the table's order."""
    return tuple(role for role, rights in ROLE_PERMISSIONS.items() if permission in rights)
