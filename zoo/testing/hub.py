"""Pytest plugin: a real zoo hub on a free loopback port for the whole test session, and a way to point
``huggingface_hub`` at it.

Registered for the whole suite by ``pytest_plugins = ["zoo.testing.hub"]`` in the root ``conftest.py``.

Fixtures:
- ``hub_server`` (session): a :class:`HubServer` with ``.endpoint``, ``.token``, ``.root`` and ``.api()``; the
  server runs in-process on a thread (uvicorn), storage in a temporary folder, started on first use only. Its
  LFS threshold is 1 MiB (bigger files take the LFS path), and while it runs ``constants.HF_HUB_DISABLE_XET`` is
  True (the client must not try Xet against it).
- ``hub_endpoint`` (function): ``hub_server`` with huggingface_hub pointed at it for the test (module constants
  patched, ``HF_TOKEN`` set to the server's token) and restored afterwards.

``huggingface_hub`` reads ``HF_ENDPOINT`` once, at import, into ``constants.ENDPOINT`` and
``constants.HUGGINGFACE_CO_URL_TEMPLATE``; :func:`use_hub` patches both (and ``HF_HUB_DISABLE_XET``: this hub
speaks Git LFS, not Xet, for files above its LFS threshold) and restores them on exit. APIs that take an
``endpoint=`` argument (``HfApi``, ``hf_hub_download``, ``snapshot_download``) can also be given
``hub_server.endpoint`` directly.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from zoo.hub.endpoint import use_hub

#: LFS threshold of the test server: small, so tests exercise the LFS path with tiny files.
TEST_LFS_THRESHOLD = 1024 * 1024


@dataclass
class HubServer:
    """A running hub: where it listens, a valid write token, and its storage root."""

    endpoint: str
    token: str
    root: Path
    _running: Any = field(default=None, repr=False)
    _owned_root: Path | None = field(default=None, repr=False)

    def api(self, token: str | None | bool = True) -> Any:
        """An ``HfApi`` bound to this server (``token=True``: the server's token; ``False``: anonymous)."""
        from huggingface_hub import HfApi

        chosen = self.token if token is True else (False if token in (None, False) else token)
        return HfApi(endpoint=self.endpoint, token=chosen)

    def use(self, token: str | None | bool = True) -> contextlib.AbstractContextManager[None]:
        """Context manager pointing huggingface_hub's module-level endpoint (and ``HF_TOKEN``) at this server."""
        chosen = self.token if token is True else (None if token in (None, False) else token)
        return use_hub(self.endpoint, token=chosen)

    def stop(self) -> None:
        """Stop the server thread (and delete the storage if :func:`start_hub_server` created it)."""
        if self._running is not None:
            self._running.stop()
            self._running = None
        if self._owned_root is not None:
            shutil.rmtree(self._owned_root, ignore_errors=True)
            self._owned_root = None


def start_hub_server(
    root: Path | None = None,
    *,
    lfs_threshold: int = TEST_LFS_THRESHOLD,
    token: str | None = None,
    **config: Any,
) -> HubServer:
    """Start a hub on a free loopback port in this process (thread); the caller must ``stop()`` it."""
    from zoo.hub.server.config import HubConfig
    from zoo.hub.server.runner import serve_in_thread

    token = token or "zoo-test-" + secrets.token_hex(16)
    owned = None if root is not None else Path(tempfile.mkdtemp(prefix="zoo-hub-"))
    root = Path(root) if root is not None else owned
    hub_config = HubConfig(root=root, tokens={token: "zoo-tests"}, lfs_threshold=lfs_threshold, **config)
    running = serve_in_thread(hub_config, "127.0.0.1", 0)
    return HubServer(
        endpoint=running.endpoint, token=token, root=hub_config.root, _running=running, _owned_root=owned
    )


class HubProcess:
    """``python -m zoo hub serve`` as a separate process on a free port (crash tests, benchmarks): ``endpoint``
    parsed from its ready line, its stderr in ``log_path``; ``kill()`` sends SIGKILL, ``terminate()`` SIGTERM."""

    def __init__(self, root: Path, token_file: Path, *extra: str) -> None:
        env = {**os.environ, "ZOO_HUB_TOKENS": ""}
        self.log_path = root.parent / f"server-{time.monotonic_ns()}.log"  # a file: a full pipe would stall it
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in wait()
        command = [sys.executable, "-m", "zoo", "hub", "serve", "--root", str(root), "--port", "0"]
        command += ["--token-file", str(token_file), "--lfs-threshold-mb", "1", *extra]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "zoo hub: listening on http://127.0.0.1:PORT"
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r} {self.log_path.read_text()}")
        self.endpoint = line.rsplit(" ", 1)[1].strip()

    def kill(self) -> None:
        """SIGKILL, then reap."""
        self.proc.send_signal(signal.SIGKILL)
        self.wait(10)

    def terminate(self) -> int:
        """SIGTERM (graceful shutdown); returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(20)

    def wait(self, timeout: float) -> int:
        """Wait for the process and close its pipes."""
        code = self.proc.wait(timeout)
        self._log.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code


@pytest.fixture(scope="session")
def hub_server() -> Iterator[HubServer]:
    """A hub on a free loopback port for the rest of the session (temporary storage, one write token).

    The storage root is ``<fresh temporary folder>/root``: nothing else lives in its parent, so tests can check
    that no request ever writes next to the root.
    """
    from huggingface_hub import constants

    parent = Path(tempfile.mkdtemp(prefix="zoo-hub-"))
    server = start_hub_server(parent / "root")
    saved_xet = constants.HF_HUB_DISABLE_XET
    constants.HF_HUB_DISABLE_XET = (
        True  # files above the LFS threshold must use Git LFS, which this hub speaks
    )
    try:
        yield server
    finally:
        constants.HF_HUB_DISABLE_XET = saved_xet
        server.stop()
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def hub_endpoint(hub_server: HubServer) -> Iterator[HubServer]:
    """``hub_server`` with huggingface_hub pointed at it (and ``HF_TOKEN`` set) for one test."""
    with hub_server.use():
        yield hub_server
