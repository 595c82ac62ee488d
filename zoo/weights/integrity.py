"""File integrity: byte size and full sha256 against a record, a stat-keyed memo, and quarantine.

A file is hashed in full the first time zoo sees it (a cold load, a fresh download, or any change to the file:
the memo is keyed by device, inode, size, mtime and ctime, so any write, ``touch`` or replacement invalidates
it). Later loads of the same unchanged file reuse the digest, which keeps a warm ``zoo.load`` as fast as a bare
``load_file``. ``verify="full"`` (and ``zoo cache verify``) always re-hashes.

Expected digests come from up to three places, all of which must agree with the file: the record (lock file or
registry), the ``config.json`` written next to the weights, and the hub cache's blob name (a blob named by a
64-hex sha256 or a 40-hex git blob id is content-addressed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from zoo import constants
from zoo.io import atomic_write_json
from zoo.errors import IntegrityError, WeightsError
from zoo.specs import is_commit_sha, is_sha256

_CHUNK = 8 * 1024 * 1024
log = logging.getLogger("zoo.weights")


@dataclass(frozen=True)
class Expected:
    """One expectation on a file: an algorithm (``sha256`` or ``git-sha1``), a hex digest, and where it came from."""

    algo: str
    digest: str
    origin: str


def _stat_key(path: Path) -> list[int]:
    st = os.stat(path)
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _memo_path(real: Path) -> Path:
    return constants.zoo_home() / "verified" / (hashlib.sha256(str(real).encode()).hexdigest()[:32] + ".json")


def _memo_read(real: Path, key: list[int]) -> dict[str, str]:
    try:
        data = json.loads(_memo_path(real).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if data.get("path") != str(real) or data.get("stat") != key:
        return {}
    return {k: v for k, v in data.get("digests", {}).items() if isinstance(v, str)}


def _memo_write(real: Path, key: list[int], digests: dict[str, str]) -> None:
    try:
        atomic_write_json(_memo_path(real), {"path": str(real), "stat": key, "digests": digests})
    except OSError:  # a read-only home only costs a re-hash next time
        pass


def is_verified(path: str | os.PathLike[str]) -> bool:
    """True when an unchanged ``path`` has a recorded digest (a later ``auto`` load will not re-hash it)."""
    real = Path(os.path.realpath(path))
    try:
        return bool(_memo_read(real, _stat_key(real)))
    except OSError:
        return False


def forget(path: str | os.PathLike[str]) -> None:
    """Drop the memo of ``path`` (after it was moved or deleted)."""
    real = Path(os.path.realpath(path))
    try:
        _memo_path(real).unlink()
    except OSError:
        pass


def hash_file(path: str | os.PathLike[str], algos: Iterable[str] = ("sha256",)) -> dict[str, str]:
    """Stream ``path`` once and return the requested digests (``sha256`` and/or ``git-sha1``, the git blob id)."""
    wanted = set(algos)
    size = os.path.getsize(path)
    hashers: dict[str, hashlib._Hash] = {}
    if "sha256" in wanted:
        hashers["sha256"] = hashlib.sha256()
    if "git-sha1" in wanted:
        git = hashlib.sha1()  # noqa: S324 - git's object id, not a security boundary on its own
        git.update(b"blob %d\x00" % size)
        hashers["git-sha1"] = git
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            for h in hashers.values():
                h.update(chunk)
    return {name: h.hexdigest() for name, h in hashers.items()}


def blob_expectation(path: str | os.PathLike[str]) -> Expected | None:
    """The digest implied by a hub-cache blob name (the symlink target of a snapshot file), if any."""
    real = Path(os.path.realpath(path))
    if real.parent.name != "blobs":
        return None
    name = real.name
    if is_sha256(name):
        return Expected("sha256", name, "hub cache blob name")
    if is_commit_sha(name):
        return Expected("git-sha1", name, "hub cache blob name")
    return None


def verify_file(
    path: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    size: int | None = None,
    extra: Iterable[Expected] = (),
    label: str | None = None,
    full: bool = False,
) -> str:
    """Check ``path`` against every expectation and return its sha256.

    Args:
        path: the file (a hub snapshot symlink is followed).
        sha256, size: the record's digest and byte size (``None``: not recorded).
        extra: further expectations (config.json digest, blob name).
        label: how to name the file in errors (default: the path).
        full: ignore the memo and hash the whole file.

    Raises:
        IntegrityError: naming the file, the expected and the actual value.
    """
    real = Path(os.path.realpath(path))
    shown = label or str(path)
    if not real.is_file():
        raise IntegrityError(shown, "an existing file", "nothing (missing or dangling link)", what="file")
    key = _stat_key(real)
    if size is not None and key[2] != size:
        raise IntegrityError(shown, str(size), str(key[2]), what="size in bytes")
    expectations = list(extra)
    if sha256 is not None:
        expectations.insert(0, Expected("sha256", sha256, "record"))
    algos = {"sha256"} | {e.algo for e in expectations}
    memo = _memo_read(real, key)
    digests = {} if full else dict(memo)
    if not algos <= set(digests):
        digests.update(hash_file(real, algos - set(digests)))
        merged = {**memo, **digests}
        if merged != memo and _stat_key(real) == key:  # new knowledge, file unchanged while hashing
            _memo_write(real, key, merged)
    for exp in expectations:
        actual = digests[exp.algo]
        if actual != exp.digest.lower():
            forget(real)
            raise IntegrityError(shown, exp.digest, actual, what=f"{exp.algo} ({exp.origin})")
    return digests["sha256"]


def quarantine(path: str | os.PathLike[str]) -> Path:
    """Move a corrupted cached file aside (never delete it silently) and return where it went.

    The blob behind a hub snapshot link is moved to ``$ZOO_HOME/quarantine/`` and the now dangling snapshot link
    is removed, so the next download fetches a fresh copy.
    """
    link = Path(path)
    real = Path(os.path.realpath(link))
    folder = constants.zoo_home() / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = folder / f"{stamp}-{os.getpid()}-{real.parent.parent.name}-{real.name}"
    forget(real)
    shutil.move(str(real), target)
    if link.is_symlink() or (link != real and link.exists()):
        link.unlink()
    return target


def fetch_verified(
    fetch: Callable[[], Path],
    *,
    describe: Callable[[Path], str],
    sha256: str | None,
    size: int | None,
    extra: Iterable[Expected] = (),
    full: bool = False,
    cached: Callable[[Path], bool],
    notes: list[str],
) -> tuple[Path, str]:
    """Fetch a file and verify it; a corrupted cached copy is quarantined and fetched (and fully verified) once more.

    Args:
        fetch: downloads (or finds in the cache) the file and returns its path.
        describe: names a fetched path in messages (``org/repo@commit:file``).
        sha256, size, extra, full: the expectations, as for :func:`verify_file` (a hub-cache blob name is added).
        cached: whether a path lies in the download cache (only a cached copy is quarantined and re-fetched; a
            bad file elsewhere is an error at once).
        notes: receives one line per quarantine and re-fetch (the loader reports them).

    Returns:
        The path and its sha256.

    Raises:
        IntegrityError: the file (or its re-fetched copy) does not match; the message says where the bad copy went.
    """
    path = fetch()
    label = describe(path)
    expectations = list(extra)

    def check(candidate: Path, full_hash: bool) -> str:
        blob = blob_expectation(candidate)
        return verify_file(candidate, sha256=sha256, size=size, extra=expectations + ([blob] if blob else []),
                           label=label, full=full_hash)

    try:
        return path, check(path, full)
    except IntegrityError as err:
        if not cached(path):
            raise
        moved = quarantine(path)
        note = f"{label} failed verification ({err}); the cached copy was quarantined to {moved}"
        log.warning(note)
        notes.append(note)
        try:
            path = fetch()
        except WeightsError as exc:
            err.args = (f"{err}. The cached copy was quarantined to {moved}; fetching it again failed: {exc}",)
            raise err from exc
        digest = check(path, True)
        notes.append(f"{label} fetched again and verified")
        return path, digest
