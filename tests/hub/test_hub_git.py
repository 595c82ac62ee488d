"""`git clone` of a hub repo with the real `git` and `git-lfs` binaries: the hub's commit ids are git's, LFS files
are pointer files that `git lfs` resolves through the batch API; imports with fixed metadata are reproducible."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

hf = pytest.importorskip("huggingface_hub")
pytest.importorskip("dulwich")

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="the git binary is not installed")


def _git(*args: str, cwd=None, env=None) -> str:
    out = subprocess.run([GIT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture
def git_env(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path / "home"), "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    (tmp_path / "home").mkdir()
    return env


def test_git_clone_shows_the_hub_commits_and_lfs_files(hub_endpoint, unique_repo, tmp_path, git_env):
    api = hub_endpoint.api()
    repo_id = unique_repo("git")
    api.create_repo(repo_id)
    api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="docs/readme.txt", repo_id=repo_id)
    weights = os.urandom(1024 * 1024 + 17)  # LFS
    head = api.upload_file(path_or_fileobj=weights, path_in_repo="model.bin", repo_id=repo_id).oid
    api.create_tag(repo_id, tag="v1")
    hub_ids = [c.commit_id for c in api.list_repo_commits(repo_id)]
    env = {**git_env, "GIT_LFS_SKIP_SMUDGE": "1"}
    clone = tmp_path / "clone"
    _git("clone", "-q", f"{hub_endpoint.endpoint}/{repo_id}", str(clone), env=env)
    assert _git("log", "--format=%H", cwd=clone, env=env).split() == hub_ids
    assert _git("rev-parse", "v1", cwd=clone, env=env).strip() == head
    _git("fsck", "--strict", cwd=clone, env=env)
    assert (clone / "docs" / "readme.txt").read_bytes() == b"hello\n"
    pointer = (clone / "model.bin").read_text()
    assert pointer.startswith("version https://git-lfs.github.com/spec/v1") and f"size {len(weights)}" in pointer
    if shutil.which("git-lfs") is None:
        pytest.skip("git-lfs is not installed: clone checked with pointer files only")
    _git("lfs", "install", "--local", cwd=clone, env=git_env)
    _git("lfs", "pull", cwd=clone, env=git_env)
    assert (clone / "model.bin").read_bytes() == weights
    # the .git suffix works too, and pushing is not offered
    _git("clone", "-q", f"{hub_endpoint.endpoint}/{repo_id}.git", str(tmp_path / "again"), env=env)
    push = subprocess.run([GIT, "push", "origin", "HEAD:main"], cwd=clone, env=env, capture_output=True, timeout=60)
    assert push.returncode != 0


def test_import_with_fixed_metadata_gives_the_same_commit_on_any_hub(tmp_path, git_env, capsys):
    from zoo.cli import main

    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "config.json").write_text('{"width": 4}\n')
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * 40)
    ids = []
    for hub in ("one", "two"):
        args = ["hub", "import", str(folder), "zoo/tiny", "--root", str(tmp_path / hub),
                "--date", "2025-01-01T00:00:00Z", "--author", "zoo", "--message", "tiny weights v1"]
        assert main(args) == 0
        ids.append(capsys.readouterr().out.split()[-1])
    assert ids[0] == ids[1] and len(ids[0]) == 40
    # and it is the id git computes for that tree, parent, author, date and message
    from zoo.testing.hub import start_hub_server

    server = start_hub_server(tmp_path / "one")
    try:
        clone = tmp_path / "clone"
        _git("clone", "-q", f"{server.endpoint}/zoo/tiny", str(clone), env={**git_env, "GIT_LFS_SKIP_SMUDGE": "1"})
        _git("fsck", "--strict", cwd=clone, env=git_env)
        assert _git("rev-parse", "HEAD", cwd=clone, env=git_env).strip() == ids[0]
        assert _git("log", "-1", "--format=%an <%ae> %at %s", cwd=clone, env=git_env).strip() == (
            "zoo <zoo@zoo-hub> 1735689600 tiny weights v1"
        )
    finally:
        server.stop()
