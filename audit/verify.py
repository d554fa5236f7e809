"""Offline verifier for an audit export: `python -m audit.verify DIR [--checkpoint FILE]`.

Needs only the standard library and `cryptography`: no store, no DuckDB, no signoff install.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from audit.chain import Finding, VerifyResult, first_finding, verify_records
from audit.checkpoint import check_extension
from audit.export_format import CHECKPOINT_FILE, EVENTS_FILE, KEYS_FILE, keys_document, read_events


def verify_export(
    directory: Path, checkpoints: list[str], admin_keyid: str | None = None
) -> tuple[VerifyResult, list[Finding]]:
    total = sum(1 for _ in (directory / EVENTS_FILE).open(encoding="utf-8"))
    result = verify_records(read_events(directory), expected_total=total)
    findings = list(result.findings)
    if admin_keyid is not None:
        genesis = [k for k in result.history.keys.values() if k.valid_from == 0]
        if not genesis or genesis[0].keyid != admin_keyid:
            findings.append(Finding(0, "the genesis admin key is not the one recorded out of band"))
    keys_path = directory / KEYS_FILE
    if keys_path.is_file():
        listed = json.loads(keys_path.read_text(encoding="utf-8"))
        if listed != keys_document(result.history):
            findings.append(Finding(-1, "keys.json disagrees with the keys the log registered"))
    for note in checkpoints:
        finding = check_extension(result, note)
        if finding is not None:
            findings.append(finding)
    return result, findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m audit.verify",
        description="Verify a signoff audit export: hashes, chain, signatures, Merkle root, "
        "and append-only consistency with kept checkpoints.",
    )
    parser.add_argument("directory", type=Path, help="the folder `signoff audit export` wrote")
    parser.add_argument(
        "--checkpoint", type=Path, action="append", default=[], help="a checkpoint you kept"
    )
    parser.add_argument("--admin-keyid", help="the admin key fingerprint recorded at init")
    args = parser.parse_args(argv)
    directory: Path = args.directory
    if not (directory / EVENTS_FILE).is_file():
        print(f"error: {directory} has no {EVENTS_FILE}; is it a signoff audit export?")
        return 2
    notes = [p.read_text(encoding="utf-8") for p in args.checkpoint]
    bundled = directory / CHECKPOINT_FILE
    if bundled.is_file():
        notes.append(bundled.read_text(encoding="utf-8"))
    try:
        result, findings = verify_export(directory, notes, args.admin_keyid)
    except (ValueError, KeyError, OSError) as exc:
        print(f"error: the export is malformed: {exc}")
        return 2
    if findings:
        first = first_finding(findings)
        assert first is not None
        where = f"sequence {first.seq}" if first.seq >= 0 else "checkpoint"
        print(f"FAILED at {where}: {first.reason}")
        return 1
    print(f"OK: {result.size} events, root {result.root.hex()}, every signature verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
