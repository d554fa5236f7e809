"""Creating a store with its genesis event; a service, not store/, because it signs and writes policy."""

from __future__ import annotations

import shutil
import uuid

from audit.keys import Signer, public_pem, public_raw
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.errors import BadInput
from console.store.bootstrap import prepare_home
from console.store.db import ARTIFACTS_KEY, Store
from console.store.migrations import migrate, stored_version
from console.store.models import StoreInfo, User, UserKey


def init_store(store: Store, admin: Signer, *, demo: bool = False) -> str:
    """Create the store, its schema, its policy and the genesis event naming the first admin,
    in one transaction."""
    prepare_home(store)
    store_id = uuid.uuid4().hex
    from console.release.policy import default_policy_row

    try:
        with store.session() as session:
            connection = session.connection()
            if stored_version(connection) != 0:  # another init won the race for this database
                raise BadInput(f"a signoff store already exists in the {store.backend.location()}")
            migrate(connection, 0)
            now = store.clock()
            policy = default_policy_row(now)
            policy_digest = policy.sha256
            session.add(policy)
            if store.kind != "duckdb":
                session.add(StoreInfo(key=ARTIFACTS_KEY, value=str(store.artifacts_dir)))
            session.add(StoreInfo(key="store_id", value=store_id))
            session.add(StoreInfo(key="origin", value=f"signoff/{store_id}"))
            session.add(StoreInfo(key="created_at", value=now))
            session.add(StoreInfo(key="demo", value="true" if demo else "false"))
            session.add(StoreInfo(key="policy_sha256", value=policy_digest))
            event = append_event(
                session,
                admin,
                actions.STORE_CREATED,
                f"store:{store_id}",
                {
                    "store_id": store_id,
                    "origin": f"signoff/{store_id}",
                    "demo": demo,
                    "policy_sha256": policy_digest,
                    "admin": {
                        "name": admin.name,
                        "role": "admin",
                        "public_key": public_raw(admin.public_key).hex(),
                    },
                },
                ts=now,
            )
            session.add(User(name=admin.name, role="admin", added_seq=event.seq))
            session.add(
                UserKey(
                    keyid=admin.keyid,
                    user=admin.name,
                    public_key_pem=public_pem(admin.public_key),
                    valid_from_seq=event.seq,
                )
            )
    except BaseException:
        # A failed init leaves no half-made store behind (a database rolls back by itself).
        store.dispose()
        if store.kind == "duckdb":
            for leftover in (store.db_path, store.db_path.with_suffix(".duckdb.wal")):
                leftover.unlink(missing_ok=True)
        if store.artifacts_dir.is_dir() and not any(store.artifacts_dir.iterdir()):
            shutil.rmtree(store.artifacts_dir, ignore_errors=True)
        raise
    return store_id
