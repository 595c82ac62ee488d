"""Weights shipped with zoo: small released model folders inside the package, pinned by ``registry.yaml``.

Each release is a folder ``zoo/weights/shipped/<method>-<variant>.<tag>/`` holding exactly what its hub repo
holds (``config.json``, ``model.safetensors``, ``README.md``), and a weight record in ``registry.yaml`` (repo
``zoo/<method>-<variant>.<tag>``, the 40-hex revision, sha256, size, licence, metrics, command). The revision is
the git commit id that ``zoo hub import`` gives the folder with the fixed release metadata below, so every hub
seeded with :func:`seed_hub` (``zoo hub import --all-shipped``) serves the recorded commit.

``zoo.load("sac-tiny.digits")`` then works anywhere: from the hub cache; from the configured hub (``HF_ENDPOINT``)
when it has the commit; else from the shipped copy. The shipped copy is verified exactly like a download (the
record's size and sha256, and the digest in ``config.json``). Releasing: ``tools/release_weights.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from zoo.errors import HubError
from zoo.specs import WeightSpec
from zoo.weights.records import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, WeightRef

#: Where the shipped model folders live (inside the package, so wheels and clones both have them).
SHIPPED_DIR = Path(__file__).with_name("shipped")
#: The hub namespace of released weights: ``zoo/<method>-<variant>.<tag>``.
NAMESPACE = "zoo"
#: The files a release folder holds (and its hub repo commits).
FILES: tuple[str, ...] = (CONFIG_FILE, WEIGHTS_FILE, CARD_FILE)
#: Fixed commit metadata: with these, importing a release folder into a new repo gives the recorded commit id.
RELEASE_AUTHOR = "zoo-release"
RELEASE_DATE = 1735689600  # 2025-01-01T00:00:00Z
#: Shipped weights must stay small: all of them together under this many bytes.
BUDGET_BYTES = 50 * 1000 * 1000


def release_name(method: str, variant: str, tag: str) -> str:
    """``method-variant.tag``: the folder name, the repo name and the catalogue name of a release."""
    return f"{method}-{variant}.{tag}"


def repo_id(name: str) -> str:
    """The hub repo of a release: ``zoo/<method>-<variant>.<tag>``."""
    return f"{NAMESPACE}/{name}"


def release_message(name: str) -> str:
    """The commit title of a release import."""
    return f"{name} weights"


def folder_of(repo: str) -> Path | None:
    """The shipped folder of a release repo (``zoo/sac-tiny.digits``), or ``None`` when none is shipped."""
    namespace, _, name = repo.partition("/")
    if namespace != NAMESPACE or not name or "/" in name or name.startswith("."):
        return None
    folder = SHIPPED_DIR / name
    return folder if (folder / CONFIG_FILE).is_file() else None


def shipped_file(ref: WeightRef, filename: str) -> Path | None:
    """The shipped copy of ``filename`` for a recorded, pinned ref (``None`` when there is none).

    Only a ref that pins a commit and records the weights' sha256 qualifies: the copy is then verified against
    the record like a download would be.
    """
    if not ref.pinned or not ref.sha256 or filename not in FILES:
        return None
    folder = folder_of(ref.repo)
    if folder is None:
        return None
    path = folder / filename
    return path if path.is_file() else None


def is_shipped(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies in the shipped folders."""
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(SHIPPED_DIR))
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class Shipped:
    """A release: its catalogue name, method, weight record and shipped folder."""

    name: str
    method: str
    record: WeightSpec
    folder: Path


def releases(names: Iterable[str] | None = None) -> list[Shipped]:
    """Every weight record of ``registry.yaml`` that has a shipped folder (optionally only ``names``)."""
    from zoo import catalogue

    wanted = set(names) if names is not None else None
    found: list[Shipped] = []
    for entry in catalogue.load().values():
        for record in entry.weights:
            folder = folder_of(record.repo)
            name = release_name(entry.name, record.variant, record.tag)
            if folder is None or (wanted is not None and name not in wanted):
                continue
            found.append(Shipped(name, entry.name, record, folder))
    if wanted is not None:
        missing = sorted(wanted - {s.name for s in found})
        if missing:
            from zoo.errors import WeightsNotFoundError

            raise WeightsNotFoundError(f"no shipped weights named {', '.join(missing)}; shipped: "
                                       + ", ".join(s.name for s in releases()))
    return sorted(found, key=lambda s: s.name)


def total_bytes() -> int:
    """Bytes of every file under :data:`SHIPPED_DIR`."""
    if not SHIPPED_DIR.is_dir():
        return 0
    return sum(p.stat().st_size for p in SHIPPED_DIR.rglob("*") if p.is_file())


@dataclass(frozen=True)
class Seeded:
    """What seeding one release into a hub did."""

    name: str
    repo: str
    commit: str
    action: str  # "imported" or "present"


def import_release(root: Path, folder: Path, repo: str, name: str) -> str:
    """Import a release folder into ``repo`` on the hub stored at ``root`` with the fixed release metadata.

    Returns the commit id. In a new repo this id depends only on the files (a git commit id).
    """
    from zoo.hub.server.importer import import_folder

    result = import_folder(Path(root), folder, repo, message=release_message(name), author=RELEASE_AUTHOR,
                           date=RELEASE_DATE)
    return result.commit.oid


def _has_commit(root: Path, repo: str, commit: str) -> bool | None:
    """``True``/``False``: the repo exists on the hub at ``root`` and has / lacks ``commit``; ``None``: no repo."""
    from zoo.hub.server.storage import Storage

    namespace, _, name = repo.partition("/")
    storage = Storage(Path(root))
    try:
        found = storage.get_repo("model", namespace, name)
        if found is None:
            return None
        return storage.get_commit(found, commit) is not None
    finally:
        storage.close()


def seed_hub(root: str | os.PathLike[str], names: Sequence[str] | None = None) -> list[Seeded]:
    """Seed the hub stored at ``root`` with every shipped release (``zoo hub import --all-shipped``).

    A repo that already holds the recorded commit is left alone; a new repo is created by importing the shipped
    folder, and the commit it gets must be the recorded revision.

    Raises:
        HubError: a repo exists without the recorded commit (its history differs: seed a new hub, or delete the
            repo), or an import gave another commit id than recorded (the shipped folder was changed).
    """
    done: list[Seeded] = []
    for item in releases(names):
        repo, wanted = item.record.repo, item.record.revision
        present = _has_commit(Path(root), repo, wanted)
        if present:
            done.append(Seeded(item.name, repo, wanted, "present"))
            continue
        if present is False:
            raise HubError(
                f"{repo} exists on the hub at {root} but lacks the released commit {wanted}: its history differs "
                "(commit ids include the parent). Seed a new hub root, or delete that repo first."
            )
        commit = import_release(Path(root), item.folder, repo, item.name)
        if commit != wanted:
            raise HubError(
                f"importing {item.folder} into {repo} gave commit {commit}, but registry.yaml records {wanted}: "
                "the shipped folder differs from the release (re-run tools/release_weights.py)"
            )
        done.append(Seeded(item.name, repo, commit, "imported"))
    return done
