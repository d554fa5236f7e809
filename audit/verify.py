"""Offline verifier for an audit export: `python -m audit.verify DIR [--checkpoint FILE]`.

Needs only the standard library and `cryptography`: no store, no DuckDB, no signoff install.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from audit.chain import Finding, VerifyResult, first_finding, verify_records
from audit.checkpoint import check_extension
from audit.entry import EventRecord
from audit.export_format import CHECKPOINT_FILE, EVENTS_FILE, KEYS_FILE, read_events
from audit.release_registry import (
    REPLAYED,
    check_package_signature,
    export_keys_document,
    registered_release_keys,
)


def verify_export(
    directory: Path,
    checkpoints: list[str],
    admin_keyid: str | None = None,
    packages: Sequence[Path] = (),
    verdicts: list[str] | None = None,
) -> tuple[VerifyResult, list[Finding]]:
    """The log, keys.json (users' and release keys), checkpoints, and packages' model.sig
    (a verified one's line appended to `verdicts`)."""
    total = sum(1 for _ in (directory / EVENTS_FILE).open(encoding="utf-8"))
    replayed: list[EventRecord] = []  # kept on the way: the release keys' replay reads them

    def events() -> Iterator[EventRecord]:
        for record in read_events(directory):
            if record.action in REPLAYED:
                replayed.append(record)
            yield record

    result = verify_records(events(), expected_total=total)
    findings = list(result.findings)
    release, release_findings = registered_release_keys(replayed)
    findings.extend(release_findings)
    if admin_keyid is not None:
        genesis = [k for k in result.history.keys.values() if k.valid_from == 0]
        if not genesis or genesis[0].keyid != admin_keyid:
            findings.append(Finding(0, "the genesis admin key is not the one recorded out of band"))
    keys_path = directory / KEYS_FILE
    if keys_path.is_file():
        listed = json.loads(keys_path.read_text(encoding="utf-8"))
        if listed != export_keys_document(result.history, release):
            findings.append(Finding(-1, "keys.json disagrees with the keys the log registered"))
    for note in checkpoints:
        finding = check_extension(result, note)
        if finding is not None:
            findings.append(finding)
    for package in packages:
        key, verdict = check_package_signature(package, release)
        if key is None:
            findings.append(Finding(-1, verdict))
        elif verdicts is not None:
            verdicts.append(verdict)
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
    parser.add_argument(
        "--package",
        type=Path,
        action="append",
        default=[],
        help="a package's model.sig, or the unpacked package: signed by a release key the log "
        "registered (and, for a folder, its model files unchanged)",
    )
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
        verdicts: list[str] = []
        result, findings = verify_export(directory, notes, args.admin_keyid, args.package, verdicts)
    except (ValueError, KeyError, OSError) as exc:
        print(f"error: the export is malformed: {exc}")
        return 2
    if findings:
        first = first_finding(findings)
        assert first is not None
        where = f"sequence {first.seq}" if first.seq >= 0 else "export"
        print(f"FAILED at {where}: {first.reason}")
        return 1
    print(f"OK: {result.size} events, root {result.root.hex()}, every signature verified")
    for verdict in verdicts:
        print(verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
