"""The document control of reports (owner, classification, distribution), kept in the signed log.

Each setting is a `settings.changed` event and nothing else: no table holds it, so the log alone
says what it was at any size N, and a report made `--as-of N` prints what held then. Only the
roles that may replace the policy may change them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.auditing.trail import list_events
from console.errors import BadInput
from console.freetext import check_text
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.store.db import Store
from reports.snapshot import Event, Snapshot

# key -> what it says on a report
SETTINGS: dict[str, str] = {
    "report.owner": "the person or office that owns the reports and answers for them",
    "report.classification": "the document classification printed on every report",
    "report.distribution": "who may receive the reports",
}
NOT_SET = "not set"
LONGEST = 300


@dataclass(frozen=True)
class SettingValue:
    key: str
    value: str  # empty: never set (or cleared)
    set_by: str | None
    event_seq: int | None

    @property
    def shown(self) -> str:
        return self.value or NOT_SET


def settings_from(events: Sequence[Event]) -> dict[str, SettingValue]:
    """Every setting as the given events (the log's first N) leave it."""
    found = {key: SettingValue(key, "", None, None) for key in SETTINGS}
    for event in events:
        if event.action != actions.SETTINGS_CHANGED:
            continue
        key = str(event.payload.get("key", ""))
        if key in found:
            found[key] = SettingValue(
                key, str(event.payload.get("value", "")), event.actor, event.seq
            )
    return found


def current_settings(store: Store) -> dict[str, SettingValue]:
    """The settings as the whole log leaves them."""
    rows = list_events(
        store, actions=[actions.SETTINGS_CHANGED], limit=1_000_000, newest_first=False
    )
    return settings_from(
        [Event(r.seq, r.ts, r.actor, "", r.action, r.subject, r.model, r.payload) for r in rows]
    )


def set_setting(store: Store, signer: Signer, key: str, value: str) -> SettingValue:
    """Record a new value (empty clears it) in a signed `settings.changed` event."""
    if key not in SETTINGS:
        raise BadInput(f"unknown setting {key!r}; the settings are {', '.join(SETTINGS)}")
    value = check_text(f"the value of {key}", value.strip())
    if len(value) > LONGEST:
        raise BadInput(f"the value of {key} is longer than {LONGEST} characters")
    with store.session() as session:
        require_actor(session, signer, Permission.SET_POLICY)
        previous = current_settings(store)[key]  # read under the write lock: no lost update
        if previous.value == value:
            raise BadInput(f"{key} is already {value or NOT_SET!r}; nothing to change")
        event = append_event(
            session,
            signer,
            actions.SETTINGS_CHANGED,
            f"setting:{key}",
            {"key": key, "value": value, "previous": previous.value},
            ts=store.clock(),
        )
        return SettingValue(key, value, signer.name, event.seq)


def control_rows(snapshot: Snapshot, reader: str, role: str) -> list[tuple[str, str]]:
    """The document-control block of a report: the settings and the signer, as of log size N."""
    held = settings_from(snapshot.events)
    keys = [k for k in snapshot.keys if k.user == reader and k.revoked_at is None]
    key = f", key {keys[-1].keyid}" if keys else ""
    return [
        ("Document owner", _with_source(held["report.owner"])),
        ("Classification", _with_source(held["report.classification"])),
        ("Distribution", _with_source(held["report.distribution"])),
        (
            "Signer",
            f"{reader} ({role}){key}; a fresh report's sha256 is signed in the "
            f"report.generated event after event {snapshot.size - 1}",
        ),
    ]


def _with_source(setting: SettingValue) -> str:
    if setting.event_seq is None:
        return f"{NOT_SET} (signoff settings set {setting.key} TEXT)"
    return f"{setting.value or NOT_SET} (settings.changed #{setting.event_seq} by {setting.set_by})"


def classification_at(snapshot: Snapshot) -> str:
    """The classification for the page header, empty when none is set."""
    return settings_from(snapshot.events)["report.classification"].value
