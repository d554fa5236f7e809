"""Console speed at scale on a PostgreSQL team store: the console benchmark's store and figures.

The same registry as bench_console.py (10,000 models, 100,000 versions, 1,000,000 audit events;
every model in dev, a third in staging, a tenth in production), made on a throwaway PostgreSQL
server (tests/postgres_server.py): the team is set up through the services, then the bulk rows
are generated inside the server with one INSERT ... SELECT per table (the console only reads
them; signatures are not checked), and the tables analysed. It prints first paint against a
bare Textual app (in process, and from a new `signoff --db URL` process; either way the console
paints before it connects) and each screen's shown and settled times, with the same goals as on
DuckDB.

Run it as a script (``python tests/benchmarks/bench_console_team.py``) or under pytest
(``pytest tests/benchmarks/bench_console_team.py -s``).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from console.store.db import Store  # noqa: E402
from tests.benchmarks.bench_console import EVENTS, MODELS, VERSIONS, report  # noqa: E402
from tests.conftest import make_team  # noqa: E402
from tests.postgres_server import running_server  # noqa: E402

NAME = "'model-' || to_char(i, 'FM00000')"  # printf('model-%05d', i)
BULK = [
    (
        "INSERT INTO models (name, owner, description, risk_tier, intended_use, created_at, "
        "created_by) "
        f"SELECT {NAME}, 'team-' || (i %% 40), 'generated', "
        "(ARRAY['low','medium','high'])[1 + i %% 3], '', '2026-01-01T00:00:00.000000Z', 'dana' "
        "FROM generate_series(0, %(models)s - 1) t(i)"
    ),
    (
        "INSERT INTO model_versions (model, number, artifact_sha256, artifact_format, "
        "trusted_pickle, trusted_types, framework, estimator_class, task_type, input_schema, "
        "params, metrics, train_dataset_sha256, target, parent_number, code_ref, author, "
        "created_at, tags, description) "
        "SELECT 'model-' || to_char(i %% %(models)s, 'FM00000'), 1 + i / %(models)s, "
        "encode(sha256(i::text::bytea), 'hex'), 'skops', false, '[]', 'scikit-learn', "
        "'sklearn.linear_model.LogisticRegression', 'classification', '[]', '{}', "
        "'{\"accuracy\":0.9}', encode(sha256('d'::bytea), 'hex'), 'y', NULL, NULL, 'dana', "
        "'2026-01-01T00:00:00.000000Z', '{}', '' FROM generate_series(0, %(versions)s - 1) t(i)"
    ),
    (
        "INSERT INTO stages (model, stage, version, updated_at) "
        f"SELECT {NAME}, s.stage, s.version, '2026-01-02T00:00:00.000000Z' "
        "FROM generate_series(0, %(models)s - 1) t(i), (VALUES ('dev', 3, 1), ('staging', 2, 3), "
        "('production', 1, 10)) s(stage, version, every) WHERE i %% s.every = 0"
    ),
    (
        "INSERT INTO deployments (id, model, stage, kind, version, replaced_version, "
        "request_id, actor, occurred_at, break_glass, reason, event_seq) "
        "SELECT row_number() OVER (ORDER BY model, stage), model, stage, 'promotion', version, "
        "NULL, NULL, 'rel', updated_at, false, '', 0 FROM stages"
    ),
    (
        "INSERT INTO audit_events (seq, ts, actor, keyid, action, subject, model, payload, "
        "entry, prev_hash, entry_hash, signature) "
        "SELECT s.start + i, '2026-01-01T00:00:00.000000Z', 'dana', 'k', 'version.registered', "
        "'model-' || to_char(i %% %(models)s, 'FM00000') || ':1', "
        "'model-' || to_char(i %% %(models)s, 'FM00000'), '{}'::bytea, '{}'::bytea, 'p', 'h', "
        "'sig'::bytea FROM (SELECT max(seq) + 1 AS start FROM audit_events) s, "
        "generate_series(0, %(events)s - 1) t(i)"
    ),
]


def build_big_team_store(root: Path, url: str) -> Store:
    import psycopg

    team = make_team(root / "home", root / "keys", url=url)
    team.store.dispose()
    sizes = {"models": MODELS, "versions": VERSIONS, "events": EVENTS}
    with psycopg.connect(url) as con:
        for statement in BULK:
            con.execute(statement, sizes)
        con.commit()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("VACUUM ANALYZE")
    store = Store(root / "home", url=url)
    store.artifacts_dir = root / "home" / "artifacts"
    return store


def test_console_at_scale_on_postgresql() -> None:
    import psycopg

    with tempfile.TemporaryDirectory() as scratch, running_server() as server:
        name = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = server.url(name)
        started = time.perf_counter()
        store = build_big_team_store(Path(scratch), url)
        print(
            f"\non PostgreSQL: generated {MODELS} models, {VERSIONS} versions, {EVENTS} events "
            f"in {time.perf_counter() - started:.1f} s"
        )
        report(store, {"SIGNOFF_DB": url})
        store.dispose()


if __name__ == "__main__":
    test_console_at_scale_on_postgresql()
