"""Pinned, cache-first loading from a seeded hub cache: zero network, lock file, registry records, tampering,
quarantine, the verification memo, and the ``zoo lock`` / ``zoo cache`` commands."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
import yaml

import zoo
from zoo.cli import main
from zoo.errors import IntegrityError, LicenseNotAcceptedError, WeightsError
from zoo.testing.hfcache import seed_cache
from zoo.weights import integrity
from zoo.weights.lockfile import read_lock

from .conftest import trained_protonet

REPO = "org/protonet"


@pytest.fixture
def seeded(weights_env, protonet):
    """protonet-tiny saved and laid out in the hub cache as org/protonet@<commit> (no hub involved)."""
    saved = zoo.save(protonet, weights_env / "m")
    snapshot = seed_cache(weights_env / "hf-cache", REPO, weights_env / "m")
    return {"commit": snapshot.name, "snapshot": snapshot, "sha256": saved.sha256, "size": saved.size}


def _registry(path: Path, commit: str, sha256: str, size: int, license_id: str = "MIT") -> Path:
    doc = {
        "schema_version": 1,
        "methods": [
            {
                "id": "T1",
                "name": "protonet",
                "title": "ProtoNet (test record)",
                "source": "tests",
                "task": "classification",
                "status": "implemented",
                "plugin": "protonet",
                "license": license_id,
                "variants": ["tiny"],
                "weights": [
                    {
                        "tag": "digits",
                        "variant": "tiny",
                        "repo": REPO,
                        "revision": commit,
                        "file": "model.safetensors",
                        "sha256": sha256,
                        "size": size,
                        "license": license_id,
                        "metrics": {"digits": {"accuracy": 0.9}},
                    }
                ],
            }
        ],
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def _blob(snapshot: Path) -> Path:
    return Path(os.path.realpath(snapshot / "model.safetensors"))


def test_pinned_cached_load_makes_no_network_call(seeded, protonet, image, no_network):
    assert "HF_HUB_OFFLINE" not in os.environ
    loaded = zoo.load(f"{REPO}@{seeded['commit']}")
    assert torch.equal(loaded(image), protonet(image))
    assert loaded.record.revision == seeded["commit"] and loaded.record.sha256 == seeded["sha256"]
    assert no_network == []


def test_a_branch_is_resolved_on_the_hub_first(seeded, no_network, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    loaded = zoo.load(f"{REPO}@main")
    assert any("not pinned" in note for note in loaded.notes)
    assert no_network  # a branch is asked of the hub (refused here) ...
    assert loaded.record.revision == seeded["commit"]  # ... then huggingface_hub falls back to the cached ref
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsError, match="HF_HUB_OFFLINE"):
        zoo.load("org/never-cached@main")


def test_registry_record_resolves_and_verifies(seeded, weights_env, monkeypatch, protonet, image, no_network):
    monkeypatch.setenv(
        "ZOO_REGISTRY",
        str(_registry(weights_env / "reg.yaml", seeded["commit"], seeded["sha256"], seeded["size"])),
    )
    for name in ("protonet-tiny", "protonet-tiny.digits", "protonet"):
        loaded = zoo.load(name)
        assert loaded.record.source == "registry" and torch.equal(loaded(image), protonet(image))
    assert no_network == []


def test_locking_a_registry_name_copies_the_record_without_a_download(
    seeded, weights_env, monkeypatch, no_network
):
    monkeypatch.setenv(
        "ZOO_REGISTRY",
        str(_registry(weights_env / "reg.yaml", seeded["commit"], seeded["sha256"], seeded["size"])),
    )
    entries = zoo.weights.lock(["protonet-tiny.digits"])
    assert (
        read_lock()["protonet-tiny.digits"].to_lock()
        == entries["protonet-tiny.digits"].to_lock()
        == {
            "repo": REPO,
            "commit": seeded["commit"],
            "file": "model.safetensors",
            "sha256": seeded["sha256"],
            "size": seeded["size"],
            "license": "MIT",
        }
    )
    assert zoo.load("protonet-tiny.digits").record.source == "lock"
    assert no_network == []


def test_wrong_record_digest_is_an_integrity_error_and_the_blob_is_quarantined(
    seeded, weights_env, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    wrong = "0" * 64
    monkeypatch.setenv(
        "ZOO_REGISTRY", str(_registry(weights_env / "reg.yaml", seeded["commit"], wrong, seeded["size"]))
    )
    blob = _blob(seeded["snapshot"])
    with pytest.raises(IntegrityError) as info:
        zoo.load("protonet-tiny")
    message = str(info.value)
    assert "model.safetensors" in message and wrong in message and seeded["sha256"] in message
    assert "quarantined" in message
    assert not blob.exists()
    moved = list((weights_env / "zoo-home" / "quarantine").iterdir())
    assert len(moved) == 1 and moved[0].name.endswith(seeded["sha256"])


def test_one_tampered_byte_is_detected_even_after_a_verified_load(seeded, weights_env, monkeypatch):
    ref = f"{REPO}@{seeded['commit']}"
    zoo.load(ref)  # hashed once, memo written
    blob = _blob(seeded["snapshot"])
    stat = blob.stat()
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # hide the write from mtime: ctime still changes
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(IntegrityError, match="quarantined"):
        zoo.load(ref)
    assert not blob.exists() and len(list((weights_env / "zoo-home" / "quarantine").iterdir())) == 1


def test_warm_loads_reuse_the_digest_until_the_file_changes(seeded, monkeypatch):
    calls: list[str] = []
    real = integrity.hash_file

    def counting(path, algos=("sha256",)):
        calls.append(Path(path).name)
        return real(path, algos)

    monkeypatch.setattr(integrity, "hash_file", counting)
    ref = f"{REPO}@{seeded['commit']}"
    zoo.load(ref)
    first = calls.count(seeded["sha256"])
    zoo.load(ref)
    assert first == 1 and calls.count(seeded["sha256"]) == 1  # weights not re-hashed on a warm load
    zoo.load(ref, verify="full")
    assert calls.count(seeded["sha256"]) == 2
    os.utime(_blob(seeded["snapshot"]))
    zoo.load(ref)
    assert calls.count(seeded["sha256"]) == 3


def test_zoo_lock_pins_and_load_honours_it(seeded, weights_env, protonet, image, no_network, capsys):
    ref = f"{REPO}@{seeded['commit']}"
    assert main(["lock", ref]) == 0
    entries = json.loads((weights_env / "zoo.lock").read_text())
    assert entries["version"] == 1
    assert entries["weights"][ref] == {
        "repo": REPO,
        "commit": seeded["commit"],
        "file": "model.safetensors",
        "sha256": seeded["sha256"],
        "size": seeded["size"],
        "license": "MIT",
        "variant": "tiny",
    }
    loaded = zoo.load(ref)
    assert loaded.record.source == "lock" and torch.equal(loaded(image), protonet(image))
    assert no_network == []


def test_lock_entry_for_a_name_takes_precedence_over_the_registry(seeded, weights_env, monkeypatch, image):
    other = trained_protonet(seed=7)
    zoo.save(other, weights_env / "other")
    snap = seed_cache(weights_env / "hf-cache", "org/protonet-v2", weights_env / "other")
    monkeypatch.setenv(
        "ZOO_REGISTRY",
        str(_registry(weights_env / "reg.yaml", seeded["commit"], seeded["sha256"], seeded["size"])),
    )
    zoo.weights.lock([f"org/protonet-v2@{snap.name}"])
    locked = read_lock()[f"org/protonet-v2@{snap.name}"]
    # hand-edit: pin the catalogue name to the v2 weights
    doc = json.loads((weights_env / "zoo.lock").read_text())
    doc["weights"]["protonet-tiny"] = doc["weights"].pop(f"org/protonet-v2@{snap.name}")
    (weights_env / "zoo.lock").write_text(json.dumps(doc))
    loaded = zoo.load("protonet-tiny")
    assert loaded.record.source == "lock" and loaded.record.sha256 == locked.sha256
    assert torch.equal(loaded(image), other(image))


def test_non_commercial_record_needs_acceptance_before_download(seeded, weights_env, monkeypatch):
    monkeypatch.setenv(
        "ZOO_REGISTRY",
        str(
            _registry(
                weights_env / "reg.yaml",
                seeded["commit"],
                seeded["sha256"],
                seeded["size"],
                license_id="CC-BY-NC-4.0",
            )
        ),
    )
    with pytest.raises(LicenseNotAcceptedError, match="CC-BY-NC-4.0"):
        zoo.load("protonet-tiny")
    assert zoo.load("protonet-tiny", accept_license="CC-BY-NC-4.0").record.license == "CC-BY-NC-4.0"


def test_cache_commands_list_verify_and_remove(seeded, weights_env, capsys):
    ref = f"{REPO}@{seeded['commit']}"
    zoo.load(ref)
    assert main(["cache", "ls", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    weights = [r for r in rows if r["file"] == "model.safetensors"]
    assert len(weights) == 1 and weights[0]["verified"] and weights[0]["commit"] == seeded["commit"]
    assert main(["cache", "verify"]) == 0
    assert "0 failed" in capsys.readouterr().out
    blob = _blob(seeded["snapshot"])
    data = bytearray(blob.read_bytes())
    data[100] ^= 0x10
    blob.write_bytes(bytes(data))
    assert main(["cache", "verify", "--quarantine"]) == 5
    out = capsys.readouterr().out
    assert "BAD" in out and seeded["sha256"] in out and "quarantined" in out
    assert main(["cache", "rm", REPO]) == 0
    assert not (weights_env / "hf-cache" / "models--org--protonet").exists()


def test_a_corrupted_cached_config_is_detected_too(seeded, weights_env, monkeypatch):
    config = Path(os.path.realpath(seeded["snapshot"] / "config.json"))
    text = config.read_text().replace('"channels": 16', '"channels": 17')
    config.write_text(text)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(IntegrityError) as info:
        zoo.load(f"{REPO}@{seeded['commit']}")
    assert (
        "config.json" in str(info.value) and "git-sha1" in str(info.value) and config.name in str(info.value)
    )
    assert not config.exists()  # moved to quarantine, not deleted
    assert len(list((weights_env / "zoo-home" / "quarantine").iterdir())) == 1
