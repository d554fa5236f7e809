"""The Python API: register a fitted estimator from a training script, as the CLI would.

Example::

    from console import api

    store = api.open_store("./.signoff")
    me = api.unlock(store, "dana", passphrase=b"...")
    result = api.register_model(store, me, "credit-risk", pipeline, train_df, target="default")
    print(result.version)
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from audit.keys import Signer
from console.errors import BadInput
from console.identity.actor import key_dirs
from console.identity.actor import unlock as _unlock
from console.identity.keydir import default_keys_dir
from console.registry.native import native_artifact
from console.registry.register import ModelInfo, Registered, RegisterRequest, register_version
from console.store.db import Store
from console.store.db import open_store as _open_store

__all__ = ["Registered", "Signer", "Store", "open_store", "register_model", "unlock"]


def open_store(home: str | Path) -> Store:
    """Open an existing store (checking its schema)."""
    return _open_store(Path(home))


def unlock(
    store: Store, user: str, *, passphrase: bytes | str, keys_dir: str | Path | None = None
) -> Signer:
    """The signing identity of `user`, from the key in your key directory."""
    secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
    directory = Path(keys_dir) if keys_dir is not None else default_keys_dir()
    return _unlock(store, user, key_dirs(store, directory), lambda _name: secret)


def register_model(
    store: Store,
    signer: Signer,
    model: str,
    estimator: Any,
    train: Any,
    *,
    target: str,
    code_dir: str | Path | None = None,
    parent: int | None = None,
    tags: dict[str, str] | None = None,
    dataset_name: str = "train.parquet",
    info: ModelInfo | None = None,
    description: str = "",
    allow_duplicate: bool = False,
) -> Registered:
    """Register a fitted estimator and its training DataFrame as a new version of `model`.

    The estimator is saved with skops (an XGBoost, LightGBM or ONNX model in its own format,
    never pickle) and the frame as Parquet, then the same service the CLI
    uses checks, profiles and records them in one transaction with their audit events.
    The object is already in your process, so the types skops cannot vet in its dump
    (`sklearn.tree._tree.Tree`, …) are trusted as if passed with --trust-type, and recorded.
    `allow_duplicate` registers an artifact the model already holds as a new version.
    """
    import pandas as pd
    import skops.io as sio

    if not isinstance(train, pd.DataFrame):
        raise BadInput("train must be a pandas DataFrame holding the features and the target")
    if train.empty:
        raise BadInput("the training DataFrame has no rows")
    artifact = native_artifact(estimator)  # XGBoost, LightGBM, ONNX: their own formats
    trusted: tuple[str, ...] = ()
    if artifact is None:
        try:
            artifact = sio.dumps(estimator)
            trusted = tuple(sio.get_untrusted_types(data=artifact))
        except Exception as exc:
            raise BadInput(f"cannot save the estimator with skops: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="signoff-api-") as scratch:
        data_path = Path(scratch) / dataset_name
        train.to_parquet(data_path, index=False)
        return register_version(
            store,
            signer,
            RegisterRequest(
                model=model,
                artifact=artifact,
                artifact_source=f"{model} (in-process estimator)",
                train_data=data_path,
                target=target,
                code_dir=Path(code_dir) if code_dir is not None else None,
                parent=parent,
                tags=dict(tags or {}),
                info=info or ModelInfo(),
                description=description,
                train_data_name=dataset_name,
                trust_types=trusted,
                allow_duplicate=allow_duplicate,
            ),
        )
