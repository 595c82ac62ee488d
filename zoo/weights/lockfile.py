"""The weights lock file (``zoo.lock``): names pinned to ``{repo, commit, file, sha256, size}``.

Format (JSON, keys sorted, written atomically)::

    {"version": 1,
     "weights": {"protonet-tiny.digits": {"repo": "org/protonet", "commit": "<40 hex>",
                                          "file": "model.safetensors", "sha256": "<64 hex>", "size": 12345,
                                          "license": "MIT"}}}

``zoo.load`` consults it first; an entry makes the load pinned and fully verified.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zoo import constants
from zoo.io import atomic_write_json
from zoo.errors import ConfigError
from zoo.specs import is_commit_sha, is_sha256
from zoo.weights.records import WeightRef

LOCK_VERSION = 1


def lock_file(path: str | Path | None = None) -> Path:
    """The lock file in use: ``path`` if given, else ``ZOO_LOCK`` or ``./zoo.lock``."""
    return Path(path) if path is not None else constants.lock_path()


def _entry(name: str, raw: Any, origin: Path) -> WeightRef:
    """Validate one lock entry and turn it into a pinned :class:`WeightRef`."""
    where = f"{origin}: entry {name!r}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {type(raw).__name__}")
    missing = [k for k in ("repo", "commit", "file", "sha256", "size") if k not in raw]
    if missing:
        raise ConfigError(f"{where} lacks {missing}; expected repo, commit, file, sha256, size")
    if not isinstance(raw["commit"], str) or not is_commit_sha(raw["commit"]):
        raise ConfigError(f"{where}: commit must be a full 40-hex id, got {raw['commit']!r}")
    if not isinstance(raw["sha256"], str) or not is_sha256(raw["sha256"]):
        raise ConfigError(f"{where}: sha256 must be 64 hex digits, got {raw['sha256']!r}")
    if not isinstance(raw["size"], int) or raw["size"] <= 0:
        raise ConfigError(f"{where}: size must be a positive byte count, got {raw['size']!r}")
    return WeightRef(
        repo=str(raw["repo"]),
        revision=raw["commit"],
        file=str(raw["file"]),
        sha256=raw["sha256"],
        size=raw["size"],
        license=str(raw.get("license", "")),
        endpoint=raw.get("endpoint"),
        source="lock",
        name=name,
        variant=raw.get("variant"),
    )


def read_lock(path: str | Path | None = None) -> dict[str, WeightRef]:
    """Entries of the lock file by name (empty when the file does not exist)."""
    target = lock_file(path)
    if not target.is_file():
        return {}
    try:
        document = json.loads(target.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{target}: not valid JSON ({exc})") from exc
    if not isinstance(document, Mapping) or document.get("version") != LOCK_VERSION:
        raise ConfigError(f"{target}: expected {{'version': {LOCK_VERSION}, 'weights': {{...}}}}")
    weights = document.get("weights", {})
    if not isinstance(weights, Mapping):
        raise ConfigError(f"{target}: 'weights' must be a mapping of name -> entry")
    return {str(name): _entry(str(name), raw, target) for name, raw in weights.items()}


def write_lock(
    entries: Mapping[str, WeightRef], path: str | Path | None = None, *, merge: bool = True
) -> Path:
    """Write ``entries`` (pinned refs with digests) into the lock file atomically; keep other names if ``merge``."""
    target = lock_file(path)
    current = read_lock(target) if merge else {}
    for name, ref in entries.items():
        if not ref.pinned or ref.sha256 is None or ref.size is None:
            raise ConfigError(
                f"cannot lock {name!r}: {ref.describe()} is not pinned to a commit with sha256 and size"
            )
        current[name] = ref
    document = {
        "version": LOCK_VERSION,
        "weights": {
            name: {**ref.to_lock(), **({"variant": ref.variant} if ref.variant else {})}
            for name, ref in sorted(current.items())
        },
    }
    atomic_write_json(target, document)
    return target
