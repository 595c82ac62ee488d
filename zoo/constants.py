"""The one place where zoo reads environment variables.

Every other module imports the values (or the accessor functions) from here, so that a user can find every
switch in one file and tests can monkeypatch one module. Values that can change during a process (tests set
them) are read through small functions rather than frozen at import time.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

#: Entry-point group through which plugins (built-in and third-party) are discovered.
ENTRY_POINT_GROUP = "zoo.plugins"

#: Name of the pluggy project (hook markers are created for this name).
PLUGGY_PROJECT = "zoo"


def _truthy(value: str | None) -> bool:
    """Interpret an environment flag (``1``, ``true``, ``yes``, ``on``) as a boolean."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def strict_plugins() -> bool:
    """``ZOO_STRICT_PLUGINS=1``: a plugin that fails to import or register raises instead of being reported."""
    return _truthy(os.environ.get("ZOO_STRICT_PLUGINS"))


def trace_hooks() -> bool:
    """``ZOO_TRACE_HOOKS=1``: print every pluggy hook call and result to stderr (debugging plugins)."""
    return _truthy(os.environ.get("ZOO_TRACE_HOOKS"))


def pinned_providers() -> dict[str, str]:
    """``ZOO_PROVIDERS=method=plugin[,method=plugin...]``: which plugin provides a method two plugins claim."""
    pins: dict[str, str] = {}
    for item in (os.environ.get("ZOO_PROVIDERS") or "").split(","):
        method, eq, plugin = item.strip().partition("=")
        if eq and method and plugin:
            pins[method.strip()] = plugin.strip()
    return pins


def debug() -> bool:
    """``ZOO_DEBUG=1`` (or ``zoo --debug``): the CLI prints full tracebacks of errors."""
    return _truthy(os.environ.get("ZOO_DEBUG"))


def kernel_policy() -> str:
    """``ZOO_KERNELS=auto|torch|triton``: which implementation of the fused ops to use (default ``auto``)."""
    return os.environ.get("ZOO_KERNELS", "auto").strip().lower() or "auto"


def triton_interpret() -> bool:
    """``TRITON_INTERPRET=1``: Triton kernels run on CPU tensors through the interpreter (tests only)."""
    return _truthy(os.environ.get("TRITON_INTERPRET"))


def zoo_home() -> Path:
    """``ZOO_HOME``: zoo's own cache and state folder (default ``$XDG_CACHE_HOME/zoo`` or ``~/.cache/zoo``)."""
    explicit = os.environ.get("ZOO_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "zoo"


def registry_path_override() -> Path | None:
    """``ZOO_REGISTRY``: an alternative ``registry.yaml`` catalogue (default: the one shipped with zoo)."""
    value = os.environ.get("ZOO_REGISTRY")
    return Path(value).expanduser() if value else None


def lock_path() -> Path:
    """``ZOO_LOCK``: the weights lock file ``zoo.load`` honours (default ``./zoo.lock``)."""
    return Path(os.environ.get("ZOO_LOCK", "zoo.lock")).expanduser()


def hf_endpoint() -> str | None:
    """``HF_ENDPOINT`` as huggingface_hub will see it (``None``: the public Hub)."""
    return os.environ.get("HF_ENDPOINT") or None


def hf_token() -> str | None:
    """``HF_TOKEN``: the bearer token for hub writes (huggingface_hub reads it too)."""
    return os.environ.get("HF_TOKEN") or None


def hub_tokens_env() -> str | None:
    """``ZOO_HUB_TOKENS``: comma-separated write tokens accepted by ``zoo hub serve``."""
    return os.environ.get("ZOO_HUB_TOKENS") or None


def demo_dir() -> Path:
    """``ZOO_DEMO_DIR``: where ``zoo demo`` writes its report (default ``./zoo-demo``)."""
    return Path(os.environ.get("ZOO_DEMO_DIR", "zoo-demo")).expanduser()


def is_ci() -> bool:
    """``CI``: set by continuous-integration runners."""
    return _truthy(os.environ.get("CI"))


def dist_world_size() -> int:
    """``WORLD_SIZE`` (set by ``torchrun``): number of processes in a distributed job (default 1)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def dist_rank() -> int:
    """``RANK`` (set by ``torchrun``): global rank of this process (default 0)."""
    return int(os.environ.get("RANK", "0") or 0)


def dist_local_rank() -> int:
    """``LOCAL_RANK`` (set by ``torchrun``): rank of this process on its node, i.e. its GPU index (default 0)."""
    return int(os.environ.get("LOCAL_RANK", "0") or 0)


def hf_home() -> Path:
    """``HF_HOME``: the Hugging Face home folder (default ``$XDG_CACHE_HOME/huggingface``)."""
    explicit = os.environ.get("HF_HOME")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "huggingface"


def hf_hub_cache() -> Path:
    """``HF_HUB_CACHE`` (legacy ``HUGGINGFACE_HUB_CACHE``): the hub download cache (default ``$HF_HOME/hub``).

    Read at call time (huggingface_hub freezes it at import), so zoo passes it explicitly to every hub call.
    """
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    return hf_home() / "hub"


def proxy_configured() -> bool:
    """``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` (any case): requests go through a proxy."""
    return any(os.environ.get(name) or os.environ.get(name.lower()) for name in ("HTTPS_PROXY", "HTTP_PROXY",
                                                                                 "ALL_PROXY"))


def hf_offline() -> bool:
    """``HF_HUB_OFFLINE`` (legacy ``TRANSFORMERS_OFFLINE``): never contact the hub, use the cache only."""
    return _truthy(os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE"))


def verify_policy() -> str:
    """``ZOO_VERIFY=auto|full``: ``auto`` (default) hashes a weights file in full once and trusts it while its
    inode, size, mtime and ctime are unchanged; ``full`` re-hashes on every load (catches silent disk corruption)."""
    value = os.environ.get("ZOO_VERIFY", "auto").strip().lower() or "auto"
    if value not in ("auto", "full"):
        from zoo.errors import ConfigError

        raise ConfigError(f"ZOO_VERIFY={value!r} is not a verification policy; use 'auto' or 'full'")
    return value


#: Intra-op threads zoo gives torch unless told otherwise (measured: tools/bench_threads.py, see README "Threads").
DEFAULT_NUM_THREADS = 1


def num_threads() -> int | None:
    """``ZOO_NUM_THREADS``: intra-op threads for torch in zoo's commands and the demo (default
    :data:`DEFAULT_NUM_THREADS`); ``auto`` (or ``0``) leaves torch's own choice (one per core). When unset and
    ``OMP_NUM_THREADS`` is set, that setting is left to torch (``None``).

    Raises:
        ConfigError: the value is neither a positive integer nor ``auto``/``0``.
    """
    raw = (os.environ.get("ZOO_NUM_THREADS") or "").strip().lower()
    if not raw:
        return None if os.environ.get("OMP_NUM_THREADS") else DEFAULT_NUM_THREADS
    if raw in ("auto", "0"):
        return None
    if not raw.isdigit():
        from zoo.errors import ConfigError

        raise ConfigError(f"ZOO_NUM_THREADS={raw!r} is not a number of threads; use a positive integer or 'auto'")
    return int(raw)


def apply_num_threads() -> int | None:
    """Give torch :func:`num_threads` intra-op threads (before torch is imported: through ``OMP_NUM_THREADS``, so
    ``zoo list`` still imports no torch); returns the number set, or ``None`` when torch keeps its own choice."""
    import sys

    count = num_threads()
    if count is None:
        return None
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(count)
    else:
        os.environ["OMP_NUM_THREADS"] = str(count)
        os.environ.setdefault("MKL_NUM_THREADS", str(count))
    return count


@contextlib.contextmanager
def num_threads_applied() -> Iterator[int | None]:
    """:func:`apply_num_threads` for one block (one zoo command run in-process: tests, tools), then put back what it
    changed: torch's thread count when torch was already imported, ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``
    otherwise, so that calling ``zoo.cli.main`` does not change the threads of the code that runs after it (a torch
    imported inside the block keeps the count it started with)."""
    import sys

    saved_env = {key: os.environ.get(key) for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    torch = sys.modules.get("torch")
    saved_threads = torch.get_num_threads() if torch is not None else None
    try:
        yield apply_num_threads()
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if torch is not None and saved_threads is not None and torch.get_num_threads() != saved_threads:
            torch.set_num_threads(saved_threads)


def setting_text(name: str) -> str:
    """The raw text of a zoo or Hugging Face setting (for ``zoo doctor``'s report only; "" when unset)."""
    if not (name.startswith(("ZOO_", "HF_")) or name in ("OMP_NUM_THREADS", "WORLD_SIZE", "RANK", "LOCAL_RANK")):
        raise ValueError(f"{name} is not a setting zoo reads")
    return os.environ.get(name, "")
