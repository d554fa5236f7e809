"""Where a report or card file goes by default; console.files checks the path and writes it whole."""

from __future__ import annotations


def default_file_name(model: str | None, version: int | None, framework: str | None) -> str:
    """`credit-risk-v2-sr-11-7.pdf`, or `registry-report.pdf` for every model."""
    if model is None:
        return "registry-report.pdf"
    return f"{model}-v{version}-{framework}.pdf"


__all__ = ["default_file_name"]
