"""Checks that the file looks like the training data: columns, types, nulls, ranges, categories."""

from __future__ import annotations

from collections.abc import Sequence

from console.validation.checks import FAIL, INFO, PASS, WARN, Check, at_most
from console.validation.data_details import (
    ColumnList,
    NullRateChange,
    NullRates,
    OutOfRange,
    RangeExcess,
    TypeChange,
    TypeChanges,
    UnseenCategories,
    UnseenValues,
)
from console.validation.reference import FileMeasures, ProfiledColumn


def data_checks(
    reference: dict[str, ProfiledColumn],
    measures: FileMeasures,
    *,
    features: list[str],
    target: str,
    sensitive: Sequence[str],
    thresholds: dict[str, float],
) -> list[Check]:
    """data.missing_columns, data.extra_columns, data.type_changes, data.null_rate,
    data.out_of_range and data.unseen_categories."""
    trained = [c for c in reference if c != target]
    present = set(measures.types)
    return [
        _missing(trained, present, features),
        _extra(list(measures.types), set(reference), target, sensitive),
        _types(measures, set(features)),
        _null_rate(measures, thresholds["max_null_rate_increase"]),
        _out_of_range(measures, thresholds["max_out_of_range_share"]),
        _unseen(measures, thresholds["max_unseen_category_share"]),
    ]


def _missing(trained: list[str], present: set[str], features: list[str]) -> Check:
    # A missing feature is refused before the checks run; only unused columns can be missing.
    missing = [c for c in trained if c not in present]
    detail = ColumnList(
        columns=missing,
        note="every training column is present"
        if not missing
        else f"absent (not model inputs): {', '.join(missing[:6])}",
    )
    status = WARN if missing else PASS
    return Check("data.missing_columns", "data", status, float(len(missing)), None, detail)


def _extra(columns: list[str], trained: set[str], target: str, sensitive: Sequence[str]) -> Check:
    extra = [c for c in columns if c not in trained and c != target]
    note = "no columns beyond the training data" if not extra else ", ".join(extra[:6])
    named = [c for c in sensitive if c in extra]
    if len(named) == 1:
        note += f" ({named[0]} is the sensitive column)"
    elif named:
        note += f" ({', '.join(named)} are the sensitive columns)"
    detail = ColumnList(columns=extra, note=note)
    return Check("data.extra_columns", "data", INFO, float(len(extra)), None, detail)


def _types(measures: FileMeasures, features: set[str]) -> Check:
    changed: list[TypeChange] = []
    retyped: list[TypeChange] = []
    for measure in measures.columns.values():
        entry = TypeChange(
            column=measure.name,
            training_dtype=measure.reference.dtype,
            dtype=measure.dtype,
            training_kind=measure.reference.kind,
            kind=measure.kind,
            feature=measure.name in features,
        )
        if measure.kind_changed:
            changed.append(entry)
        elif measure.dtype != measure.reference.dtype:
            retyped.append(entry)  # e.g. BIGINT -> DOUBLE: same kind, still comparable
    broken = [c for c in changed if c.feature]
    status = FAIL if broken else WARN if changed else PASS
    if changed:
        note = ", ".join(f"{c.column} {c.training_kind} -> {c.kind}" for c in changed[:4])
    else:
        note = "same kinds as in training" + (f" ({len(retyped)} wider types)" if retyped else "")
    detail = TypeChanges(changed=changed, dtype_changes=retyped, note=note)
    return Check("data.type_changes", "data", status, float(len(changed)), None, detail)


def _null_rate(measures: FileMeasures, limit: float) -> Check:
    rows = measures.rows
    per_column: dict[str, NullRateChange] = {}
    worst, worst_name = 0.0, ""
    for measure in measures.columns.values():
        rate = measure.nulls / rows if rows else 0.0
        increase = rate - measure.reference.null_rate
        if rate or measure.reference.null_rate:
            per_column[measure.name] = NullRateChange(measure.reference.null_rate, rate, increase)
        if increase > worst:
            worst, worst_name = increase, measure.name
    note = f"{worst_name} +{worst:.1%}" if worst_name else "no null rate rose"
    detail = NullRates(columns=per_column, note=note)
    return at_most("data.null_rate", "data", worst, limit, detail)


def _out_of_range(measures: FileMeasures, limit: float) -> Check:
    per_column: dict[str, RangeExcess] = {}
    worst, worst_name = 0.0, ""
    for measure in measures.columns.values():
        counts, ref = measure.numeric, measure.reference
        if counts is None or not ref.edges or not counts.finite:
            continue
        below, above = counts.below_edge[0], counts.above_max
        share = (below + above) / counts.finite
        if below or above:
            per_column[measure.name] = RangeExcess(below, above, share, ref.edges[0], ref.edges[-1])
        if share > worst:
            worst, worst_name = share, measure.name
    note = f"{worst_name} {worst:.1%} outside" if worst_name else "every value within range"
    detail = OutOfRange(columns=per_column, note=note)
    return at_most("data.out_of_range", "data", worst, limit, detail)


def _unseen(measures: FileMeasures, limit: float) -> Check:
    """Values outside the training categories; exact only where the profile lists them all."""
    per_column: dict[str, UnseenValues] = {}
    partial: list[str] = []
    worst, worst_name = 0.0, ""
    for measure in measures.columns.values():
        counts = measure.categories
        if counts is None:
            continue
        if measure.reference.other_count:
            # The profile kept only the top values; an "unseen" value may be a rare training one.
            partial.append(measure.name)
            continue
        non_null = measures.rows - measure.nulls
        share = counts.outside / non_null if non_null else 0.0
        if counts.outside:
            per_column[measure.name] = UnseenValues(
                counts.outside, share, counts.outside_distinct, counts.examples
            )
        if share > worst:
            worst, worst_name = share, measure.name
    note = f"{worst_name} {worst:.1%} unseen" if worst_name else "no unseen categories"
    detail = UnseenCategories(columns=per_column, not_checked=partial, note=note)
    check = at_most("data.unseen_categories", "data", worst, limit, detail)
    if check.status == PASS and worst > 0:
        # Within tolerance, but the model has never seen these values: a reviewer should know.
        return Check(check.name, check.category, WARN, check.value, check.threshold, check.detail)
    return check
