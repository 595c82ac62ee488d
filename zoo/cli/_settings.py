"""``zoo doctor``'s check of every setting, through the same validators the commands use.

Each check calls the function a command would call (``zoo.kernels.registry.policy``, ``zoo.constants.num_threads``,
the lock-file reader, ...) and turns what it raises into one line, so that doctor and the commands cannot disagree:
``ZOO_KERNELS=bogus`` is reported here as it would fail training (exit 2), ``ZOO_KERNELS=triton`` on a machine
where Triton cannot run as it would fail a kernel call (exit 7).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from zoo import constants
from zoo.errors import ZooError


@dataclass(frozen=True)
class Setting:
    """One setting: its name, the value in effect, and the problem a command would hit ("" when none)."""

    name: str
    value: str
    problem: str = ""
    exit_code: int = 0
    warning: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view."""
        return asdict(self)


def _check(name: str, value: Callable[[], Any], validate: Callable[[], Any] | None = None) -> Setting:
    """Run ``validate`` (default: ``value``) as a command would; a raised error becomes the setting's problem."""
    try:
        shown = value()
        if validate is not None:
            validate()
    except ZooError as exc:
        return Setting(name, _raw(name), str(exc), exc.exit_code)
    except (ValueError, OSError) as exc:
        return Setting(name, _raw(name), f"{type(exc).__name__}: {exc}", 2)
    return Setting(name, "" if shown is None else str(shown))


def _raw(name: str) -> str:
    """The text of a setting for a report line (read through zoo.constants' accessors)."""
    readers: dict[str, Callable[[], Any]] = {
        "ZOO_KERNELS": constants.kernel_policy,
        "ZOO_NUM_THREADS": lambda: constants.setting_text("ZOO_NUM_THREADS"),
        "ZOO_VERIFY": lambda: constants.setting_text("ZOO_VERIFY"),
    }
    try:
        return str(readers.get(name, lambda: constants.setting_text(name))())
    except Exception:  # noqa: BLE001 - only for display
        return "?"


def _kernels() -> Setting:
    """``ZOO_KERNELS``: a known policy, and with ``triton``, Triton usable here for every op."""
    from zoo.kernels import registry

    try:
        mode = registry.policy()
    except ZooError as exc:
        return Setting("ZOO_KERNELS", constants.kernel_policy(), str(exc), exc.exit_code)
    if mode != "triton":
        return Setting("ZOO_KERNELS", mode)
    rows = registry.report_details()
    bad = {name: row["reason"] for name, row in rows.items() if row["implementation"] == "unavailable"}
    if bad:
        name, reason = next(iter(bad.items()))
        return Setting("ZOO_KERNELS", mode, f"{len(bad)} of {len(rows)} ops cannot run here ({name}: {reason}); "
                       "a method using them fails with exit 7. Use ZOO_KERNELS=auto", 7)
    return Setting("ZOO_KERNELS", mode)


def _writable(name: str, path: Path) -> Setting:
    """A folder zoo writes to: it exists and is writable, or can be created."""
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK):
        return Setting(name, str(path), f"{existing or path} is not a writable folder", 2)
    return Setting(name, str(path))


def _endpoint() -> Setting:
    """``HF_ENDPOINT``: an http(s) URL; a hub that cannot be reached is a warning (cached weights still load)."""
    from urllib.parse import urlsplit

    endpoint = constants.hf_endpoint()
    if endpoint is None:
        return Setting("HF_ENDPOINT", "(public Hub)")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Setting("HF_ENDPOINT", endpoint, "not an http(s) URL like http://hub.internal:8090", 2)
    if constants.hf_offline():
        return Setting("HF_ENDPOINT", endpoint)
    from zoo.weights.fetch import unreachable

    reason = unreachable(endpoint, timeout=3.0)
    if reason:
        return Setting("HF_ENDPOINT", endpoint, f"{reason}: weights not in the cache cannot be fetched (exit 6)",
                       6, warning=True)
    return Setting("HF_ENDPOINT", endpoint)


def _lock() -> Setting:
    from zoo.weights import lockfile

    path = constants.lock_path()
    return _check("ZOO_LOCK", lambda: path if path.is_file() else f"{path} (none yet)",
                  (lambda: lockfile.read_lock(None)) if path.is_file() else None)


def _providers() -> Setting:
    """``ZOO_PROVIDERS``: each pin names a method and a plugin that is installed."""
    from zoo import discovery

    pins = constants.pinned_providers()
    text = constants.setting_text("ZOO_PROVIDERS")
    if not text:
        return Setting("ZOO_PROVIDERS", "")
    items = [i.strip() for i in text.split(",") if i.strip()]
    malformed = [i for i in items if i.count("=") != 1 or not all(i.split("="))]
    if malformed:
        return Setting("ZOO_PROVIDERS", text, f"malformed pins {malformed}: use method=plugin[,method=plugin]", 2)
    plugins = set(discovery.plugins().plugins)
    unknown = sorted(p for p in pins.values() if p not in plugins)
    if unknown:
        return Setting("ZOO_PROVIDERS", text, f"no installed plugin named {', '.join(unknown)}", 2)
    return Setting("ZOO_PROVIDERS", text)


def _threads_in_effect() -> str:
    """``ZOO_NUM_THREADS`` as given (or its default) and the intra-op threads torch uses in this process."""
    import torch

    given = constants.setting_text("ZOO_NUM_THREADS") or f"unset (default {constants.DEFAULT_NUM_THREADS})"
    return f"{given}: torch uses {torch.get_num_threads()} intra-op thread(s)"


def check_settings() -> list[Setting]:
    """Every setting zoo reads, checked as the commands check it."""
    from zoo import catalogue

    checks = [
        _kernels(),
        _check("ZOO_NUM_THREADS", _threads_in_effect, constants.num_threads),
        _check("ZOO_VERIFY", constants.verify_policy),
        _check("ZOO_REGISTRY", catalogue.default_path, catalogue.load),
        _lock(),
        _providers(),
        _writable("ZOO_HOME", constants.zoo_home()),
        _writable("HF_HUB_CACHE", constants.hf_hub_cache()),
        _endpoint(),
        _check("HF_HUB_OFFLINE", constants.hf_offline),
        _check("WORLD_SIZE/RANK", lambda: f"{constants.dist_world_size()}/{constants.dist_rank()}",
               constants.dist_local_rank),
    ]
    return checks
