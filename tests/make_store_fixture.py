"""Builds the committed store fixture that upgrade tests open: init, one user, one version.

Run it with the signoff of the schema version the fixture is named after, once, and commit
the result; never regenerate an existing fixture (it stands for stores made in the past):

    PYTHONPATH=. python tests/make_store_fixture.py tests/fixtures_data/store-v3
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

PASSPHRASE = "fixture passphrase, not a secret"
ADMIN, AUTHOR, MODEL = "ada", "dana", "credit-risk"


def _signoff(*args: str) -> str:
    from click.testing import CliRunner

    from console.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"signoff {' '.join(args)} failed: {result.output}")
    return result.output


def _training_files(directory: Path) -> tuple[Path, Path]:
    """A tiny deterministic classifier and its training CSV."""
    import numpy as np
    import pandas as pd
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {"income": rng.normal(50, 10, 80).round(2), "debt": rng.normal(20, 5, 80).round(2)}
    )
    frame["default"] = (frame["debt"] * 2 > frame["income"] * 0.8).astype(int)
    model = LogisticRegression().fit(frame[["income", "debt"]], frame["default"])
    train, artifact = directory / "train.csv", directory / "model.skops"
    frame.to_csv(train, index=False)
    sio.dump(model, artifact)
    return train, artifact


def build(target: Path) -> None:
    if target.exists():
        raise SystemExit(f"{target} exists; a fixture is never regenerated, name a new one")
    home, keys = target / "home", target / "keys"
    os.environ.update(SIGNOFF_KEYS=str(keys), SIGNOFF_PASSPHRASE=PASSPHRASE)
    for name in ("SIGNOFF_HOME", "SIGNOFF_USER"):
        os.environ.pop(name, None)
    target.mkdir(parents=True)
    (target / "passphrase.txt").write_text(PASSPHRASE + "\n", encoding="utf-8")
    _signoff("init", "--admin", ADMIN, "--home", str(home))
    _signoff("keys", "create", AUTHOR)
    _signoff(
        "users", "add", AUTHOR, "--role", "author", "--pubkey", str(keys / f"{AUTHOR}.pub"),
        "--as", ADMIN, "--home", str(home),
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        train, artifact = _training_files(Path(scratch))
        _signoff(
            "register", MODEL, "--artifact", str(artifact), "--train-data", str(train),
            "--target", "default", "--as", AUTHOR, "--home", str(home),
        )  # fmt: skip


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("tests/fixtures_data/store-v3"))
