"""The auditor's path: export the log and verify it with nothing but stdlib and cryptography."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import audit.chain as chain
from audit.canonical import canonical_json
from audit.entry import GENESIS_PREV, EventRecord, build_entry, entry_hash, signing_message
from audit.keys import public_raw
from tests.conftest import BACKENDS, Runner, Team

ROOT = Path(__file__).resolve().parents[1]


def _export(team: Team, signoff: Runner, target: Path) -> Path:
    result = signoff("audit", "export", target, "--home", team.home)
    assert result.exit_code == 0, result.output
    return target


def _offline_verify(directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # Only the audit package is on the path: no console, no DuckDB needed.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        "def guard(name, *a, **k):\n"
        "    if name.split('.')[0] in ('duckdb','sqlmodel','sqlalchemy','pandas','console'):\n"
        "        raise ImportError('offline verifier imported ' + name)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = guard\n"
        "from audit.verify import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(directory), *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=directory.parent,
        check=False,
    )


@pytest.mark.parametrize("backend", BACKENDS)  # the rest work on the exported files
def test_export_verifies_offline(team: Team, signoff: Runner, tmp_path: Path) -> None:
    assert signoff("audit", "checkpoint", "--home", team.home, "--as", "aud").exit_code == 0
    directory = _export(team, signoff, tmp_path / "export")
    assert {p.name for p in directory.iterdir()} == {"events.jsonl", "keys.json", "checkpoint.txt"}
    keys = json.loads((directory / "keys.json").read_text())
    assert {k["name"] for k in keys} >= {"ada", "rita", "aud"}
    assert all(k["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----") for k in keys)
    done = _offline_verify(directory)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK:")


def test_tampered_export_fails_offline(team: Team, signoff: Runner, tmp_path: Path) -> None:
    directory = _export(team, signoff, tmp_path / "export")
    lines = (directory / "events.jsonl").read_text().splitlines()
    row = json.loads(lines[3])
    row["subject"] = "user:mallory"
    lines[3] = json.dumps(row)
    (directory / "events.jsonl").write_text("\n".join(lines) + "\n")
    done = _offline_verify(directory)
    assert done.returncode == 1
    assert "FAILED at sequence 3" in done.stdout


def test_offline_verify_checks_the_admin_fingerprint(
    team: Team, signoff: Runner, tmp_path: Path
) -> None:
    directory = _export(team, signoff, tmp_path / "export")
    good = _offline_verify(directory, "--admin-keyid", team["ada"].keyid)
    assert good.returncode == 0, good.stdout
    bad = _offline_verify(directory, "--admin-keyid", team["rita"].keyid)
    assert bad.returncode == 1 and "genesis" in bad.stdout


def test_export_refuses_a_used_directory(team: Team, signoff: Runner, tmp_path: Path) -> None:
    directory = _export(team, signoff, tmp_path / "export")
    result = signoff("audit", "export", directory, "--home", team.home)
    assert result.exit_code == 2


def _signed_log(count: int) -> list[EventRecord]:
    """A log built directly with the entry format, for large verification runs."""
    key = Ed25519PrivateKey.generate()
    raw = public_raw(key.public_key())
    records: list[EventRecord] = []
    prev = GENESIS_PREV
    for seq in range(count):
        if seq == 0:
            action, payload = (
                "store.created",
                {
                    "store_id": "s",
                    "origin": "signoff/s",
                    "admin": {"name": "ada", "role": "admin", "public_key": raw.hex()},
                },
            )
        else:
            action, payload = "note.added", {"n": seq}
        body = canonical_json(payload)
        from audit.dsse import sslib_keyid

        kid = sslib_keyid(key.public_key())
        entry = build_entry(
            seq=seq,
            ts="2026-01-01T00:00:00Z",
            actor="ada",
            keyid=kid,
            action=action,
            subject=f"s:{seq}",
            model=None,
            payload=body,
            prev_hash=prev,
        )
        digest = entry_hash(entry)
        records.append(
            EventRecord(
                seq,
                "2026-01-01T00:00:00Z",
                "ada",
                kid,
                action,
                f"s:{seq}",
                None,
                body,
                entry,
                prev,
                digest,
                key.sign(signing_message(entry)),
            )
        )
        prev = digest
    return records


def test_parallel_verification_finds_a_forged_signature() -> None:
    records = _signed_log(chain.PARALLEL_THRESHOLD + 500)
    bad = records[4321]
    records[4321] = EventRecord(**{**bad.__dict__, "signature": bytes(64)})
    result = chain.verify_records(records, workers=2, expected_total=len(records))
    assert result.first is not None and result.first.seq == 4321


def test_parallel_verification_of_a_stream_finds_a_forged_signature() -> None:
    # A stream is not a list a forked worker could share: its jobs travel pickled.
    records = _signed_log(chain.PARALLEL_THRESHOLD + 500)
    bad = records[4321]
    records[4321] = EventRecord(**{**bad.__dict__, "signature": bytes(64)})
    result = chain.verify_records(iter(records), workers=2, expected_total=len(records))
    assert result.first is not None and result.first.seq == 4321


def test_bulk_link_checks_name_the_first_broken_record_in_a_later_run() -> None:
    records = _signed_log(1600)
    bad = records[1500]
    records[1500] = EventRecord(**{**bad.__dict__, "prev_hash": "f" * 64})
    result = chain.verify_records(records)
    assert result.first == chain.Finding(
        1500, "the hash chain is broken: prev does not match the preceding entry"
    )
    assert result.size == 1500


def test_a_read_error_after_a_bad_record_reports_the_record() -> None:
    records = _signed_log(50)
    bad = records[10]
    records[10] = EventRecord(**{**bad.__dict__, "entry_hash": "0" * 64})

    def stream() -> Iterator[EventRecord]:
        yield from records[:20]
        raise ValueError("line 21 is not JSON")

    result = chain.verify_records(stream())
    assert result.first == chain.Finding(10, "the entry hash does not match the entry")

    def clean() -> Iterator[EventRecord]:
        yield from _signed_log(5)
        raise ValueError("line 6 is not JSON")

    with pytest.raises(ValueError, match="line 6"):
        chain.verify_records(clean())


_PARENT = os.getpid()
_real_verify = chain.verify_signatures


def flaky_verify(jobs: list[chain.SignatureJob]) -> list[int]:
    if os.getpid() != _PARENT:
        raise RuntimeError("worker crashed")
    return _real_verify(jobs)


def test_verifier_stays_correct_when_workers_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    records = _signed_log(chain.PARALLEL_THRESHOLD + 500)
    bad = records[17]
    records[17] = EventRecord(**{**bad.__dict__, "signature": bytes(64)})
    monkeypatch.setattr(chain, "verify_signatures", flaky_verify)
    result = chain.verify_records(records, workers=2, expected_total=len(records))
    assert result.first is not None and result.first.seq == 17
    assert [f.seq for f in result.findings] == [17]
