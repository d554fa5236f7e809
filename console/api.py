"""The Python API: register fitted estimators from a training script, as the CLI would.

Example::

    from console import api

    store = api.open_store("./.signoff")
    me = api.unlock(store, "dana", passphrase=b"...")
    result = api.register_model(store, me, "credit-risk", pipeline, train_df, target="default")
    print(result.version)

    # Many versions: one connection, one signer, each registration its own transaction.
    with api.session("./.signoff", "dana", passphrase=b"...") as batch:
        for params in grid:
            batch.register_model("credit-risk", fit(params), train_df, target="default")
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.keys import Signer
from console.errors import BadInput
from console.identity.actor import key_dirs
from console.identity.actor import unlock as _unlock
from console.identity.keydir import default_keys_dir
from console.registry.native import native_artifact
from console.registry.register import (
    ModelInfo,
    Registered,
    RegisterRequest,
    register_version,
)
from console.registry.session_memory import ProfiledFrames, Proven
from console.store.db import Store
from console.store.db import open_store as _open_store

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "Batch",
    "ModelInfo",
    "Registered",
    "Signer",
    "Store",
    "open_store",
    "register_model",
    "session",
    "unlock",
]


def open_store(home: str | Path, *, url: str | None = None) -> Store:
    """Open an existing store (checking its schema): the DuckDB file in `home`, or the
    PostgreSQL database at `url` (a `postgresql://` URL; its blobs where the store records)."""
    return _open_store(Path(home), url=url)


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
    never pickle) and the frame as Parquet (in memory), then the same service the CLI
    uses checks, profiles and records them in one transaction with their audit events.
    The object is already in your process, so the types skops cannot vet in its dump
    (`sklearn.tree._tree.Tree`, …) are trusted as if passed with --trust-type, and recorded.
    `allow_duplicate` registers an artifact the model already holds as a new version.
    For many versions, `session` keeps the connection and the signer between them.
    """
    with session(store, signer) as batch:
        return batch.register_model(
            model,
            estimator,
            train,
            target=target,
            code_dir=code_dir,
            parent=parent,
            tags=tags,
            dataset_name=dataset_name,
            info=info,
            description=description,
            allow_duplicate=allow_duplicate,
        )


@contextmanager
def session(
    store: Store | str | Path,
    actor: Signer | str,
    *,
    passphrase: bytes | str | None = None,
    keys_dir: str | Path | None = None,
    home: str | Path = ".signoff",
) -> Iterator[Batch]:
    """Many registrations on one store connection, with one unlocked signer.

    `store` is an open `Store`, a store's home directory, or a `postgresql://` URL (then `home`
    is the client's directory, as `--home`); `actor` a `Signer` or a user name, unlocked with
    `passphrase` from `keys_dir`. Each `register_model` is still its own transaction with its
    signed events and every check. While the block runs, a DuckDB store's file is held by this
    process: other signoff commands wait for it (up to SIGNOFF_LOCK_TIMEOUT) until it ends.
    """
    opened = not isinstance(store, Store)
    if not isinstance(store, Store):
        text = str(store)
        if text.startswith(("postgresql://", "postgres://")):
            store = open_store(home, url=text)
        else:
            store = open_store(text)
    with ExitStack() as stack:
        if opened:
            stack.callback(store.dispose)  # ours: its engine goes with the session
        stack.enter_context(store.reading())  # one connection for every unit of work below
        if isinstance(actor, Signer):
            signer = actor
        else:
            if passphrase is None:
                raise BadInput(f"give the passphrase of {actor!r}'s key, or an unlocked Signer")
            signer = unlock(store, actor, passphrase=passphrase, keys_dir=keys_dir)
        batch = Batch(store, signer)
        stack.callback(batch.close)
        yield batch


class Batch:
    """An open registration session (from `session`): its store connection, signer and scratch
    space stay between registrations; nothing else is carried from one to the next."""

    def __init__(self, store: Store, signer: Signer) -> None:
        self.store = store
        self.signer = signer
        self._closed = False
        self._scratch = tempfile.TemporaryDirectory(prefix="signoff-api-")
        self._profiler: duckdb.DuckDBPyConnection | None = None
        self._proven = Proven()  # what the store held at the head its last registration left
        self._frames = ProfiledFrames()  # the training frames it read lately, by digest

    def _open_profiler(self) -> duckdb.DuckDBPyConnection:
        from console.analytics import connect

        if self._profiler is None:
            self._profiler = connect(Path(self._scratch.name) / "spill")
        return self._profiler

    def close(self) -> None:
        """End the session (the `with` block does it); registering afterwards is refused."""
        if self._closed:
            return
        self._closed = True
        if self._profiler is not None:
            self._profiler.close()
            self._profiler = None
        self._scratch.cleanup()

    def register_model(
        self,
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
        """As `console.api.register_model`, on this session's connection and signer."""
        import pandas as pd

        if self._closed:
            raise BadInput("this registration session is closed; open another with api.session")
        if not isinstance(train, pd.DataFrame):
            raise BadInput("train must be a pandas DataFrame holding the features and the target")
        if train.empty:
            raise BadInput("the training DataFrame has no rows")
        artifact, trusted = _saved(estimator)
        return register_version(
            self.store,
            self.signer,
            RegisterRequest(
                model=model,
                artifact=artifact,
                artifact_source=f"{model} (in-process estimator)",
                train_data=Path(dataset_name),
                target=target,
                code_dir=Path(code_dir) if code_dir is not None else None,
                parent=parent,
                tags=dict(tags or {}),
                info=info or ModelInfo(),
                description=description,
                train_data_name=dataset_name,
                trust_types=trusted,
                allow_duplicate=allow_duplicate,
                # The bytes `to_parquet` would write to a file (so the same dataset digest),
                # kept in memory: profiled and read back without a file.
                train_parquet=_parquet(train),
            ),
            profiler=self._open_profiler(),
            proven=self._proven,
            frames=self._frames,
        )


def _parquet(train: Any) -> bytes:
    """The frame as the Parquet file `train.to_parquet(path, index=False)` writes, in memory."""
    import io

    buffer = io.BytesIO()
    try:
        train.to_parquet(buffer, index=False)
    except Exception as exc:
        raise BadInput(f"cannot save the training DataFrame as Parquet: {exc}") from exc
    return buffer.getvalue()


def _saved(estimator: Any) -> tuple[bytes, tuple[str, ...]]:
    """The estimator's bytes (its own format, else skops) and the types skops cannot vet."""
    import skops.io as sio

    artifact = native_artifact(estimator)  # XGBoost, LightGBM, ONNX: their own formats
    if artifact is not None:
        return artifact, ()
    try:
        artifact = sio.dumps(estimator)
        return artifact, tuple(sio.get_untrusted_types(data=artifact))
    except Exception as exc:
        raise BadInput(f"cannot save the estimator with skops: {exc}") from exc
