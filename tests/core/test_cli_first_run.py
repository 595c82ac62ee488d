"""What a new user hits first on the command line (issue 20, items 4-9; issue 19, items 9-10 and 16).

Uses the in-process ``digits-cnn`` test plugin (``tests/engines/digits_plugin.py``): a two-conv classifier on
scikit-learn's digits that trains in a second.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import zoo
from zoo import discovery
from zoo.cli import main

DIGITS_PLUGIN = Path(__file__).resolve().parent.parent / "engines" / "digits_plugin.py"
ENV = dict(os.environ, OMP_NUM_THREADS="1")


@pytest.fixture()
def digits(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The ``digits-cnn`` test plugin, registered for one test."""
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "0")  # other plugins of the tree may be mid-edit
    spec = importlib.util.spec_from_file_location("zoo_tests_digits_plugin", DIGITS_PLUGIN)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    discovery.register_plugin(module, "digits_cnn_first_run")
    try:
        yield "digits-cnn"
    finally:
        discovery.unregister_plugin("digits_cnn_first_run")


def _train(out: Path, *extra: str) -> int:
    return main(["train", "digits-cnn", "--variant", "tiny", "--data", "digits", "--steps", "20", "--out", str(out),
                 "--no-progress", *extra])


@pytest.fixture()
def run(digits: str, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    assert _train(out) == 0
    return out


def _zoo(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True, timeout=300,
                          env=env or ENV, **kwargs)


# -- 4. random weights are never silent ---------------------------------------------------------------------------


def test_eval_and_infer_refuse_random_weights_unless_asked(digits: str, capsys) -> None:
    assert main(["eval", "digits-cnn", "--data", "digits"]) == 2
    err = capsys.readouterr().err
    assert "no weights given" in err and "--random-weights" in err and "--weights" in err
    assert main(["infer", "digits-cnn"]) == 2
    assert "no weights given" in capsys.readouterr().err
    assert main(["eval", "digits-cnn", "--data", "digits", "--random-weights", "--json"]) == 0
    captured = capsys.readouterr()
    assert "RANDOM weights" in captured.err
    assert list(json.loads(captured.out)) == ["digits-cnn-tiny (random weights)"]


# -- 7. infer prints a table; --json for machines -------------------------------------------------------------------


def test_infer_prints_a_table_and_json(run: Path, capsys) -> None:
    assert main(["infer", "digits-cnn", "--weights", str(run), "--index", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digits-cnn-tiny:") and "sample" in out and "probs" in out
    assert "Tensor(" not in out and "list of" not in out  # no tensor shapes, no escaped reprs
    assert main(["infer", "digits-cnn", "--weights", str(run), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "digits-cnn-tiny" and len(data["outputs"]["probs"][0]) == 10


def test_format_outputs_reads_like_a_table() -> None:
    import torch

    from zoo.cli._format import format_outputs

    text = format_outputs({"label": torch.tensor([2, 0]), "probs": torch.tensor([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]),
                           "classes": ["cat", "dog", "emu"], "table": "a  1\nb  2", "loss": 0.25,
                           "motion": torch.zeros(2, 3, 30, 151)})
    lines = text.splitlines()
    assert lines[0].split() == ["sample", "label", "probs"]
    assert lines[2].split()[:3] == ["0", "emu", "(2)"] and lines[3].split()[:3] == ["1", "cat", "(0)"]
    assert "table:\na  1\nb  2" in text and "loss: 0.25" in text
    assert "motion: array (2, 3, 30, 151) float32" in text


# -- 9 (19.9). weights of another variant are not relabelled -------------------------------------------------------


def test_weights_of_another_variant_are_refused_or_labelled(run: Path, capsys, monkeypatch) -> None:
    from zoo.cli import run as cli_run

    config = json.loads((run / "config.json").read_text())
    config["variant"] = "big"  # as if the folder held another variant's weights
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(Exception):  # noqa: B017 - the loader refuses an undeclared variant
        cli_run.load_model("digits-cnn-tiny", str(run))
    config["variant"] = "tiny"
    (run / "config.json").write_text(json.dumps(config))
    model, label = cli_run.load_model("digits-cnn", str(run), explicit_variant=False)
    assert label == "digits-cnn-tiny" and model.zoo.variant == "tiny"


def test_eval_named_variant_must_match_the_weights(tmp_path: Path, capsys) -> None:
    """``zoo eval sac-paper --weights DIR`` with tiny weights in DIR: refused, not evaluated as 'sac-paper'."""
    from zoo.errors import ConfigError

    folder = tmp_path / "w"
    zoo.save(zoo.build("fedavg-tiny"), folder)
    assert main(["eval", "fedavg-paper", "--data", "digits", "--weights", str(folder)]) == 2
    assert "holds fedavg-tiny weights, not fedavg-paper" in capsys.readouterr().err
    from zoo.cli.run import load_model

    with pytest.raises(ConfigError):
        load_model("fedavg-paper", str(folder))
    assert load_model("fedavg", str(folder), explicit_variant=False)[1] == "fedavg-tiny"


# -- 9. --out into an existing run; --resume says what it resumes; 19.10 the recipe recorded -------------------------


def test_out_into_an_existing_run_needs_overwrite_or_resume(run: Path, capsys) -> None:
    before = (run / "model.safetensors").read_bytes()
    assert _train(run) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (run / "model.safetensors").read_bytes() == before
    assert _train(run, "--overwrite", "--seed", "5") == 0
    assert "--overwrite: removing the previous run" in capsys.readouterr().err
    assert (run / "model.safetensors").read_bytes() != before
    assert _train(run, "--resume", "--checkpoint-every", "10") == 0
    assert "resuming" in capsys.readouterr().err or "no checkpoint" in capsys.readouterr().err


def test_resume_names_the_checkpoint(digits: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert main(["train", "digits-cnn", "--data", "digits", "--steps", "10", "--checkpoint-every", "5",
                 "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["train", "digits-cnn", "--data", "digits", "--steps", "20", "--out", str(out), "--resume",
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "resuming" in err and "step 10" in err and "step-00000010" in err


def test_config_json_records_the_run_as_it_ran(run: Path) -> None:
    config = json.loads((run / "config.json").read_text())
    assert config["config"]["steps"] == 150  # the variant's recipe says 150 ...
    assert config["training"] == {  # ... this run did 20, and says so
        "steps": 20, "seed": 0, "data": "digits",
        "command": "zoo train digits-cnn --variant tiny --data digits --steps 20 --seed 0",
    }
    assert "steps 20" in (run / "README.md").read_text()


def test_files_are_written_with_the_umask(run: Path) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    for name in ("config.json", "model.safetensors", "README.md", "metrics.json", "history.json"):
        assert stat.S_IMODE((run / name).stat().st_mode) == 0o666 & ~mask, name


# -- 5. a path is never sent to the hub; exit codes as documented -----------------------------------------------


def test_a_missing_folder_fails_at_once_without_the_network(tmp_path: Path, monkeypatch) -> None:
    import socket

    from zoo.errors import WeightsNotFoundError

    attempts: list = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, a: attempts.append(a))
    for target in ("./runs/cfor", str(tmp_path / "nope"), "runs/cfor/", "~/no/such/model"):
        with pytest.raises(WeightsNotFoundError, match="no such folder"):
            zoo.load(target)
    assert attempts == []


def test_cli_exit_codes_for_weights_and_hub_errors(tmp_path: Path, monkeypatch, capsys) -> None:
    assert main(["pull", "./runs/cfor"]) == 5
    assert "no such folder" in capsys.readouterr().err
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    assert main(["pull", "org/model@main"]) == 6
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "no such folder 'org/model'" not in err
    assert main(["eval", "fedavg", "--weights", "runs/fedavg"]) == 6  # a hub id form, asked of the hub ...
    assert "no such folder 'runs/fedavg'" in capsys.readouterr().err  # ... and the error says no folder either
    assert main(["pull", "org/sac-digits@4f0c...e2"]) == 5
    assert "not a valid revision" in capsys.readouterr().err


def test_typed_weights_errors_carry_repo_and_revision(tmp_path: Path, hub_endpoint, monkeypatch) -> None:
    from zoo import errors
    from zoo.weights.fetch import fetch
    from zoo.weights.records import WeightRef

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    assert not hasattr(errors, "EXIT_CODES")
    with pytest.raises(errors.WeightsNotFoundError) as info:
        fetch(WeightRef("tests/no-such-repo", "main"), "config.json")
    assert (info.value.repo, info.value.revision, info.value.exit_code) == ("tests/no-such-repo", "main", 5)
    hub_endpoint.api().create_repo("tests/typed-errors", exist_ok=True)
    with pytest.raises(errors.RevisionNotFoundError) as info:
        fetch(WeightRef("tests/typed-errors", "no-branch"), "config.json")
    assert info.value.revision == "no-branch"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(errors.OfflineError):
        fetch(WeightRef("tests/typed-errors", "main"), "config.json")
    assert errors.HubUnreachableError("x").exit_code == 6 and issubclass(errors.HubUnreachableError, errors.WeightsError)


def test_push_records_the_endpoint_it_used(hub_endpoint) -> None:
    pushed = zoo.push(zoo.build("fedavg-tiny"), "tests/endpoint-recorded")
    assert pushed.endpoint == hub_endpoint.endpoint


# -- 9. the small ones -------------------------------------------------------------------------------------------


def test_zoo_alone_is_a_usage_error(capsys) -> None:
    assert main([]) == 2
    assert "usage: zoo" in capsys.readouterr().err


def test_list_piped_keeps_names_whole_and_survives_a_closed_pipe(capsys) -> None:
    assert main(["list"]) == 0  # captured: stdout is not a terminal, as when piped
    lines = capsys.readouterr().out.splitlines()
    names = set(zoo.list_models())
    assert all(any(line.split()[:1] == [n] for line in lines) for n in names)  # each name whole, on one line
    closed = subprocess.run(f"{sys.executable} -m zoo list --json | head -1", shell=True, capture_output=True,
                            text=True, env=ENV, timeout=300)
    assert "Traceback" not in closed.stderr and "BrokenPipeError" not in closed.stderr


def test_list_variants_are_buildable_names_only(capsys) -> None:
    assert main(["list", "--variants", "--json"]) == 0
    names = json.loads(capsys.readouterr().out)
    planned = set(zoo.list_models(status="planned"))
    assert names and not set(names) & planned
    for name in names:
        zoo.get_config(name)  # each one resolves to a buildable variant


def test_doctor_and_list_count_the_same_entries(capsys) -> None:
    assert main(["list", "--json"]) == 0
    listed = len(json.loads(capsys.readouterr().out))
    main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["catalogue"]["listed"] == listed


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [("ZOO_KERNELS", "bogus", 2), ("ZOO_NUM_THREADS", "many", 2), ("ZOO_VERIFY", "sometimes", 2),
     ("HF_ENDPOINT", "hub.internal:8090", 2)],
)
def test_doctor_checks_settings_as_the_commands_do(setting: str, value: str, code: int, monkeypatch, capsys) -> None:
    monkeypatch.setenv(setting, value)
    assert main(["doctor", "--json"]) == code
    report = json.loads(capsys.readouterr().out)
    assert [s for s in report["settings"] if s["name"] == setting and s["problem"]]


def test_doctor_flags_triton_kernels_where_triton_cannot_run(monkeypatch, capsys) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("Triton can run here")
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    monkeypatch.setenv("ZOO_KERNELS", "triton")
    assert main(["doctor"]) == 7
    assert "BAD   ZOO_KERNELS" in capsys.readouterr().out
    monkeypatch.delenv("ZOO_KERNELS")
    main(["doctor"])
    assert "ok    ZOO_KERNELS" in capsys.readouterr().out


# -- 19.11. numpy inputs reach the plugin as tensors of the declared dtype -------------------------------------------


def test_numpy_inputs_are_converted_before_the_plugin_sees_them(digits: str) -> None:
    import numpy as np
    import torch

    model = zoo.build("digits-cnn-tiny", seed=0)
    image = np.random.default_rng(0).random((2, 1, 8, 8))  # float64, as numpy makes it
    out = zoo.infer(model, {"image": image})  # the plugin calls model(inputs["image"]): a numpy array would fail
    expected = zoo.infer(model, {"image": torch.as_tensor(image, dtype=torch.float32)})
    assert torch.equal(out["probs"], expected["probs"]) and out["probs"].dtype == torch.float32


# -- 10. threads: one intra-op thread by default (ZOO_NUM_THREADS), applied by the commands and put back after ------


def test_commands_run_on_the_configured_threads_and_put_them_back(monkeypatch, capsys) -> None:
    import torch

    from zoo import constants

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.delenv("ZOO_NUM_THREADS", raising=False)
    caller = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with constants.num_threads_applied() as count:
            assert count == constants.DEFAULT_NUM_THREADS == 1 == torch.get_num_threads()
        assert torch.get_num_threads() == 2
        monkeypatch.setenv("ZOO_NUM_THREADS", "3")
        with constants.num_threads_applied():
            assert torch.get_num_threads() == 3
        monkeypatch.setenv("ZOO_NUM_THREADS", "auto")  # torch's own choice: left alone
        with constants.num_threads_applied() as count:
            assert count is None and torch.get_num_threads() == 2
        monkeypatch.delenv("ZOO_NUM_THREADS")
        monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the OpenMP setting is honoured when zoo's is unset
        assert constants.num_threads() is None
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert main(["list", "--json"]) == 0  # an in-process command leaves the caller's threads and settings
        capsys.readouterr()
        assert torch.get_num_threads() == 2 and "OMP_NUM_THREADS" not in os.environ
    finally:
        torch.set_num_threads(caller)
