"""Hub API routes the real client uses beyond plain uploads: model cards and metadata (no token for
validate-yaml), tree listings with last commits, formatted history, listing filters and sorting, `hf repos ls`,
preupload following .gitattributes and the client's sample, and client disconnects logged as such."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time

import pytest

hf = pytest.importorskip("huggingface_hub")
httpx2 = pytest.importorskip("httpx2")

from huggingface_hub import ModelCard, metadata_update


@pytest.fixture
def api(hub_endpoint):
    return hub_endpoint.api()


def test_model_card_push_and_metadata_update(api, hub_endpoint, unique_repo):
    repo_id = unique_repo("card")
    api.create_repo(repo_id)
    card = ModelCard("---\nlicense: mit\ntags: [vision]\nlibrary_name: zoo\n---\n# A card\n")
    card.push_to_hub(repo_id)  # validate-yaml is called without a token by the client
    metadata_update(repo_id, {"pipeline_tag": "image-classification"})
    info = api.model_info(repo_id)
    assert info.card_data["license"] == "mit" and info.pipeline_tag == "image-classification"
    bad = httpx2.post(f"{hub_endpoint.endpoint}/api/validate-yaml", json={"content": "---\n[x\n---\n"})
    assert bad.status_code == 200 and bad.json()["errors"]


def test_tree_expand_formatted_commits_and_listing_filters(api, hub_endpoint, unique_repo):
    repo_id = unique_repo("expand")
    api.create_repo(repo_id)
    first = api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id=repo_id, commit_message="add a")
    second = api.upload_file(
        path_or_fileobj=b"b", path_in_repo="sub/b.txt", repo_id=repo_id, commit_message="add <b>",
        commit_description="first line\nsecond & <i>third</i>\n\nnext paragraph",
    )
    entries = {e.path: e for e in api.list_repo_tree(repo_id, expand=True)}
    assert entries["a.txt"].last_commit.oid == first.oid
    assert entries["sub"].last_commit.oid == second.oid and entries["sub"].last_commit.title == "add <b>"
    [latest, *_] = api.list_repo_commits(repo_id, formatted=True)
    assert latest.formatted_title == "add &lt;b&gt;"
    assert latest.formatted_message == "<p>first line<br>second &amp; &lt;i&gt;third&lt;/i&gt;</p><p>next paragraph</p>"
    tagged = unique_repo("tagged")
    api.create_repo(tagged)
    api.upload_file(path_or_fileobj=b"---\ntags: [zoo-filter-x]\nlibrary_name: zoo\n---\n", path_in_repo="README.md",
                    repo_id=tagged)
    assert [m.id for m in api.list_models(filter="zoo-filter-x")] == [tagged]
    assert [m.id for m in api.list_models(filter=["zoo-filter-x", "zoo"])] == [tagged]
    assert list(api.list_models(filter=["zoo-filter-x", "nope"])) == []
    newest = [m.id for m in api.list_models(author="zoo-tests", sort="last_modified", limit=2)]
    assert newest[0] == tagged
    oldest = [m.id for m in api.list_models(author="zoo-tests", sort="created_at")]
    assert oldest.index(tagged) < oldest.index(repo_id)  # descending by creation date


def test_hf_repos_ls(hub_endpoint, unique_repo, tmp_path):
    api = hub_endpoint.api()
    repo_id = unique_repo("repos-ls")
    api.create_repo(repo_id, private=True)
    api.upload_file(path_or_fileobj=b"12345", path_in_repo="x.txt", repo_id=repo_id)
    listed = {r.id: r for r in api.list_user_repos()}  # GET /api/settings/repositories
    assert listed[repo_id].visibility == "private" and listed[repo_id].storage > 5
    hf_cli = os.path.join(os.path.dirname(sys.executable), "hf")
    env = {**os.environ, "HF_ENDPOINT": hub_endpoint.endpoint, "HF_TOKEN": hub_endpoint.token,
           "HF_HOME": str(tmp_path / "hf-home")}
    out = subprocess.run([hf_cli, "repos", "ls", "--format", "json", "--limit", "0"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert repo_id in {item["id"] for item in json.loads(out.stdout)}


def test_preupload_follows_gitattributes_and_the_sample(api, hub_endpoint, unique_repo):
    repo_id = unique_repo("modes")
    api.create_repo(repo_id)
    api.upload_file(path_or_fileobj=b"*.ckpt filter=lfs diff=lfs merge=lfs -text\nweights/** filter=lfs\n",
                    path_in_repo=".gitattributes", repo_id=repo_id)
    files = [
        {"path": "notes.txt", "sample": "aGVsbG8=", "size": 5},
        {"path": "model.ckpt", "sample": "aGVsbG8=", "size": 5},
        {"path": "weights/deep/x.txt", "sample": "aGVsbG8=", "size": 5},
        {"path": "raw.dat", "sample": "AAECAw==", "size": 4},  # a NUL byte: binary
    ]
    r = httpx2.post(f"{hub_endpoint.endpoint}/api/models/{repo_id}/preupload/main",
                    headers={"Authorization": f"Bearer {hub_endpoint.token}"}, json={"files": files})
    assert [f["uploadMode"] for f in r.json()["files"]] == ["regular", "lfs", "lfs", "lfs"]


def test_client_disconnect_is_logged_as_such(hub_endpoint, unique_repo, caplog):
    caplog.set_level(logging.INFO)
    repo_id = unique_repo("gone")
    api = hub_endpoint.api()
    api.create_repo(repo_id)
    host, port = hub_endpoint.endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        head = (
            f"POST /api/models/{repo_id}/commit/main HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            f"{hub_endpoint.token}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"key": "header", "value": {"summary": "cut"}}\n{"key": "file"')
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    while not any("client disconnected" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server_errors = [r for r in caplog.records if r.name == "zoo.hub.server" and r.levelno >= logging.ERROR]
    assert server_errors == [] and not any(r.exc_info for r in caplog.records if r.name.startswith("zoo.hub"))
    assert api.list_repo_files(repo_id) == [".gitattributes"]
