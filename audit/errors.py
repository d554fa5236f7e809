"""Errors a person can fix, raised by the audit core; the console's errors extend these."""

from __future__ import annotations


class SignoffError(Exception):
    """Base of every error a command turns into one line and an exit code."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInput(SignoffError):
    """The user gave input we cannot use (exit 2)."""

    exit_code = 2


class Refused(SignoffError):
    """Policy or permissions refuse the action (exit 3)."""

    exit_code = 3
