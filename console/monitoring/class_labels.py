"""Class labels as text, the same whether a file wrote them 1, 1.0 or '1', in SQL and in Python."""

from __future__ import annotations


def label_text(expression: str, dtype: str = "VARCHAR") -> str:
    """A class label as text, the same whether it was written 1, 1.0 or '1' (booleans: true)."""
    if dtype.upper() == "BOOLEAN":
        return f"CAST({expression} AS VARCHAR)"
    number = f"TRY_CAST({expression} AS DOUBLE)"
    return (
        f"CASE WHEN {number} IS NOT NULL AND isfinite({number}) AND {number} = round({number}) "
        f"AND abs({number}) < 1e15 THEN CAST(CAST({number} AS BIGINT) AS VARCHAR) "
        f"ELSE CAST({expression} AS VARCHAR) END"
    )


def label_of(value: object) -> str:
    """The Python twin of `label_text`, for labels the estimator or a report names."""
    if isinstance(value, bool):
        return str(value).lower()
    try:
        number = float(str(value))
    except ValueError:
        return str(value)
    if number == number and abs(number) < 1e15 and number == round(number):
        return str(int(number))
    return str(value)
