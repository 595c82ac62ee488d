"""Users, organisations and scoped tokens (`zoo hub users|orgs|tokens`), checked on every write route with the real
huggingface_hub client."""

from __future__ import annotations

import time

import pytest

hf = pytest.importorskip("huggingface_hub")
httpx2 = pytest.importorskip("httpx2")

from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from zoo.cli import main
from zoo.hub.server.accounts import Accounts, token_digest
from zoo.hub.server.storage import Storage


@pytest.fixture
def team(tmp_path, capsys):
    """A hub with users alice (member of org lab) and bob, and tokens created through the CLI."""
    from zoo.testing.hub import start_hub_server

    root = tmp_path / "root"
    for args in (
        ["users", "add", "alice"],
        ["users", "add", "bob"],
        ["orgs", "add", "lab"],
        ["orgs", "add-member", "lab", "alice"],
        ["orgs", "add-member", "lab", "bob", "--role", "read"],
    ):
        assert main(["hub", *args, "--root", str(root)]) == 0
    tokens = {}
    for key, args in {
        "alice": ["alice", "--scope", "write"],
        "alice_read": ["alice", "--scope", "read"],
        "alice_one_repo": ["alice", "--scope", "write", "--repo", "alice/only"],
        "bob": ["bob", "--scope", "write"],
    }.items():
        capsys.readouterr()
        assert main(["hub", "tokens", "create", *args, "--root", str(root)]) == 0
        tokens[key] = capsys.readouterr().out.strip()
    server = start_hub_server(root)
    yield server, tokens
    server.stop()


def _status(call) -> int:
    with pytest.raises(HfHubHTTPError) as info:
        call()
    return info.value.response.status_code


def test_namespaces_belong_to_their_owner_and_members(team):
    server, tokens = team
    alice, bob = server.api(tokens["alice"]), server.api(tokens["bob"])
    # a repo id without namespace goes to the token's user, as on the Hub
    url = alice.create_repo("no-namespace", private=True)
    assert url.repo_id == "alice/no-namespace"
    alice.upload_file(path_or_fileobj=b"mine", path_in_repo="a.txt", repo_id="alice/no-namespace")
    alice.create_repo("lab/shared")  # a writing member of the organisation
    alice.upload_file(path_or_fileobj=b"lab", path_in_repo="a.txt", repo_id="lab/shared")
    assert {o["name"] for o in alice.whoami()["orgs"]} == {"lab"}
    # bob may neither create in alice's or lab's namespace (read member) nor write or delete there
    assert _status(lambda: bob.create_repo("alice/evil")) == 403
    assert _status(lambda: bob.create_repo("lab/evil")) == 403
    for repo in ("lab/shared",):
        assert _status(lambda: bob.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id=repo)) == 403
        assert _status(lambda: bob.delete_repo(repo)) == 403
        assert _status(lambda: bob.create_branch(repo, branch="evil")) == 403
        assert _status(lambda: bob.update_repo_settings(repo, private=True)) == 403
    # alice's private repo does not exist for bob nor for anonymous callers; org members read org repos
    with pytest.raises(RepositoryNotFoundError):
        bob.model_info("alice/no-namespace")
    with pytest.raises(RepositoryNotFoundError):
        server.api(False).model_info("alice/no-namespace")
    alice.update_repo_settings("lab/shared", private=True)
    assert bob.model_info("lab/shared").private is True  # read member
    assert _status(lambda: bob.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id="lab/shared")) == 403
    # an administrator token (token file) still writes everywhere, as before
    server.api().upload_file(path_or_fileobj=b"admin", path_in_repo="b.txt", repo_id="alice/no-namespace")
    assert alice.list_repo_files("alice/no-namespace") == [".gitattributes", "a.txt", "b.txt"]


def test_token_scopes_limits_expiry_and_revocation(team):
    server, tokens = team
    alice = server.api(tokens["alice"])
    alice.create_repo("alice/only")
    alice.create_repo("alice/other", private=True)
    reader = server.api(tokens["alice_read"])
    assert reader.model_info("alice/other").private is True  # read scope reads private repos of its user
    assert _status(lambda: reader.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id="alice/only")) == 403
    assert _status(lambda: reader.create_repo("alice/new")) == 403
    limited = server.api(tokens["alice_one_repo"])
    limited.upload_file(path_or_fileobj=b"ok", path_in_repo="ok.txt", repo_id="alice/only")
    assert _status(lambda: limited.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id="alice/other")) == 404
    assert _status(lambda: limited.create_repo("alice/third")) == 403
    storage = Storage(server.root)
    try:
        accounts = Accounts(storage)
        token_id, expiring = accounts.create_token("alice", scope="write", expires_at=time.time() - 1)
        raw = (server.root / "hub.sqlite").read_bytes() + b"".join(
            p.read_bytes() for p in server.root.glob("hub.sqlite-*")
        )
        for token in (*tokens.values(), expiring):  # only digests are stored
            assert token.encode() not in raw
        assert storage._conn().execute("SELECT count(*) FROM tokens WHERE digest=?", (token_digest(expiring),)).fetchone() == (1,)
        headers = {"Authorization": f"Bearer {expiring}"}
        assert httpx2.get(f"{server.endpoint}/api/whoami-v2", headers=headers).status_code == 401
        [info] = [t for t in accounts.list_tokens("alice") if t.scope == "read"]
        assert main(["hub", "tokens", "revoke", info.id, "--root", str(server.root)]) == 0
    finally:
        storage.close()
    with pytest.raises(HfHubHTTPError) as denied:  # revocation takes effect at once, server still running
        reader.model_info("alice/other")
    assert denied.value.response.status_code == 401
    assert main(["hub", "tokens", "create", "nobody", "--root", str(server.root)]) != 0
