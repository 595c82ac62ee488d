"""The Xet protocol with the real `hf_xet` client (huggingface_hub's default upload/download path): upload,
download with and without hf_xet, chunk deduplication of an edited file, forged uploads, kill -9 mid-upload."""

from __future__ import annotations

import hashlib
import time
import random
import sqlite3
import threading
from pathlib import Path

import pytest

hf = pytest.importorskip("huggingface_hub")
pytest.importorskip("hf_xet")
httpx2 = pytest.importorskip("httpx2")

from zoo.testing.hub import HubProcess

TOKEN = "xet-test-token-0123456789"


@pytest.fixture
def xet_client(monkeypatch, tmp_path):
    """huggingface_hub with Xet enabled (as installed), its caches under ``tmp_path``."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "xet-cache"))
    return constants


def _xorb_bytes(root: Path) -> int:
    with sqlite3.connect(root / "hub.sqlite") as db:
        return db.execute("SELECT coalesce(sum(bytes), 0) FROM xorbs").fetchone()[0]


def _edited(data: bytes, fraction: float, seed: int) -> bytes:
    rng = random.Random(seed)
    out = bytearray(data)
    span = int(len(data) * fraction)
    start = rng.randrange(0, len(data) - span)
    out[start : start + span] = rng.randbytes(span)
    return bytes(out)


def test_xet_upload_download_and_dedup(hub_server, xet_client, tmp_path, unique_repo):
    api = hub_server.api()
    repo_id = unique_repo("xet")
    api.create_repo(repo_id)
    data = random.Random(1).randbytes(4 * 1024 * 1024 + 321)
    src = tmp_path / "weights.bin"
    src.write_bytes(data)
    before = _xorb_bytes(hub_server.root)
    first = api.upload_file(path_or_fileobj=str(src), path_in_repo="weights.bin", repo_id=repo_id)
    sent_first = _xorb_bytes(hub_server.root) - before
    assert sent_first >= len(data) * 0.9  # random data: every chunk is new
    [entry] = [e for e in api.list_repo_tree(repo_id) if e.path == "weights.bin"]
    assert entry.xet_hash and entry.lfs.sha256 == hashlib.sha256(data).hexdigest()
    assert not list((hub_server.root / "blobs").rglob(entry.lfs.sha256))  # stored once: as chunks in xorbs
    # download through Xet (reconstruction + xorb ranges), into a fresh cache
    got = hf.hf_hub_download(repo_id, "weights.bin", endpoint=hub_server.endpoint, cache_dir=tmp_path / "c1")
    assert Path(got).read_bytes() == data
    # a client without Xet gets the plain bytes (and ranges) from /resolve/
    xet_client.HF_HUB_DISABLE_XET = True
    got = hf.hf_hub_download(repo_id, "weights.bin", endpoint=hub_server.endpoint, cache_dir=tmp_path / "c2")
    assert Path(got).read_bytes() == data
    url = f"{hub_server.endpoint}/{repo_id}/resolve/main/weights.bin"
    part = httpx2.get(url, headers={"Range": "bytes=100000-300000"})
    assert part.status_code == 206 and part.content == data[100000:300001]
    head = httpx2.head(url)
    assert head.headers["x-xet-hash"] == entry.xet_hash and 'rel="xet-auth"' in head.headers["link"]
    xet_client.HF_HUB_DISABLE_XET = False
    # 1 % of the file changed: only the chunks around the change travel
    edited = _edited(data, 0.01, seed=2)
    src.write_bytes(edited)
    before = _xorb_bytes(hub_server.root)
    second = api.upload_file(path_or_fileobj=str(src), path_in_repo="weights.bin", repo_id=repo_id)
    sent_second = _xorb_bytes(hub_server.root) - before
    assert second.oid != first.oid
    assert 0 < sent_second < 0.15 * len(data), sent_second
    got = hf.hf_hub_download(repo_id, "weights.bin", endpoint=hub_server.endpoint, cache_dir=tmp_path / "c3")
    assert Path(got).read_bytes() == edited
    old = hf.hf_hub_download(repo_id, "weights.bin", revision=first.oid, endpoint=hub_server.endpoint,
                             cache_dir=tmp_path / "c4")
    assert Path(old).read_bytes() == data


def _write_token(endpoint: str, repo_id: str, token: str) -> dict:
    r = httpx2.get(f"{endpoint}/api/models/{repo_id}/xet-write-token/main", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert r.headers["x-xet-access-token"] == body["accessToken"] and body["casUrl"].startswith(endpoint)
    return body


def test_forged_xet_uploads_are_refused(hub_server, xet_client, unique_repo):
    from zoo.hub.server.xet.hashing import chunk_hash, hash_to_hex, xorb_hash

    repo_id = unique_repo("forged")
    hub_server.api().create_repo(repo_id)
    info = _write_token(hub_server.endpoint, repo_id, hub_server.token)
    chunk = b"abc" * 1000
    xorb = bytes([0]) + len(chunk).to_bytes(3, "little") + bytes([0]) + len(chunk).to_bytes(3, "little") + chunk
    good = hash_to_hex(xorb_hash([(chunk_hash(chunk), len(chunk))]))
    auth = {"Authorization": f"Bearer {info['accessToken']}"}
    cas = info["casUrl"]
    assert httpx2.post(f"{cas}/v1/xorbs/default/{'0' * 64}", content=xorb, headers=auth).status_code == 400
    assert httpx2.post(f"{cas}/v1/xorbs/default/{good}", content=xorb).status_code == 401
    read = httpx2.get(f"{hub_server.endpoint}/api/models/{repo_id}/xet-read-token/main").json()
    assert httpx2.post(
        f"{cas}/v1/xorbs/default/{good}", content=xorb, headers={"Authorization": f"Bearer {read['accessToken']}"}
    ).status_code == 403
    ok = httpx2.post(f"{cas}/v1/xorbs/default/{good}", content=xorb, headers=auth)
    assert ok.status_code == 200 and ok.json() == {"was_inserted": True}
    assert httpx2.post(f"{cas}/v1/shards", content=b"not a shard" * 10, headers=auth).status_code == 400
    # anonymous callers get no write token; the read token of another repo does not reconstruct this one's files
    assert httpx2.get(f"{hub_server.endpoint}/api/models/{repo_id}/xet-write-token/main").status_code == 401


def test_kill_9_during_a_xet_upload_leaves_a_consistent_hub(tmp_path, xet_client, unique_repo):
    from zoo.hub.server.gc import collect

    root, token_file = tmp_path / "root", tmp_path / "tokens"
    token_file.write_text(f"alice:{TOKEN}\n")
    server = HubProcess(root, token_file)
    repo_id = unique_repo("xet-crash")
    data = random.Random(3).randbytes(2 * 1024 * 1024)
    try:
        api = hf.HfApi(endpoint=server.endpoint, token=TOKEN)
        api.create_repo(repo_id)
        good = api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo_id).oid
        info = _write_token(server.endpoint, repo_id, TOKEN)
        release = threading.Event()

        def body():
            yield b"\x00" * (1024 * 1024)
            release.wait(30)
            yield b"never"

        def stalled():
            try:
                httpx2.post(f"{info['casUrl']}/v1/xorbs/default/{'1' * 64}", content=body(),
                            headers={"Authorization": f"Bearer {info['accessToken']}"}, timeout=30)
            except Exception:  # noqa: BLE001, S110 - the connection dies with the server, as intended
                pass

        thread = threading.Thread(target=stalled, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not any((root / "tmp").glob("*.xorb")):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        server.kill()
        release.set()
    thread.join(10)
    server = HubProcess(root, token_file)  # restart: no repair step
    try:
        api = hf.HfApi(endpoint=server.endpoint, token=TOKEN)
        assert api.model_info(repo_id).sha == good
        assert list((root / "tmp").iterdir()) == []
        with sqlite3.connect(root / "hub.sqlite") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        got = hf.hf_hub_download(repo_id, "w.bin", endpoint=server.endpoint, cache_dir=tmp_path / "c")
        assert Path(got).read_bytes() == data
        newer = api.upload_file(path_or_fileobj=data[::-1], path_in_repo="w.bin", repo_id=repo_id).oid
        assert [c.commit_id for c in api.list_repo_commits(repo_id)][:2] == [newer, good]
    finally:
        assert server.terminate() == 0
    assert collect(root, grace_seconds=0).xorbs == 0  # both files are in the history: nothing to free
    assert "Traceback" not in server.log_path.read_text()
