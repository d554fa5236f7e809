"""Model card fields a person writes for a version, and what the card still lacks.

The card of a version is mostly derived from the store (registry, validation runs, stage
history). What only a person can say is kept as *card fields*, one row per field in
`card_fields`, each change signed as one `card.edited` event. The field names are dotted,
and a TOML file given to `signoff card edit --from FILE` uses the same names as tables:

| field | what it holds |
| --- | --- |
| `intended_use.primary_uses` | what the model is for and the decisions it supports |
| `intended_use.primary_users` | who uses its outputs |
| `intended_use.out_of_scope` | uses it must not be put to |
| `factors` | groups, instruments and settings that change its performance |
| `ethical_considerations.risks` | harms its use could cause to people |
| `ethical_considerations.mitigations` | what is done about those risks |
| `caveats_and_recommendations` | known limitations and advice to users |
| `license` | an SPDX identifier (`apache-2.0`) or `proprietary` |
| `contact` | where to send questions or report a problem (one line) |

`card_completeness` names what a reviewer still lacks before the `card.complete` gate
passes: every empty field above, then `validation` when the version has no validation run,
`fairness` when the latest run names a sensitive attribute but recorded no fairness
results for it, and `inherited-text-review` while fields inherited from vP await
confirmation and the version's validation differs from vP's (`card_evidence_change`).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit.keys import Signer
from console.auditing import catalogue as actions
from console.auditing.append import append_event_rows
from console.errors import BadInput
from console.freetext import check_text
from console.identity.actor import require_actor_rows
from console.identity.permissions import Permission
from console.registry.card_spec import EVIDENCE_CHANGED as EVIDENCE_CHANGED
from console.registry.card_spec import EVIDENCE_FAIRNESS as EVIDENCE_FAIRNESS
from console.registry.card_spec import EVIDENCE_VALIDATION as EVIDENCE_VALIDATION
from console.registry.card_spec import FIELD_NAMES as FIELD_NAMES
from console.registry.card_spec import FIELDS as FIELDS
from console.registry.card_spec import FieldSpec as FieldSpec
from console.registry.card_spec import read_card_completeness
from console.store.rows import SessionRows, WriteRows, session_rows

if TYPE_CHECKING:
    from sqlmodel import Session

    from console.store.db import Store

MAX_VALUE_CHARS = 20_000
MAX_FILE_BYTES = 1 << 20
_SPECS = {spec.name: spec for spec in FIELDS}

_LICENSE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,63}")


def field_spec(name: str) -> FieldSpec:
    spec = _SPECS.get(name)
    if spec is None:
        raise BadInput(f"unknown card field {name!r}; the fields are: {', '.join(FIELD_NAMES)}")
    return spec


def normalize_value(name: str, value: str) -> str:
    """The value as stored: line endings unified, outer white space removed, checked."""
    spec = field_spec(name)
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > MAX_VALUE_CHARS:
        raise BadInput(
            f"card field {name} is {len(text)} characters; the limit is {MAX_VALUE_CHARS}"
        )
    # Tab and newline are text in any field here; a one-line field then refuses the newline.
    check_text(f"card field {name}", text, multiline=True)
    if not spec.multiline and "\n" in text:
        raise BadInput(f"card field {name} takes one line")
    if name == "license" and text and not _LICENSE.fullmatch(text):
        raise BadInput(
            f"license {text!r} is not an identifier; use an SPDX id such as apache-2.0 or mit, "
            "or 'proprietary'"
        )
    return text


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CardFieldView:
    """A stored card field with who wrote it, when, and the event that recorded it."""

    field: str
    value: str
    updated_at: str
    updated_by: str
    event_seq: int

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def set_card_fields(
    store: Store, signer: Signer, model: str, version: int, fields: Mapping[str, str]
) -> list[str]:
    """Write the given fields (an empty value clears one) and one `card.edited` event.

    Returns the names of the fields that changed, in card order; when none did, nothing is
    written and no event is signed.
    """
    from console.auditing.log import forget_head
    from console.registry.views import get_version

    wanted = normalized_fields(fields)
    get_version(store, model, version)  # NotFound for an unknown model or version
    with store.session() as session:
        session.flush()
        try:
            rows = SessionRows(session.connection())
            return set_card_fields_in(rows, signer, model, version, wanted, store.clock)
        finally:
            forget_head(session)  # the event went in by plain SQL: the session's head is old


def normalized_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """The fields of an edit as stored (`normalize_value`); an edit of nothing is refused."""
    if not fields:
        raise BadInput("nothing to edit: name at least one card field")
    return {name: normalize_value(name, value) for name, value in fields.items()}


def set_card_fields_in(
    rows: WriteRows,
    signer: Signer,
    model: str,
    version: int,
    wanted: Mapping[str, str],
    clock: Callable[[], str],
) -> list[str]:
    """The rule of `set_card_fields` inside the caller's write transaction, on `normalized_fields`
    (the ORM's unit of work, or the CLI's driver-level DuckDB write: one copy)."""
    from console.registry.views import read_version

    read_version(rows, model, version)  # NotFound for an unknown model or version
    # The user and the fields this edit replaces are the log's (one read of the events).
    require_actor_rows(rows, signer, Permission.EDIT_CARD, model=model)
    key = {"model": model, "version": version}
    stored: dict[str, str] = {
        str(field): str(value)
        for field, value in rows.all(
            "SELECT field, value FROM card_fields WHERE model = :model AND version = :version",
            key,
        )
    }
    changed = [
        name for name in FIELD_NAMES if name in wanted and wanted[name] != stored.get(name, "")
    ]
    if not changed:
        return []
    now = clock()
    payload_fields: dict[str, object] = {}
    for name in changed:
        previous = stored.get(name)
        payload_fields[name] = {
            "value": wanted[name],
            "sha256": _sha256(wanted[name]),
            "previous_sha256": _sha256(previous) if previous is not None else None,
        }
    event = append_event_rows(
        rows,
        signer,
        actions.CARD_EDITED,
        f"{model}:{version}",
        {"model": model, "version": version, "fields": payload_fields},
        ts=now,
        model=model,
    )
    for name in changed:
        one = {**key, "field": name}
        if not wanted[name]:
            rows.execute(
                "DELETE FROM card_fields WHERE model = :model AND version = :version "
                "AND field = :field",
                one,
            )
            continue
        written = {
            **one,
            "value": wanted[name],
            "at": now,
            "by": signer.name,
            "seq": event.seq,
        }
        if name in stored:
            rows.execute(
                "UPDATE card_fields SET value = :value, updated_at = :at, updated_by = :by, "
                "event_seq = :seq WHERE model = :model AND version = :version AND field = :field",
                written,
            )
        else:
            rows.execute(
                "INSERT INTO card_fields (model, version, field, value, updated_at, updated_by, "
                "event_seq) VALUES (:model, :version, :field, :value, :at, :by, :seq)",
                written,
            )
    return changed


def card_field_views(store: Store, model: str, version: int) -> list[CardFieldView]:
    """The filled fields of a version's card, in card order."""
    from sqlmodel import col, select

    from console.registry.views import get_version
    from console.store.models import CardField

    get_version(store, model, version)
    with store.session() as session:
        rows = session.exec(
            select(CardField)
            .where(CardField.model == model, CardField.version == version)
            .order_by(col(CardField.field))
        ).all()
        views = {
            r.field: CardFieldView(r.field, r.value, r.updated_at, r.updated_by, r.event_seq)
            for r in rows
        }
    return [views[name] for name in FIELD_NAMES if name in views]


def card_fields(store: Store, model: str, version: int) -> dict[str, str]:
    """The filled fields of a version's card as {name: value}, in card order."""
    return {view.field: view.value for view in card_field_views(store, model, version)}


def card_completeness(store: Store, model: str, version: int) -> list[str]:
    """What the card still lacks: empty fields, then `validation` and `fairness` evidence."""
    from console.registry.views import get_version

    get_version(store, model, version)
    with store.session() as session:
        return card_completeness_in(session, model, version)


def card_completeness_in(session: Session, model: str, version: int) -> list[str]:
    """`card_completeness` inside a caller's transaction (a gate's), for an existing version."""
    return read_card_completeness(session_rows(session), model, version)


def describe_missing(name: str) -> str:
    """A sentence saying what to do about one item of `card_completeness`."""
    if name == EVIDENCE_VALIDATION:
        return "no validation run yet: run `signoff validate`"
    if name == EVIDENCE_FAIRNESS:
        return "the latest validation run names a sensitive attribute but has no fairness results"
    if name == EVIDENCE_CHANGED:
        return (
            "inherited fields await confirmation and the version's validation differs from the "
            "evidence they were written for: edit them, or confirm with --acknowledge-evidence"
        )
    spec = _SPECS[name]
    return f"{spec.title}: {spec.question[0].lower()}{spec.question[1:]}"


# ---- TOML card files --------------------------------------------------------------------------


def load_card_file(path: Path) -> dict[str, str]:
    """Read card fields from TOML; tables nest dotted names, anything else is an error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise BadInput(f"card file {path} does not exist") from exc
    except OSError as exc:
        raise BadInput(f"cannot read card file {path}: {exc.strerror}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"card file {path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"card file {path} is not UTF-8 text") from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"card file {path} is not valid TOML: {exc}") from exc
    fields: dict[str, str] = {}
    _flatten(document, "", fields, path, text)
    if not fields:
        raise BadInput(f"card file {path} sets no field; the fields are: {', '.join(FIELD_NAMES)}")
    return fields


def _flatten(
    table: Mapping[str, object], prefix: str, out: dict[str, str], path: Path, text: str
) -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in _SPECS:
            if not any(f.startswith(name + ".") for f in FIELD_NAMES):
                raise BadInput(_unknown(name, path, text))
            _flatten(value, name + ".", out, path, text)
            continue
        if name not in _SPECS:
            raise BadInput(_unknown(name, path, text))
        if not isinstance(value, str):
            where = _where(path, text, name)
            raise BadInput(
                f"card field {name} must be a string{where}, not {_toml_type(value)}; "
                'quote it, or use """…""" for several lines'
            )
        out[name] = value


def _unknown(name: str, path: Path, text: str) -> str:
    return (
        f"unknown card field {name!r}{_where(path, text, name)}; "
        f"the fields are: {', '.join(FIELD_NAMES)}"
    )


def _toml_type(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), "a date or time")


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_ASSIGN = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_KEY_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _key_parts(key: str) -> list[str]:
    return [part.strip("\"'") for part in _KEY_PART.findall(key)]


def _where(path: Path, text: str, name: str) -> str:
    line = key_line(text, name)
    return f" ({path}, line {line})" if line is not None else f" ({path})"


def key_line(text: str, name: str) -> int | None:
    """The 1-based line where a dotted key is set (or its table opened) in a TOML text."""
    wanted = name.split(".")
    table: list[str] = []
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header is not None:
            table = _key_parts(header.group(1))
            if table == wanted or (len(table) > len(wanted) and table[: len(wanted)] == wanted):
                return number
            continue
        assign = _ASSIGN.match(line)
        if assign is None:
            continue
        full = table + _key_parts(assign.group(1))
        # `a.b = …` sets the key itself; `a = { b = … }` sets it inside an inline table.
        if full[: len(wanted)] == wanted or wanted[: len(full)] == full:
            return number
        rest = line[assign.end() :]
        for quotes in ('"""', "'''"):
            if rest.count(quotes) % 2 == 1:
                in_string = quotes
                break
    return None
