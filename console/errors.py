"""Errors a user can cause, each carrying the exit code the CLI contract gives it."""

from __future__ import annotations


class SignoffError(Exception):
    """Base of every error the CLI turns into one line and an exit code."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInput(SignoffError):
    """The user gave input we cannot use (exit 2)."""

    exit_code = 2


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


class Refused(SignoffError):
    """Policy or permissions refuse the action (exit 3)."""

    exit_code = 3
