"""Deterministic signed packages, so a deployment machine can check a model without the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from audit.canonical import canonical_json, sha256_hex
from audit.dsse import sign_envelope, statement
from audit.keys import Signer
from audit.release_keys import ReleaseSigner
from console.auditing import catalogue as actions
from console.auditing.log import append_event
from console.auditing.state_check import prove_model
from console.errors import IntegrityError, Refused
from console.files import check_output, publish, write_temp
from console.identity.actor import require_actor
from console.identity.permissions import Permission
from console.packaging.attestation import (
    ATTESTATION,
    PREDICATE_TYPE,
    package_contents,
)
from console.packaging.tarball import deterministic_tar_gz, member_mtime
from console.packaging.verify import verify_package
from console.store.db import Store
from console.store.models import PackageRecord

__all__ = ["PackageResult", "build_package", "default_package_name"]


@dataclass(frozen=True)
class PackageResult:
    """A package written, verified and recorded."""

    path: Path
    model: str
    version: int
    sha256: str
    size: int
    files: dict[str, str]  # member name (inside the top folder) -> sha256
    statement_sha256: str
    packager: str
    keyid: str
    event_seq: int
    release_keyid: str | None = None  # the OMS signature's key, when model.sig was written

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["path"] = str(self.path)
        return data


def default_package_name(model: str, version: int) -> str:
    return f"{model}-v{version}.tar.gz"


def build_package(
    store: Store,
    signer: Signer,
    model: str,
    version: int,
    output: Path | None,
    *,
    release: ReleaseSigner | None = None,
) -> PackageResult:
    """Write MODEL:VERSION's signed package, verify it, then record it and its event.

    With `release` (the packager's registered release key), the package also holds `model.sig`.
    """
    from console.registry.views import get_version

    view = get_version(store, model, version)
    with store.session() as session:
        require_actor(session, signer, Permission.PACKAGE)
        prove_model(session, model)  # stages, validation and decisions the attestation states
        if release is not None:
            _check_release_key(session, signer.name, release)
    target = output if output is not None else Path(default_package_name(model, version))
    check_output(target, example="model-v1.tar.gz")

    files, predicate = package_contents(store, signer, view, release)
    subjects = {name: sha256_hex(data) for name, data in files.items()}
    statement_bytes = canonical_json(statement(subjects, PREDICATE_TYPE, predicate))
    envelope = sign_envelope(statement_bytes, signer.private_key)
    files[ATTESTATION] = canonical_json(envelope)
    top = f"{model}-v{version}"
    data = deterministic_tar_gz(top, files, member_mtime(view.created_at))
    digest = sha256_hex(data)

    members = {name: sha256_hex(content) for name, content in sorted(files.items())}
    temp = write_temp(target, data, mode=0o644)
    published = False
    try:
        check = verify_package(temp, store=store)
        if not check.ok:
            raise IntegrityError(
                f"the package just written does not verify ({check.problems[0]}); nothing recorded"
            )
        with store.session() as session:
            require_actor(session, signer, Permission.PACKAGE)
            now = store.clock()
            event = append_event(
                session,
                signer,
                actions.PACKAGE_BUILT,
                f"{model}:{version}",
                {
                    "model": model,
                    "version": version,
                    "sha256": digest,
                    "size": len(data),
                    "file_name": target.name,
                    "members": members,
                    "statement_sha256": sha256_hex(statement_bytes),
                },
                ts=now,
                model=model,
            )
            record = session.get(PackageRecord, digest)
            if record is None:
                record = PackageRecord(
                    sha256=digest,
                    model=model,
                    version=version,
                    file_name=target.name,
                    size=len(data),
                    created_by=signer.name,
                    created_at=now,
                    verified=True,
                    event_seq=event.seq,
                )
            else:  # the same bytes built again: the record points at the newest build
                record.file_name = target.name
                record.created_by = signer.name
                record.created_at = now
                record.verified = True
                record.event_seq = event.seq
            session.add(record)
            session.flush()
            # Published last inside the unit of work; removed again if the commit fails.
            publish(temp, target)
            published = True
    except BaseException:
        temp.unlink(missing_ok=True)
        if published:
            target.unlink(missing_ok=True)
        raise
    return PackageResult(
        path=target,
        model=model,
        version=version,
        sha256=digest,
        size=len(data),
        files=members,
        statement_sha256=sha256_hex(statement_bytes),
        packager=signer.name,
        keyid=signer.keyid,
        event_seq=event.seq,
        release_keyid=release.keyid if release is not None else None,
    )


def _check_release_key(session: Session, name: str, release: ReleaseSigner) -> None:
    """Only the packager's current registered release key signs the OMS signature."""
    from console.auditing.state_check import prove_release_keys
    from console.identity.release_keys import current_release_key

    prove_release_keys(session, name)
    current = current_release_key(session, name)
    if current is None or current.keyid != release.keyid:
        raise Refused(
            f"release key {release.keyid[:16]}… is not {name}'s registered release key; "
            "an admin registers it with `signoff users register-release-key`"
        )
