"""Model names and references (`MODEL`, `MODEL:VERSION`), checked the same way everywhere."""

from __future__ import annotations

import re

from console.errors import BadInput

MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def check_model_name(name: str) -> str:
    if not MODEL_NAME.fullmatch(name):
        raise BadInput(
            f"invalid model name {name!r}: use 1-64 of a-z, 0-9, '.', '_', '-', "
            "starting with a letter or digit"
        )
    return name


def parse_ref(ref: str, *, version_required: bool = False) -> tuple[str, int | None]:
    """`MODEL` or `MODEL:VERSION` (VERSION a positive integer)."""
    name, sep, version = ref.partition(":")
    check_model_name(name)
    if not sep:
        if version_required:
            raise BadInput(f"{ref!r} names no version; write MODEL:VERSION, e.g. {name}:1")
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise BadInput(f"invalid version {version!r} in {ref!r}; versions are 1, 2, 3, …")
    return name, int(version)
