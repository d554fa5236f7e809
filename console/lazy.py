"""Package namespaces that import their modules on first use, so the console starts fast.

`console.monitoring` and `console.validation` re-export names from modules that load pandas and
scikit-learn; a screen reading monitoring views must not pay for them before its first frame.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` resolving each exported name from its module when first asked.

    `exports` maps a name to "module" (the same name there) or "module:attribute".
    """

    def __getattr__(name: str) -> object:
        source = exports.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = source.partition(":")
        return getattr(importlib.import_module(module), attribute or name)

    return __getattr__
