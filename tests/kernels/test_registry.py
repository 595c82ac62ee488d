"""The kernel registry: dispatch policy, report, and the public ops namespace."""
from __future__ import annotations

import json

import pytest
import torch

from zoo import kernels
from zoo.errors import ConfigError, KernelError
from zoo.kernels import ops

OPS = ("info_nce", "l2_topk", "group_modulation", "mix", "rot6d_to_matrix", "forward_kinematics", "geometric_losses",
       "quantile_loss", "mean_shift")
CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_every_op_has_a_reference_and_a_triton_implementation():
    assert tuple(kernels.list_ops()) == OPS
    for name in OPS:
        op = kernels.get_op(name)
        assert op.reference.name == "torch" and "triton" in op.fused
        assert callable(op.reference.load())
        assert callable(getattr(ops, name))


def test_policy_torch_always_uses_the_reference(monkeypatch):
    monkeypatch.setenv("ZOO_KERNELS", "torch")
    assert kernels.choose("mix", CUDA, torch.float32).implementation.name == "torch"


def test_policy_auto_uses_triton_only_on_cuda(monkeypatch):
    pytest.importorskip("triton")
    monkeypatch.setenv("ZOO_KERNELS", "auto")
    assert kernels.choose("info_nce", CPU, torch.float32).implementation.name == "torch"
    assert kernels.choose("info_nce", CUDA, torch.float32).implementation.name == "triton"
    # an unsupported dtype falls back to the reference instead of failing
    assert kernels.choose("l2_topk", CUDA, torch.float64).implementation.name == "torch"


def test_auto_without_triton_falls_back(monkeypatch):
    monkeypatch.setenv("ZOO_KERNELS", "auto")
    monkeypatch.setattr(kernels.registry, "_triton_import_error", lambda: "ImportError: no triton")
    choice = kernels.choose("mix", CUDA, torch.float32)
    assert choice.implementation.name == "torch" and "not importable" in choice.reason


def test_forced_triton_raises_when_it_cannot_run(monkeypatch):
    pytest.importorskip("triton")
    monkeypatch.setenv("ZOO_KERNELS", "triton")
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.raises(KernelError, match="TRITON_INTERPRET"):
        ops.mix(torch.ones(1, 2), torch.ones(2, 3))
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    with pytest.raises(KernelError, match="float64"):
        ops.l2_topk(torch.zeros(2, 3, dtype=torch.float64), torch.zeros(4, 3, dtype=torch.float64), 1)


def test_bad_policy_is_a_config_error(monkeypatch):
    monkeypatch.setenv("ZOO_KERNELS", "fastest")
    with pytest.raises(ConfigError, match="ZOO_KERNELS"):
        ops.info_nce(torch.zeros(2, 3), 1.0)


def test_unknown_op():
    with pytest.raises(KernelError, match="registered ops"):
        kernels.get_op("softmax")


def test_report_says_what_each_op_uses(monkeypatch):
    monkeypatch.setenv("ZOO_KERNELS", "auto")
    assert kernels.report(device="cpu") == {name: "torch" for name in OPS}
    rows = kernels.report_details(device="cpu")
    assert list(rows) == list(OPS)
    for row in rows.values():
        assert row["implementation"] == "torch" and row["implementations"] == ["torch", "triton"]
        assert row["policy"] == "auto" and "cpu" in row["reason"]
    json.dumps(rows)  # JSON-friendly for `zoo doctor --json`
    monkeypatch.setenv("ZOO_KERNELS", "triton")
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert set(kernels.report(device="cpu").values()) == {"unavailable"}
    forced = kernels.report_details(device="cpu")
    assert all("TRITON_INTERPRET" in row["reason"] for row in forced.values())
    assert "uses" in kernels.format_report(forced)
