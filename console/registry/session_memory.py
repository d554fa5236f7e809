"""What a registration session remembers between its registrations, so it does not read back its own writes."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.release.policy_rules import Policy
    from console.store.db import Store

FRAMES_KEPT = 2  # a grid search registers many estimators on one or two frames


@dataclass
class ModelLine:
    """A model line as the session's last registration left it (every version, not only ours)."""

    last: int  # its largest version number, 0 before the first
    holders: dict[str, int]  # artifact digest -> the first version holding it
    card: dict[str, str] | None  # version `last`'s human-written card fields (None: not read)


@dataclass
class Proven:
    """What a registration session last proved and read, and the log head it left behind.

    While the store's file is held by the session (DuckDB) and the head a new transaction reads
    is still that one, nothing was written since: the actor's rows, proved against the log, the
    policy, checked against its digest, the model lines and datasets it read or wrote are what
    they were, so none is read again. Any other head (another unit of this process wrote) and
    all are forgotten and read (and the actor proved) again. Only a committed registration
    changes it.
    """

    head: tuple[int, str] | None = None
    policy: Policy | None = None
    lines: dict[str, ModelLine] = field(default_factory=dict)
    datasets: set[str] = field(default_factory=set)  # digests of datasets the store holds

    def holds(self, store: Store, head: tuple[int, str]) -> bool:
        """Whether what is remembered is still the store's state: nobody wrote since."""
        return self.policy is not None and store.kind == "duckdb" and self.head == head

    def forget(self) -> None:
        self.head, self.policy = None, None
        self.lines.clear()
        self.datasets.clear()


@dataclass(frozen=True)
class ReadData:
    """Training data as registration reads it: its profile and the frame read back."""

    profile: dict[str, object]
    frame: Any


class ProfiledFrames:
    """The last few training datasets a session read, by the digest of their Parquet bytes.

    A profile and the frame read back are functions of those bytes alone, so a digest seen
    before gives them without reading the bytes again. Callers never change what they get.
    """

    def __init__(self, kept: int = FRAMES_KEPT) -> None:
        self._kept = kept
        self._data: OrderedDict[str, ReadData] = OrderedDict()

    def get(self, digest: str) -> ReadData | None:
        found = self._data.get(digest)
        if found is not None:
            self._data.move_to_end(digest)
        return found

    def put(self, digest: str, data: ReadData) -> None:
        self._data[digest] = data
        self._data.move_to_end(digest)
        while len(self._data) > self._kept:
            self._data.popitem(last=False)
