"""No resurrection of content by hash, and garbage collection that frees what nothing references (and nothing
else), with the real client."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time

import pytest

hf = pytest.importorskip("huggingface_hub")
httpx2 = pytest.importorskip("httpx2")

from huggingface_hub import CommitOperationCopy

from zoo.hub.server.accounts import Accounts
from zoo.hub.server.gc import collect
from zoo.hub.server.storage import Storage


def _commit(server, token, repo_id, *lines):
    header = {"key": "header", "value": {"summary": "attach", "description": ""}}
    body = b"\n".join(json.dumps(x).encode() for x in (header, *lines)) + b"\n"
    return httpx2.post(
        f"{server.endpoint}/api/models/{repo_id}/commit/main",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
    )


@pytest.fixture
def two_users(tmp_path, monkeypatch):
    from huggingface_hub import constants

    from zoo.testing.hub import start_hub_server

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    root = tmp_path / "root"
    storage = Storage(root)
    accounts = Accounts(storage)
    accounts.add_user("alice")
    accounts.add_user("mallory")
    tokens = {u: accounts.create_token(u, scope="write")[1] for u in ("alice", "mallory")}
    storage.close()
    server = start_hub_server(root)
    yield server, tokens
    server.stop()


def test_deleted_or_private_content_cannot_be_attached_by_hash(two_users):
    server, tokens = two_users
    alice, mallory = server.api(tokens["alice"]), server.api(tokens["mallory"])
    secret = os.urandom(1024 * 1024 + 99)  # LFS (above the test server's 1 MiB threshold)
    sha = hashlib.sha256(secret).hexdigest()
    alice.create_repo("alice/secret", private=True)
    alice.upload_file(path_or_fileobj=secret, path_in_repo="w.bin", repo_id="alice/secret")
    mallory.create_repo("mallory/loot")
    attach = {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": sha, "size": len(secret)}}
    r = _commit(server, tokens["mallory"], "mallory/loot", attach)  # private: refused
    assert r.status_code == 400 and "has not been uploaded" in r.json()["error"]
    # the LFS batch API does not vouch for it either: mallory is asked to upload the bytes
    batch = httpx2.post(
        f"{server.endpoint}/mallory/loot.git/info/lfs/objects/batch",
        headers={"Authorization": f"Bearer {tokens['mallory']}"},
        json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": sha, "size": len(secret)}]},
    ).json()
    assert "upload" in batch["objects"][0]["actions"]
    alice.delete_repo("alice/secret")
    r = _commit(server, tokens["mallory"], "mallory/loot", attach)  # deleted: refused
    assert r.status_code == 400
    assert mallory.list_repo_files("mallory/loot") == [".gitattributes"]
    # copies of LFS files within a repo (the client sends no size) work
    public = os.urandom(1024 * 1024 + 5)
    alice.create_repo("alice/public")
    alice.upload_file(path_or_fileobj=public, path_in_repo="a.bin", repo_id="alice/public")
    alice.create_commit("alice/public", [CommitOperationCopy("a.bin", "copy/a.bin")], commit_message="copy")
    path = hf.hf_hub_download("alice/public", "copy/a.bin", endpoint=server.endpoint, token=tokens["alice"])
    assert open(path, "rb").read() == public


def test_gc_frees_unreferenced_content_and_keeps_the_rest(two_users, tmp_path):
    server, tokens = two_users
    alice = server.api(tokens["alice"])
    shared, doomed, history = (os.urandom(1024 * 1024 + i) for i in (1, 2, 3))
    alice.create_repo("alice/keep")
    alice.create_repo("alice/gone")
    alice.upload_file(path_or_fileobj=shared, path_in_repo="shared.bin", repo_id="alice/keep")
    alice.upload_file(path_or_fileobj=history, path_in_repo="old.bin", repo_id="alice/keep")
    alice.delete_file("old.bin", repo_id="alice/keep")  # still in the history: must stay
    alice.upload_file(path_or_fileobj=shared, path_in_repo="shared.bin", repo_id="alice/gone")
    alice.upload_file(path_or_fileobj=doomed, path_in_repo="doomed.bin", repo_id="alice/gone")
    blob = lambda data: server.root / "blobs" / (h := hashlib.sha256(data).hexdigest())[:2] / h[2:4] / h
    # a file a crash left without its row (old enough), and a fresh upload not committed yet
    orphan = server.root / "blobs" / "ab" / "cd" / ("abcd" + "0" * 60)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"orphan")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    alice.delete_repo("alice/gone")
    assert blob(doomed).exists()  # deleting keeps the bytes until a collection
    report = collect(server.root, grace_seconds=3600)  # everything is recent: nothing is freed
    assert report.blobs == 0 and blob(doomed).exists() and report.kept_recent >= 1
    assert not orphan.exists() and report.orphan_files == 1
    report = collect(server.root, grace_seconds=0)
    assert report.blobs >= 1 and report.bytes_freed >= len(doomed)
    assert not blob(doomed).exists()
    assert blob(shared).exists() and blob(history).exists()
    cache = tmp_path / "cache"
    for rev, name, data in (("main", "shared.bin", shared), (alice.list_repo_commits("alice/keep")[1].commit_id, "old.bin", history)):
        got = hf.hf_hub_download("alice/keep", name, revision=rev, endpoint=server.endpoint, cache_dir=cache, token=tokens["alice"])
        assert open(got, "rb").read() == data
    # the collected content cannot come back by hash; uploading the bytes again works
    sha = hashlib.sha256(doomed).hexdigest()
    attach = {"key": "lfsFile", "value": {"path": "d.bin", "algo": "sha256", "oid": sha, "size": len(doomed)}}
    assert _commit(server, tokens["alice"], "alice/keep", attach).status_code == 400
    alice.upload_file(path_or_fileobj=doomed, path_in_repo="d.bin", repo_id="alice/keep")
    assert blob(doomed).exists()


def test_inline_commit_content_is_checked_too(two_users):
    server, tokens = two_users
    server.api(tokens["alice"]).create_repo("alice/inline")
    ok = _commit(
        server,
        tokens["alice"],
        "alice/inline",
        {"key": "file", "value": {"path": "a.txt", "encoding": "base64", "content": base64.b64encode(b"a").decode()}},
    )
    assert ok.status_code == 200
