"""Deterministic signed packages, so a deployment machine can check a model without the store."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import platform
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import select

from audit.canonical import canonical_json, sha256_hex
from audit.dsse import (
    PAYLOAD_TYPE_INTOTO,
    STATEMENT_TYPE,
    EnvelopeError,
    sign_envelope,
    sslib_keyid,
    statement,
    verify_envelope,
)
from audit.keys import Signer, load_public_pem
from console.auditing.log import append_event
from console.errors import BadInput, IntegrityError, NotFound
from console.identity.actor import require_actor
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.models import PackageRecord, User, UserKey

if TYPE_CHECKING:
    from console.registry.register import VersionView

__all__ = [
    "MANIFEST",
    "PACKAGE_ROLES",
    "PREDICATE_TYPE",
    "PackageResult",
    "PackageVerification",
    "build_package",
    "default_package_name",
    "verify_package",
]

PACKAGE_ROLES = ("release-manager", "author", "admin")
PREDICATE_TYPE = "https://signoff.dev/attestation/model-package/v1"
MANIFEST_FORMAT = "https://signoff.dev/package/manifest/v1"
MANIFEST = "MANIFEST.json"
ATTESTATION = "attestation.dsse.json"
ARTIFACT_NAMES = {"skops": "model.skops", "pickle": "model.pkl"}
ENVIRONMENT_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy", "skops")

# Bounds a hostile archive cannot talk us past: every member is read into memory.
MAX_MEMBER_BYTES = 2 << 30
MAX_TOTAL_BYTES = 4 << 30
MAX_MEMBERS = 64
MAX_TRAILING_BYTES = 1 << 20
CHUNK = 1 << 20


# ---- building --------------------------------------------------------------------------------


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

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["path"] = str(self.path)
        return data


def default_package_name(model: str, version: int) -> str:
    return f"{model}-v{version}.tar.gz"


def build_package(
    store: Store, signer: Signer, model: str, version: int, output: Path | None
) -> PackageResult:
    """Write MODEL:VERSION's signed package, verify it, then record it and its event."""
    from console.registry.register import get_version

    view = get_version(store, model, version)
    with store.session() as session:
        require_actor(session, signer, PACKAGE_ROLES)
    target = output if output is not None else Path(default_package_name(model, version))
    _check_output(target)

    files, predicate = _contents(store, signer, view)
    subjects = {name: sha256_hex(data) for name, data in files.items()}
    statement_bytes = canonical_json(statement(subjects, PREDICATE_TYPE, predicate))
    envelope = sign_envelope(statement_bytes, signer.private_key)
    files[ATTESTATION] = canonical_json(envelope)
    top = f"{model}-v{version}"
    data = _tar_gz(top, files, _mtime(view.created_at))
    digest = sha256_hex(data)

    members = {name: sha256_hex(content) for name, content in sorted(files.items())}
    temp = _write_temp(target, data)
    published = False
    try:
        check = verify_package(temp, store=store)
        if not check.ok:
            raise IntegrityError(
                f"the package just written does not verify ({check.problems[0]}); nothing recorded"
            )
        with store.session() as session:
            require_actor(session, signer, PACKAGE_ROLES)
            now = store.clock()
            event = append_event(
                session,
                signer,
                "package.built",
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
            _publish(temp, target)
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
    )


def _contents(
    store: Store, signer: Signer, view: VersionView
) -> tuple[dict[str, bytes], dict[str, object]]:
    """Every file of the package but the attestation, and the attestation's predicate."""
    from console.registry.register import get_dataset
    from console.release.evidence import latest_validation, model_approvals, stage_history
    from console.release.policy import load_policy

    model, version = view.model, view.number
    artifacts = ArtifactStore(store.artifacts_dir)
    artifact = artifacts.read_verified(view.artifact_sha256)
    artifact_name = ARTIFACT_NAMES.get(view.artifact_format, "model.skops")
    files: dict[str, bytes] = {artifact_name: artifact}
    files.update(_card_files(store, model, version))
    run = latest_validation(store, model, version)
    if run is not None:
        files["validation_report.json"] = artifacts.read_verified(run.report_sha256)
    files["environment.lock"] = environment_lock()
    files["input_schema.json"] = canonical_json(
        {"features": view.input_schema, "target": view.target, "task_type": view.task_type}
    )
    files[MANIFEST] = canonical_json(
        {
            "format": MANIFEST_FORMAT,
            "model": model,
            "version": version,
            "files": {
                name: {"sha256": sha256_hex(data), "size": len(data)}
                for name, data in sorted(files.items())
            },
        }
    )

    try:
        dataset = get_dataset(store, view.train_dataset_sha256)
        dataset_name: str | None = dataset.name
        dataset_rows: int | None = dataset.row_count
    except NotFound:
        dataset_name, dataset_rows = None, None
    predicate: dict[str, object] = {
        "model": model,
        "version": version,
        "artifact": {
            "name": artifact_name,
            "sha256": view.artifact_sha256,
            "format": view.artifact_format,
            "estimator_class": view.estimator_class,
            "task_type": view.task_type,
        },
        "registered": {"author": view.author, "at": view.created_at, "code_ref": view.code_ref},
        "training_dataset": {
            "sha256": view.train_dataset_sha256,
            "name": dataset_name,
            "rows": dataset_rows,
        },
        "validation": None
        if run is None
        else {
            "run_id": run.id,
            "report_sha256": run.report_sha256,
            "status": run.status,
            "passed": run.passed,
            "dataset_sha256": run.dataset_sha256,
            "finished_at": run.finished_at,
        },
        "approvals": [
            {
                "approver": a.approver,
                "role": a.role,
                "decision": a.decision,
                "request": a.request_id,
                "evidence_digest": a.evidence_digest,
                "decided_at": a.decided_at,
                "void": a.void,
            }
            for a in model_approvals(store, model, version)
        ],
        "stages": sorted(view.stages),
        "stage_history": [
            {
                "stage": d.stage,
                "kind": d.kind,
                "version": d.version,
                "replaced_version": d.replaced_version,
                "request": d.request_id,
                "actor": d.actor,
                "at": d.occurred_at,
                "break_glass": d.break_glass,
                "event_seq": d.event_seq,
            }
            for d in stage_history(store, model)
            if version in (d.version, d.replaced_version)
        ],
        "policy_sha256": load_policy(store).digest,
        "packager": {"name": signer.name, "keyid": signer.keyid},
    }
    return files, predicate


def _card_files(store: Store, model: str, version: int) -> dict[str, bytes]:
    """The model card in Markdown and JSON, when the card renderers are installed."""
    try:
        from reports.card_data import build_card
        from reports.card_json import render_json
        from reports.card_markdown import render_markdown
    except ImportError:
        return {}
    card = build_card(store, model, version)
    return {
        "model_card.md": render_markdown(card).encode("utf-8"),
        "model_card.json": render_json(card).encode("utf-8"),
    }


def environment_lock() -> bytes:
    """The Python and library versions this environment loads the artifact with."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    lines = [
        "# The environment signoff packaged this model in (pip requirements format).",
        f"# python {platform.python_version()} ({platform.python_implementation()})",
    ]
    for name in ENVIRONMENT_PACKAGES:
        try:
            lines.append(f"{name}=={installed(name)}")
        except PackageNotFoundError:
            lines.append(f"# {name}: not installed")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _mtime(created_at: str) -> int:
    """Members carry the version's registration time: fixed for the version, never the clock."""
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return max(0, int(moment.timestamp()))
    except (OverflowError, OSError):
        return 0


def _tar_gz(top: str, files: Mapping[str, bytes], mtime: int) -> bytes:
    """A gzip'd tar whose bytes depend only on the files: sorted, fixed owners, times and modes."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="", compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        folder = _tar_info(f"{top}/", 0, 0o755, mtime)
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name in sorted(files):
            data = files[name]
            tar.addfile(_tar_info(f"{top}/{name}", len(data), 0o644, mtime), io.BytesIO(data))
    return buffer.getvalue()


def _tar_info(name: str, size: int, mode: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _check_output(target: Path) -> None:
    if target.is_dir():
        raise BadInput(f"-o {target} is a directory; name a file such as model-v1.tar.gz")
    if not target.parent.is_dir():
        raise BadInput(f"cannot write {target}: the directory {target.parent} does not exist")


def _write_temp(target: Path, data: bytes) -> Path:
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror or exc}") from exc
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise BadInput(f"cannot write {target}: {exc.strerror or exc}") from exc
    return temp


def _publish(temp: Path, target: Path) -> None:
    try:
        os.replace(temp, target)
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ---- verifying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageVerification:
    """What checking a package found; `ok` only when `problems` is empty."""

    path: str
    sha256: str
    size: int
    model: str | None = None
    version: int | None = None
    packager: str | None = None
    keyid: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    recorded: bool | None = None  # with a store: whether the store recorded this package

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["ok"] = self.ok
        return data


def verify_package(
    path: Path,
    *,
    store: Store | None = None,
    public_keys: list[Ed25519PublicKey] | None = None,
) -> PackageVerification:
    """Check a package without extracting it: safe members, MANIFEST digests, attestation.

    The attestation must be signed by a key the store registered to the packager (valid now,
    or when the store recorded the package), or by one of `public_keys` when given.
    """
    if store is None and public_keys is None:
        raise BadInput("verifying a package needs a store or a public key: pass --pubkey FILE")
    try:
        size = path.stat().st_size
        digest = file_sha256(path)
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    problems: list[str] = []
    read = _read_members(path, problems)
    facts: dict[str, object] = {}
    recorded: bool | None = None
    files: dict[str, str] = {}
    if read is not None:
        top, members = read
        files = {name: sha256_hex(data) for name, data in sorted(members.items())}
        with_store = public_keys is None
        if public_keys is not None:
            trusted = _given_keys(public_keys)
        else:
            assert store is not None
            recorded, trusted = _store_keys(store, digest)
        _check_contents(top, members, trusted, with_store, problems, facts)
    return PackageVerification(
        path=str(path),
        sha256=digest,
        size=size,
        model=_str(facts.get("model")),
        version=_int(facts.get("version")),
        packager=_str(facts.get("packager")),
        keyid=_str(facts.get("keyid")),
        files=files,
        problems=problems,
        recorded=recorded,
    )


def _refusal(info: tarfile.TarInfo) -> str | None:
    """Why a member may not be in a package, judged from its header alone."""
    name = info.name
    if not name or "\x00" in name:
        return "it has no usable name"
    if (
        name.startswith(("/", "\\"))
        or PurePosixPath(name).is_absolute()
        or PureWindowsPath(name).is_absolute()
        or PureWindowsPath(name).drive
    ):
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "path escapes the package"
    if info.issym() or info.islnk():
        return f"links are not allowed (-> {info.linkname})"
    if info.ischr() or info.isblk() or info.isfifo():
        return "devices and fifos are not allowed"
    if not (info.isreg() or info.isdir()):
        return "only regular files and folders are allowed"
    if info.size < 0 or info.size > MAX_MEMBER_BYTES:
        return f"size {info.size} exceeds the limit of {MAX_MEMBER_BYTES} bytes"
    return None


_READ_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error)


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _open_tar(stream: gzip.GzipFile, path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=stream, mode="r:")
    except _READ_ERRORS as exc:
        raise BadInput(f"{path} is not a signoff package (a gzip'd tar): {_reason(exc)}") from exc


def _read_members(path: Path, problems: list[str]) -> tuple[str, dict[str, bytes]] | None:
    """The top folder and every file under it, read into memory once every header passed.

    Unsafe members are named in `problems` and nothing is read (returns None). A file that is
    not a gzip'd tar, or is truncated or corrupt, is BadInput.
    """
    corrupt = f"{path} is not a readable package (truncated or corrupt gzip'd tar)"
    with (
        path.open("rb") as handle,
        gzip.GzipFile(fileobj=handle, mode="rb") as stream,
        _open_tar(stream, path) as tar,
    ):
        try:
            headers = _scan_headers(tar, problems)
        except _READ_ERRORS as exc:
            if problems:  # what was refused before the damage is the finding
                return None
            raise BadInput(f"{corrupt}: {_reason(exc)}") from exc
        top = _layout(headers, problems) if headers else None
        if top is None or problems:
            if not headers and not problems:
                raise BadInput(f"{path} is an empty archive, not a signoff package")
            return None
        members: dict[str, bytes] = {}
        try:
            for info in headers:
                if info.isreg():
                    data = _member_data(tar, info)
                    if data is None:
                        raise BadInput(f"{corrupt}: member {info.name} is cut short")
                    members[info.name.split("/", 1)[1]] = data
            trailing = _trailing_data(stream)
        except _READ_ERRORS as exc:
            raise BadInput(f"{corrupt}: {_reason(exc)}") from exc
    if trailing:
        problems.append("the archive has data after its end")
    return top, members


def _scan_headers(tar: tarfile.TarFile, problems: list[str]) -> list[tarfile.TarInfo]:
    """Every header, each judged before the reader moves past its data."""
    headers: list[tarfile.TarInfo] = []
    total = 0
    while (info := tar.next()) is not None:
        headers.append(info)
        why = _refusal(info)
        if why is None:
            total += info.size
            if total > MAX_TOTAL_BYTES:
                why = f"the package exceeds {MAX_TOTAL_BYTES} bytes in total"
            elif len(headers) > MAX_MEMBERS:
                why = f"a package holds at most {MAX_MEMBERS} members"
        if why is not None:
            problems.append(f"member {info.name} refused: {why}")
            if (
                info.size > MAX_MEMBER_BYTES
                or total > MAX_TOTAL_BYTES
                or len(headers) > MAX_MEMBERS
            ):
                break  # reading on would go past the bounds

    return headers


def _layout(headers: list[tarfile.TarInfo], problems: list[str]) -> str | None:
    """The one top folder; files sit directly in it, each name once."""
    tops = sorted({h.name.split("/", 1)[0] for h in headers})
    if len(tops) != 1:
        problems.append("a package holds one top folder, this one has " + ", ".join(tops))
        return None
    seen: set[str] = set()
    for info in headers:
        rest = info.name.split("/", 1)[1] if "/" in info.name else ""
        if info.isdir():
            if rest.strip("/"):
                problems.append(f"member {info.name}: unexpected folder")
        elif not rest or "/" in rest:
            problems.append(f"member {info.name}: files belong directly in {tops[0]}/")
        elif rest in seen:
            problems.append(f"member {info.name} appears twice")
        seen.add(rest)
    return tops[0]


def _member_data(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes | None:
    extracted = tar.extractfile(info)
    if extracted is None:
        return None
    data = extracted.read()
    return data if len(data) == info.size else None


def _trailing_data(stream: gzip.GzipFile) -> bool:
    """Read the gzip stream to its end (checking its CRC); True if non-zero data trails the tar."""
    seen = 0
    while chunk := stream.read(CHUNK):
        seen += len(chunk)
        if chunk.strip(b"\x00") or seen > MAX_TRAILING_BYTES:
            return True
    return False


@dataclass(frozen=True)
class _TrustedKey:
    key: Ed25519PublicKey
    user: str | None  # the store's user the key belongs to; None for a key file
    may_package: bool = True


def _given_keys(public_keys: list[Ed25519PublicKey]) -> dict[str, _TrustedKey]:
    return {sslib_keyid(key): _TrustedKey(key, None) for key in public_keys}


def _store_keys(store: Store, digest: str) -> tuple[bool, dict[str, _TrustedKey]]:
    """Whether the store recorded this package, and the keys it vouches for.

    A key counts while valid, or if the store recorded this very package while it was valid
    (so a rotation does not void earlier packages); its user must hold a packaging role now,
    unless the store recorded the package (then the service checked the role at the time).
    """
    with store.session() as session:
        record = session.get(PackageRecord, digest)
        rows = session.exec(select(UserKey)).all()
        roles = {user.name: user.role for user in session.exec(select(User)).all()}
    trusted: dict[str, _TrustedKey] = {}
    for row in rows:
        valid_now = row.revoked_at_seq is None
        valid_then = (
            record is not None
            and row.valid_from_seq < record.event_seq
            and (row.revoked_at_seq is None or record.event_seq < row.revoked_at_seq)
        )
        if valid_now or valid_then:
            key = load_public_pem(row.public_key_pem.encode("ascii"), f"key {row.keyid[:16]}…")
            may_package = record is not None or roles.get(row.user) in PACKAGE_ROLES
            trusted[row.keyid] = _TrustedKey(key, row.user, may_package)
    return record is not None, trusted


def _check_contents(
    top: str,
    members: Mapping[str, bytes],
    trusted: Mapping[str, _TrustedKey],
    with_store: bool,
    problems: list[str],
    facts: dict[str, object],
) -> None:
    if (
        _check_manifest(members, problems, facts)
        and top != f"{facts.get('model')}-v{facts.get('version')}"
    ):
        problems.append(
            f"top folder {top}/ does not match the manifest's "
            f"{facts.get('model')}-v{facts.get('version')}"
        )
    _check_attestation(members, trusted, with_store, problems, facts)


def _check_manifest(
    members: Mapping[str, bytes], problems: list[str], facts: dict[str, object]
) -> bool:
    raw = members.get(MANIFEST)
    if raw is None:
        problems.append(f"{MANIFEST} is missing")
        return False
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        problems.append(f"{MANIFEST} is not JSON")
        return False
    entries = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
        problems.append(f"{MANIFEST} has no list of files")
        return False
    facts["model"] = manifest.get("model")
    facts["version"] = manifest.get("version")
    for name in sorted(entries):
        entry = entries[name]
        data = members.get(name)
        if data is None:
            problems.append(f"{name}: listed in {MANIFEST} but missing")
            continue
        if entry.get("size") != len(data):
            problems.append(
                f"{name}: size mismatch ({MANIFEST} says {entry.get('size')}, file has {len(data)})"
            )
        if entry.get("sha256") != sha256_hex(data):
            problems.append(f"{name}: sha256 mismatch")
    for name in sorted(members):
        if name not in entries and name not in (MANIFEST, ATTESTATION):
            problems.append(f"{name}: not listed in {MANIFEST}")
    return True


def _check_attestation(
    members: Mapping[str, bytes],
    trusted: Mapping[str, _TrustedKey],
    with_store: bool,
    problems: list[str],
    facts: dict[str, object],
) -> None:
    raw = members.get(ATTESTATION)
    if raw is None:
        problems.append(f"{ATTESTATION} is missing")
        return
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        problems.append(f"{ATTESTATION} is not JSON")
        return
    if not isinstance(envelope, dict):
        problems.append(f"{ATTESTATION} is not a DSSE envelope")
        return
    if envelope.get("payloadType") != PAYLOAD_TYPE_INTOTO:
        problems.append(f"attestation payloadType is not {PAYLOAD_TYPE_INTOTO}")
        return
    try:
        payload, verified = verify_envelope(envelope, [t.key for t in trusted.values()])
    except EnvelopeError as exc:
        problems.append(_signature_problem(envelope, trusted, with_store, exc))
        return
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        problems.append("attestation payload is not JSON")
        return
    predicate = body.get("predicate") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or body.get("_type") != STATEMENT_TYPE
        or body.get("predicateType") != PREDICATE_TYPE
        or not isinstance(predicate, dict)
    ):
        problems.append(f"attestation is not an in-toto statement of type {PREDICATE_TYPE}")
        return
    packager = predicate.get("packager")
    name = packager.get("name") if isinstance(packager, dict) else None
    keyid = packager.get("keyid") if isinstance(packager, dict) else None
    facts["packager"], facts["keyid"] = name, keyid
    if keyid not in verified:
        problems.append("attestation names a packager key that did not sign it")
    elif trusted[str(keyid)].user is not None and trusted[str(keyid)].user != name:
        problems.append(
            f"attestation names packager {name!r} but is signed by "
            f"{trusted[str(keyid)].user!r}'s key"
        )
    elif not trusted[str(keyid)].may_package:
        problems.append(
            f"attestation is signed by {name!r}, whose role may not build packages "
            f"(needs {' or '.join(PACKAGE_ROLES)})"
        )
    for fact in ("model", "version"):
        if fact in facts and predicate.get(fact) != facts[fact]:
            problems.append(f"attestation {fact} differs from {MANIFEST}")
    artifact = predicate.get("artifact")
    if isinstance(artifact, dict):
        artifact_name = artifact.get("name")
        data = members.get(str(artifact_name))
        if data is None:
            problems.append(f"the attested artifact {artifact_name} is missing")
        elif artifact.get("sha256") != sha256_hex(data):
            problems.append(f"{artifact_name}: sha256 differs from the attested artifact digest")
    else:
        problems.append("attestation names no artifact")
    _check_subjects(body.get("subject"), members, problems)


def _check_subjects(subject: object, members: Mapping[str, bytes], problems: list[str]) -> None:
    attested: dict[str, object] = {}
    if isinstance(subject, list):
        for item in subject:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                digest = item.get("digest")
                attested[item["name"]] = digest.get("sha256") if isinstance(digest, dict) else None
    files = {name for name in members if name != ATTESTATION}
    for name in sorted(files | set(attested)):
        if name not in attested:
            problems.append(f"{name}: not covered by the attestation")
        elif name not in files:
            problems.append(f"{name}: attested but missing from the package")
        elif attested[name] != sha256_hex(members[name]):
            problems.append(f"{name}: sha256 differs from the attestation")


def _signature_problem(
    envelope: Mapping[str, object],
    trusted: Mapping[str, _TrustedKey],
    with_store: bool,
    exc: EnvelopeError,
) -> str:
    signatures = envelope.get("signatures")
    keyids = [
        str(s.get("keyid"))
        for s in (signatures if isinstance(signatures, list) else [])
        if isinstance(s, dict) and s.get("keyid")
    ]
    if "valid signature" not in str(exc):
        return f"attestation is malformed: {exc}"
    if any(k in trusted for k in keyids):
        return "attestation signature does not verify"
    shown = ", ".join(k[:16] + "…" for k in keyids) or "none"
    if with_store:
        return f"attestation is signed by a key this store does not hold as valid (keyid {shown})"
    return f"attestation is not signed by the given public key(s) (keyid {shown})"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def load_public_keys(paths: Iterable[Path]) -> list[Ed25519PublicKey]:
    """Public key files (PEM) for verifying packages on a machine without the store."""
    keys: list[Ed25519PublicKey] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInput(f"cannot read --pubkey {path}: {exc.strerror or exc}") from exc
        keys.append(load_public_pem(data, str(path)))
    return keys
