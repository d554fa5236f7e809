"""Sensitive columns kept in a prediction log: not model inputs, stored so fairness is watched.

`monitor ingest --sensitive COL` (repeatable) names group columns (sex, age_band, …) to keep in
the normalised log as text beside the features; without it, the attributes the model's latest
validation compared are kept when the file has them. A named column the file lacks, one the log
reserves, or one with more groups than validation accepts is refused before anything is
stored. A sensitive column that is also a model feature is allowed: it is in the log already
(typed as the feature), and is recorded as sensitive so fairness reads it as groups.
Values are data and kept as they are; faces escape control characters when they show them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from console.analytics import Connection, count, ident, listing
from console.errors import BadInput
from console.freetext import shown
from console.monitoring.logs import RESERVED
from console.monitoring.uploads import RawFile
from console.registry.views import ModelView
from console.release.evidence import latest_validation_in


def validated_attributes(session: Session, model: ModelView) -> list[str]:
    """The sensitive columns of the newest version's latest validation that recorded any."""
    from console.validation.dataset import sensitive_columns

    for version in reversed(model.versions):
        run = latest_validation_in(session, model.name, version.number)
        if run is not None and run.sensitive:
            return sensitive_columns(run.sensitive)
    return []


def sensitive_plan(
    con: Connection,
    raw: RawFile,
    name: str,
    asked: Sequence[str] | None,
    validated: Sequence[str],
) -> list[str]:
    """The columns to keep as sensitive: those asked for (each must be in the file), else the
    validated attributes the file carries; each checked to have few enough groups."""
    from console.validation.dataset import MAX_GROUPS

    if asked is not None:
        if len(set(asked)) != len(asked):
            raise BadInput("--sensitive names the same column twice; name each attribute once")
        for column in asked:
            if column in RESERVED:
                raise BadInput(
                    f"--sensitive {shown(column)!r} is a column the prediction log reserves "
                    f"({', '.join(RESERVED)}); name a group column such as sex or age_band"
                )
            if column not in raw.types:
                raise BadInput(
                    f"{name} has no column {shown(column)!r} for --sensitive (columns: "
                    f"{shown(listing(list(raw.types), 8))}); add it to the log or drop the option"
                )
        kept = list(asked)
    else:
        kept = [c for c in validated if c in raw.types and c not in RESERVED]
    for column in kept:
        groups = count(
            con,
            f"SELECT count(DISTINCT CAST({ident(column)} AS VARCHAR)) FROM {raw.source}",
            f"counting the groups of {column}",
        )
        if groups > MAX_GROUPS:
            raise BadInput(
                f"{name}: sensitive column {shown(column)!r} has {groups} distinct values; band "
                f"it into at most {MAX_GROUPS} groups first (e.g. age into age_band)"
            )
    return kept


def sensitive_sql(columns: Sequence[str], features: Sequence[str]) -> list[str]:
    """The select items that store the sensitive columns as text (features are stored already)."""
    return [f"CAST({ident(c)} AS VARCHAR) AS {ident(c)}" for c in columns if c not in set(features)]
