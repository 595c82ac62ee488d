"""Cache-first fetching through huggingface_hub.

A pinned (40-hex) revision that is already in the hub cache is answered by a pure cache lookup
(``try_to_load_from_cache``): no HTTP request at all, with or without ``HF_HUB_OFFLINE`` (``hf_hub_download``
would still build request headers, which may contact the endpoint once a day). Anything else goes through
``hf_hub_download`` with the endpoint and token from the usual HF settings. A released weight that zoo ships
(:mod:`zoo.weights.shipped`) comes from its shipped copy when no hub is configured (no ``HF_ENDPOINT``), or when the
configured hub lacks it or cannot be reached.
"""

from __future__ import annotations

import logging
from pathlib import Path

from zoo import constants
from zoo.errors import (
    GatedRepoError,
    HubUnreachableError,
    OfflineError,
    RevisionNotFoundError,
    WeightsError,
    WeightsNotFoundError,
)
from zoo.weights.records import WeightRef

log = logging.getLogger("zoo.weights")


def cache_dir() -> Path:
    """The hub cache zoo reads and fills (``HF_HUB_CACHE``, else ``$HF_HOME/hub``)."""
    return constants.hf_hub_cache()


def cached_path(ref: WeightRef, filename: str) -> Path | None:
    """The cached file of a pinned ref, or ``None`` (never touches the network)."""
    if not ref.pinned:
        return None
    from huggingface_hub import try_to_load_from_cache

    hit = try_to_load_from_cache(ref.repo, filename, cache_dir=str(cache_dir()), revision=ref.revision)
    return Path(hit) if isinstance(hit, str) and Path(hit).exists() else None


def fetch(ref: WeightRef, filename: str, *, token: str | None = None) -> Path:
    """The local path of ``filename`` at ``ref``: from the cache when pinned and present, else downloaded.

    Raises:
        WeightsError: offline and not cached, hub unreachable, or repo/revision/file not found (named).
    """
    hit = cached_path(ref, filename)
    if hit is not None:
        return hit
    from zoo.weights.shipped import shipped_file

    shipped = shipped_file(ref, filename)
    if shipped is not None and not (ref.endpoint or constants.hf_endpoint()):
        return shipped  # no hub configured: the copy shipped with zoo, verified by the caller like a download
    try:
        return download(ref, filename, token=token)
    except (OfflineError, WeightsNotFoundError) as exc:
        if shipped is None:
            raise
        log.info("%s@%s:%s: %s; using the copy shipped with zoo", ref.repo, ref.revision, filename, exc)
        return shipped


def download(ref: WeightRef, filename: str, *, token: str | None = None) -> Path:
    """``filename`` at ``ref`` through ``hf_hub_download`` (into the hub cache), with typed errors.

    Raises:
        OfflineError: ``HF_HUB_OFFLINE`` is set (and the file is not cached).
        HubUnreachableError: the endpoint cannot be reached (checked once per process before the first download,
            so a dead address fails at once instead of after huggingface_hub's retries).
        WeightsNotFoundError, RevisionNotFoundError, GatedRepoError, WeightsError: what the hub answered.
    """
    where = f"{ref.repo}@{ref.revision}:{filename}"
    ids = {"repo": ref.repo, "revision": ref.revision}
    if constants.hf_offline():
        raise OfflineError(f"{where} is not in the hub cache ({cache_dir()}) and HF_HUB_OFFLINE is set", **ids)
    from huggingface_hub import errors as hf_errors
    from huggingface_hub import hf_hub_download

    endpoint = ref.endpoint or constants.hf_endpoint()
    reason = unreachable(endpoint)
    if reason:
        from huggingface_hub import try_to_load_from_cache

        stale = try_to_load_from_cache(ref.repo, filename, cache_dir=str(cache_dir()), revision=ref.revision)
        if isinstance(stale, str) and Path(stale).exists():  # a branch cached earlier, as huggingface_hub would
            log.warning("%s: the hub cannot be reached (%s); using the cached copy of %s", where, reason,
                        ref.revision)
            return Path(stale)
        raise HubUnreachableError(
            f"{where}: the hub ({endpoint or 'the public Hub'}) cannot be reached ({reason}) and the file is not "
            "cached", **ids
        )
    try:
        path = hf_hub_download(
            ref.repo,
            filename,
            revision=ref.revision,
            cache_dir=str(cache_dir()),
            endpoint=endpoint,
            token=token or constants.hf_token(),
        )
    except hf_errors.GatedRepoError as exc:
        raise GatedRepoError(f"{ref.repo} is gated: accept its terms on the hub and use a token ({exc})",
                             **ids) from exc
    except hf_errors.RepositoryNotFoundError as exc:
        raise WeightsNotFoundError(f"hub repo {ref.repo!r} not found (or not visible with this token) on "
                                   f"{endpoint or 'the public Hub'}", **ids) from exc
    except hf_errors.RevisionNotFoundError as exc:
        raise RevisionNotFoundError(f"revision {ref.revision!r} not found in {ref.repo}", **ids) from exc
    except hf_errors.LocalEntryNotFoundError as exc:
        raise HubUnreachableError(
            f"{where}: the hub ({endpoint or 'the public Hub'}) could not be reached and the file is not cached "
            f"({exc})", **ids
        ) from exc
    except hf_errors.EntryNotFoundError as exc:
        raise WeightsNotFoundError(f"{where}: no such file in the repo", **ids) from exc
    except (hf_errors.HfHubHTTPError, OSError) as exc:
        raise WeightsError(f"{where}: download failed: {type(exc).__name__}: {exc}", **ids) from exc
    return Path(path)


_REACHABLE: dict[str, str] = {}


def unreachable(endpoint: str | None, timeout: float = 5.0) -> str:
    """Why ``endpoint`` (``None``: the public Hub) cannot be reached, or ``""`` (checked once per process).

    One DNS lookup and TCP connection: a name that does not resolve or a refused port fails at once. Skipped (``""``)
    when a proxy is configured, since only the proxy can tell.
    """
    if constants.proxy_configured():
        return ""
    url = endpoint or "https://huggingface.co"
    if url not in _REACHABLE:
        import socket
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
            _REACHABLE[url] = ""
        except socket.gaierror as exc:
            _REACHABLE[url] = f"cannot resolve {host!r}: {exc.strerror or exc}"
        except OSError as exc:
            return f"cannot connect to {host}:{port}: {exc.strerror or exc}"  # may be transient: not remembered
    return _REACHABLE[url]


def commit_of(path: Path) -> str | None:
    """The commit a hub-cache snapshot path belongs to (``.../snapshots/<commit>/<file>``)."""
    parts = path.parts
    if "snapshots" in parts:
        index = len(parts) - 1 - parts[::-1].index("snapshots")
        if index + 1 < len(parts):
            return parts[index + 1]
    return None
