"""Errors a user can cause, each carrying the exit code the CLI contract gives it."""

from __future__ import annotations

# The root of the hierarchy lives in the audit core, which must not import the console.
from audit.errors import BadInput, Refused, SignoffError

__all__ = [
    "BadInput",
    "CheckFailed",
    "IntegrityError",
    "NotFound",
    "Refused",
    "SignoffError",
    "StateForged",
    "StoreBusy",
    "StoreError",
]


class NotFound(BadInput):
    """A model, version, user or request that the store does not have (exit 2)."""


class StoreError(SignoffError):
    """The store cannot be opened or used: missing, newer schema, not writable (exit 2)."""

    exit_code = 2


class StoreBusy(StoreError):
    """Another process held the store's lock for longer than we wait (exit 2)."""


class CheckFailed(SignoffError):
    """A verification, validation or gate found a failure (exit 1)."""

    exit_code = 1


class IntegrityError(CheckFailed):
    """Stored content does not match its digest or signature (exit 1)."""


class StateForged(CheckFailed):
    """A stored row differs from what the signed log proves: refused before acting (exit 1)."""
