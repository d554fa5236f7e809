"""What a registration session remembers between its registrations, so it does not read back its own writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.release.policy_rules import Policy


@dataclass
class Proven:
    """What a registration session last proved and read, and the log head it left behind.

    While the store's file is held by the session (DuckDB) and the head a new transaction reads
    is still that one, nothing was written since: the actor's rows, proved against the log, and
    the policy, checked against its digest, are what they were, so they are not read again.
    Any other head (another unit of this process wrote) and they are.
    """

    head: tuple[int, str] | None = None
    policy: Policy | None = None
