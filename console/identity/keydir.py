"""Where a person's key files live: $SIGNOFF_KEYS, else the user's config directory."""

from __future__ import annotations

import os
from pathlib import Path

KEYS_ENV = "SIGNOFF_KEYS"


def default_keys_dir() -> Path:
    configured = os.environ.get(KEYS_ENV)
    if configured:
        return Path(configured)
    from platformdirs import user_config_path

    return user_config_path("signoff") / "keys"
