"""`zoo hub serve` as a real process: kill -9 in the middle of uploads, restart, and find a consistent repo;
graceful exit on SIGTERM; `zoo hub import`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

hf = pytest.importorskip("huggingface_hub")
httpx2 = pytest.importorskip("httpx2")

from zoo.testing.hub import HubProcess

TOKEN = "crash-test-token-0123456789"


def _Server(root: Path, token_file: Path) -> HubProcess:
    return HubProcess(root, token_file)


def _stalled_post(
    url: str, head: bytes, release: threading.Event, method: str = "POST", headers: dict | None = None
) -> threading.Thread:
    """Send ``head`` of a request body, then stall until ``release`` (the server is killed meanwhile)."""

    def body():
        yield head
        release.wait(30)
        yield b"never-finished"

    def run():
        try:
            httpx2.request(method, url, content=body(), headers=headers or {}, timeout=30)
        except Exception:  # noqa: BLE001, S110 - the connection dies with the server, as intended
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_kill_9_during_uploads_restarts_consistent(tmp_path, unique_repo, monkeypatch):
    # this hub speaks Git LFS, not Xet, for large files (what zoo.testing.hub.use_hub also sets)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    root, token_file = tmp_path / "root", tmp_path / "tokens.txt"
    token_file.write_text(f"# team tokens\nalice:{TOKEN}\n")
    server = _Server(root, token_file)
    api = hf.HfApi(endpoint=server.endpoint, token=TOKEN)
    repo_id = unique_repo("crash")
    api.create_repo(repo_id)
    weights = os.urandom(1024 * 1024 + 123)  # above the 1 MiB threshold: LFS
    api.upload_file(path_or_fileobj=b"v1", path_in_repo="note.txt", repo_id=repo_id)
    good = api.upload_file(path_or_fileobj=weights, path_in_repo="w.bin", repo_id=repo_id).oid
    auth = {"Authorization": f"Bearer {TOKEN}"}
    release = threading.Event()
    # 1) a commit whose first file was fully received (its blob is on disk) but whose body never completes
    done_file = b"committed-never" * 10
    done_sha = hashlib.sha256(done_file).hexdigest()
    head = (
        json.dumps({"key": "header", "value": {"summary": "doomed", "description": ""}})
        + "\n"
        + json.dumps(
            {
                "key": "file",
                "value": {
                    "path": "note.txt",
                    "encoding": "base64",
                    "content": base64.b64encode(done_file).decode(),
                },
            }
        )
        + "\n"
        + '{"key": "file", "value": {"path": "half.txt", "encoding": "base64", "content": "AAAA'
    ).encode()
    commit_thread = _stalled_post(
        f"{server.endpoint}/api/models/{repo_id}/commit/main",
        head,
        release,
        headers={**auth, "Content-Type": "application/x-ndjson"},
    )
    # 2) an LFS object upload cut in the middle
    big = os.urandom(6 * 1024 * 1024)
    batch = httpx2.post(
        f"{server.endpoint}/{repo_id}.git/info/lfs/objects/batch",
        headers=auth,
        json={
            "operation": "upload",
            "transfers": ["basic"],
            "objects": [{"oid": hashlib.sha256(big).hexdigest(), "size": len(big)}],
        },
    ).json()
    href = batch["objects"][0]["actions"]["upload"]["href"]
    put_thread = _stalled_post(href, big[: 5 * 1024 * 1024], release, method="PUT")
    blob_of = lambda sha: root / "blobs" / sha[:2] / sha[2:4] / sha
    _wait_for(lambda: blob_of(done_sha).exists() and any((root / "tmp").iterdir()))
    server.kill()
    release.set()
    commit_thread.join(10)
    put_thread.join(10)
    assert any((root / "tmp").iterdir())  # the half-written LFS object was on disk when the server died

    server = _Server(root, token_file)  # restart: no repair step
    try:
        api = hf.HfApi(endpoint=server.endpoint, token=TOKEN)
        assert api.model_info(repo_id).sha == good
        assert api.list_repo_files(repo_id) == [".gitattributes", "note.txt", "w.bin"]
        cache = tmp_path / "cache"
        note = hf.hf_hub_download(repo_id, "note.txt", endpoint=server.endpoint, cache_dir=cache)
        assert Path(note).read_bytes() == b"v1"
        w = hf.hf_hub_download(repo_id, "w.bin", endpoint=server.endpoint, cache_dir=cache)
        assert Path(w).read_bytes() == weights
        assert list((root / "tmp").iterdir()) == []  # staging files of the dead uploads were cleared
        with sqlite3.connect(root / "hub.sqlite") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # and the repo keeps working: the interrupted LFS upload can be redone and committed
        after = api.upload_file(path_or_fileobj=big, path_in_repo="big.bin", repo_id=repo_id).oid
        assert [c.commit_id for c in api.list_repo_commits(repo_id)][:2] == [after, good]
        assert api.get_paths_info(repo_id, ["big.bin"])[0].lfs.sha256 == hashlib.sha256(big).hexdigest()
        # SIGTERM while a download is in flight: the server stops accepting, finishes the response, exits 0
        received: list[bytes] = []
        started = threading.Event()

        def slow_download() -> None:
            with httpx2.stream("GET", f"{server.endpoint}/{repo_id}/resolve/main/big.bin", timeout=30) as r:
                for chunk in r.iter_bytes(64 * 1024):
                    received.append(chunk)
                    started.set()
                    time.sleep(0.01)

        reader = threading.Thread(target=slow_download)
        reader.start()
        assert started.wait(10)
        server.proc.send_signal(signal.SIGTERM)
        reader.join(30)
        assert b"".join(received) == big
    finally:
        code = server.terminate()
    assert code == 0  # SIGTERM: graceful shutdown, clean exit
    log = server.log_path.read_text()
    assert TOKEN not in log and "user=alice" in log  # one access line per request, never the token
    assert log.count('"GET /api/models/') >= 2
    # the download in flight at SIGTERM was completed by the server (the access line is written after its last byte)
    assert f'"GET /{repo_id}/resolve/main/big.bin" 200 {len(big)} ' in log


def test_zoo_hub_import_seeds_a_repo(tmp_path, unique_repo):
    from zoo.cli import main

    folder = tmp_path / "export"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"a": 1}')
    (folder / "sub" / "w.bin").write_bytes(b"\x00" * 2048)
    root = tmp_path / "root"
    repo_id = unique_repo("imported")
    assert main(["hub", "import", str(folder), repo_id, "--root", str(root), "--message", "seed"]) == 0
    assert main(["hub", "import", str(tmp_path / "nope"), repo_id, "--root", str(root)]) == 6
    assert main(["hub", "import", str(folder), "no-namespace", "--root", str(root)]) == 6
    from zoo.testing.hub import start_hub_server

    server = start_hub_server(root)
    try:
        api = server.api(token=False)
        assert api.list_repo_files(repo_id) == [".gitattributes", "config.json", "sub/w.bin"]
        assert api.list_repo_commits(repo_id)[0].title == "seed"
        path = hf.hf_hub_download(repo_id, "sub/w.bin", endpoint=server.endpoint, cache_dir=tmp_path / "c")
        assert Path(path).read_bytes() == b"\x00" * 2048
    finally:
        server.stop()
