"""What the user asked for -> which weight file: ``zoo.lock`` first, then ``registry.yaml``, then the hub.

Targets:
  - a local folder (``./runs/sac``, ``local:/abs/dir``) holding ``config.json`` + ``model.safetensors``;
  - a hub reference ``org/repo[@revision]`` (``hf:`` prefix optional);
  - a catalogue name ``method[-variant][.tag][@revision]`` whose weights are in the lock file or in a weight
    record of ``registry.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from zoo.errors import UnknownModelError, WeightsError, WeightsNotFoundError
from zoo.names import ModelName
from zoo.weights import lockfile
from zoo.weights.records import CONFIG_FILE, WeightRef  # noqa: F401

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_HUB_PREFIXES = ("hf-hub:", "hf:", "hub:")
_LOCAL_PREFIXES = ("local:", "file:")


@dataclass(frozen=True)
class Target:
    """A parsed ``zoo.load`` argument."""

    kind: Literal["local", "hub", "name"]
    text: str
    path: Path | None = None
    repo: str | None = None
    revision: str | None = None
    name: ModelName | None = None


#: Characters git forbids in a ref name (and ``..``): such a revision cannot exist on any hub.
_BAD_REVISION = re.compile(r"\.\.|[\x00-\x20~^:?*\[\\\x7f]|^/|/$|@\{|\.lock$|^-")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".json")


def looks_like_path(text: str) -> bool:
    """Whether ``text`` is written as a file-system path rather than a hub id ``org/name`` or a catalogue name.

    A path: ``.``/``..``, starts with ``./``, ``../``, ``/`` or ``~``, ends with ``/``, holds a backslash or more
    than one ``/``, or names a weights file (``.safetensors``, ``.pt``...). ``runs/sac`` has the form of a hub id
    ``org/name``: it is a folder when one exists, else it is asked of the hub (and the error says there is no such
    folder either).
    """
    if text in (".", "..") or text.startswith(("./", "../", "/", "~", ".\\", "..\\")) or "\\" in text:
        return True
    base = text.partition("@")[0]
    return base.endswith("/") or base.count("/") > 1 or base.lower().endswith(_WEIGHT_SUFFIXES)


def check_revision(revision: str, target: str) -> None:
    """Refuse a revision no hub can hold (``4f0c...e2``: a placeholder) before anything is sent."""
    if _BAD_REVISION.search(revision):
        raise WeightsError(
            f"{target!r}: {revision!r} is not a valid revision (a branch, a tag or a full 40-hex commit id)",
            revision=revision,
        )


def parse_target(target: str | Path) -> Target:
    """Classify ``target`` as a local folder, a hub reference or a catalogue name.

    Raises:
        WeightsNotFoundError: ``target`` is written as a path (:func:`looks_like_path`) and no such folder or file
            exists; nothing is sent to a hub.
        WeightsError: neither a folder, a valid hub id with a valid revision, nor a catalogue name.
    """
    if isinstance(target, Path):
        return Target("local", str(target), path=_existing(target, str(target)))
    text = str(target)
    for prefix in _LOCAL_PREFIXES:
        if text.startswith(prefix):
            return Target("local", text, path=_existing(Path(text[len(prefix) :]).expanduser(), text))
    hub_forced = False
    for prefix in _HUB_PREFIXES:
        if text.startswith(prefix):
            text, hub_forced = text[len(prefix) :], True
            break
    if not hub_forced:
        if Path(text).expanduser().exists():
            return Target("local", text, path=Path(text).expanduser())
        if looks_like_path(text):
            return Target("local", text, path=_existing(Path(text).expanduser(), text))
    base, _, revision = text.partition("@")
    if "/" in base or hub_forced:
        if not _REPO_ID.match(base) or "@" in revision:
            raise WeightsError(
                f"{target!r} is neither a model folder (with {CONFIG_FILE}) nor a hub repo id "
                "'org/name[@revision]'"
            )
        if revision:
            check_revision(revision, str(target))
        return Target("hub", text, repo=base, revision=revision or None)
    from zoo import registry

    name = registry.resolve(text).name
    if name.revision:
        check_revision(name.revision, text)
    return Target("name", text, name=name)


def _existing(path: Path, text: str) -> Path:
    """``path`` if it exists, else a :class:`WeightsNotFoundError` saying there is no such folder."""
    if path.exists():
        return path
    full = path.absolute()
    parent = next((p for p in full.parents if p.is_dir()), None)
    missing = full.relative_to(parent).parts[0] if parent is not None else ""
    hint = f" (no {missing!r} in {parent})" if missing else ""
    raise WeightsNotFoundError(
        f"no such folder: {text}{hint}. A model folder is written by `zoo train --out` or zoo.save; a hub repo "
        "is 'org/name[@revision]'."
    )


def _canonical(name: ModelName) -> str:
    """``method-variant[.tag]`` (no revision): the key under which ``zoo lock`` records a name."""
    return str(ModelName(name.method, name.variant, name.tag))


def _from_registry_by_name(name: ModelName) -> WeightRef | None:
    from zoo import registry

    entry = registry.resolve(str(ModelName(name.method, name.variant, name.tag))).entry
    records = list(entry.weights) if entry else []
    matches = [w for w in records if w.variant == name.variant and (name.tag is None or w.tag == name.tag)]
    if not matches:
        if records:
            known = ", ".join(f"{name.method}-{w.variant}.{w.tag}" for w in records)
            raise WeightsError(f"no released weights for {_canonical(name)!r}; registry.yaml lists: {known}")
        return None
    w = matches[0]
    return WeightRef(
        repo=w.repo,
        revision=w.revision,
        file=w.file,
        sha256=w.sha256,
        size=w.size,
        license=w.license,
        endpoint=w.endpoint,
        source="registry",
        name=f"{name.method}-{w.variant}.{w.tag}",
        variant=w.variant,
    )


def _from_registry_by_repo(repo: str, revision: str | None) -> WeightRef | None:
    """A registry record for ``repo`` at ``revision`` (or the only record of that repo when unpinned)."""
    from zoo import catalogue

    hits = [(entry, w) for entry in catalogue.load().values() for w in entry.weights if w.repo == repo]
    chosen = [(e, w) for e, w in hits if revision is None or w.revision == revision]
    if len(chosen) != 1:
        return None
    entry, w = chosen[0]
    return WeightRef(
        repo=w.repo,
        revision=w.revision,
        file=w.file,
        sha256=w.sha256,
        size=w.size,
        license=w.license,
        endpoint=w.endpoint,
        source="registry",
        name=f"{entry.name}-{w.variant}.{w.tag}",
        variant=w.variant,
    )


def _locked(
    target: Target,
    keys: list[str],
    wanted: str | None,
    revision: str | None,
    lock: str | Path | None | Literal[False],
) -> WeightRef | None:
    """The lock entry that applies: an entry for exactly the text typed wins unless ``revision=`` overrides it;
    an entry for the canonical name or bare repo applies only when no other revision is asked for."""
    if lock is False:
        return None
    entries = lockfile.read_lock(lock)
    exact = entries.get(target.text)
    if exact is not None and (revision is None or revision == exact.revision):
        return exact
    for key in keys:
        entry = entries.get(key)
        if entry is not None and (wanted is None or wanted == entry.revision):
            return entry
    return None


def resolve(
    target: Target, *, revision: str | None = None, lock: str | Path | None | Literal[False] = None
) -> WeightRef:
    """Resolve a hub or name target to a :class:`WeightRef` (lock -> registry -> hub).

    ``lock=False`` ignores the lock file (``zoo lock`` re-resolving). An explicit revision (``@rev`` or
    ``revision=``) that differs from the locked or recorded commit wins: the record's digest is then dropped and
    the file is checked against the repo's own ``config.json`` and blob name.
    """
    if target.kind == "local":
        raise WeightsError("a local folder needs no resolution")
    wanted = revision or target.revision
    if target.kind == "hub":
        assert target.repo is not None
        locked = _locked(target, [target.repo], wanted, revision, lock)
        if locked is not None:
            return locked
        recorded = _from_registry_by_repo(target.repo, wanted)
        if recorded is not None:
            return recorded
        return WeightRef(repo=target.repo, revision=wanted or "main", source="hub")
    assert target.name is not None
    locked = _locked(target, [_canonical(target.name)], wanted, revision, lock)
    if locked is not None:
        return locked
    try:
        recorded = _from_registry_by_name(target.name)
    except UnknownModelError:
        recorded = None
    if recorded is None:
        raise WeightsError(
            f"no weights known for {_canonical(target.name)!r}: not in the lock file and no weight record in "
            "registry.yaml. Load a hub repo ('org/name@<commit>') or a local folder; for random weights "
            f"use zoo.build({str(ModelName(target.name.method, target.name.variant))!r})."
        )
    if wanted is not None and wanted != recorded.revision:
        return replace(recorded, revision=wanted, sha256=None, size=None, source="hub")
    return recorded
