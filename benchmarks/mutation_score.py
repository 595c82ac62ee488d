"""Mutation score of a plugin's defining modules: break the method on purpose, one small change at a time, and
count how many of the breaks a test notices.

Run (from the repository root)::

    nice -n 15 .venv/bin/python benchmarks/mutation_score.py gcd
    nice -n 15 .venv/bin/python benchmarks/mutation_score.py gcd --modules plugins/gcd/losses.py::gcd_loss \\
        --tests plugins/gcd/tests/test_gcd.py --timeout 120
    .venv/bin/python benchmarks/mutation_score.py gcd --list          # the mutants, without running anything

What it does (``docs/mutation.md`` explains it for plugin authors):

1. **Mutants.** Each defining module (or only the functions named after ``::``) is parsed with :mod:`ast`; every
   place where a small change alters the mathematics gives one mutant: arithmetic swaps (``+``/``-``, ``*``/``/``,
   ``**`` -> ``*``, ``&``/``|``), dropped terms (``a + b`` -> ``a``, ``a * b`` -> ``a`` or ``b``, ``a / b`` -> ``a``),
   comparison swaps (``<``/``<=``, ``==``/``!=``, ...), ``and``/``or``, dropped signs and negations (``-x`` -> ``x``,
   ``not c`` -> ``c``, ``~m`` -> ``m``), constants (``k`` -> ``k + 1``, ``x`` -> ``x + 1.0``, ``True``/``False``),
   negated ``if`` conditions, dropped ``.detach()``/``.clamp_min()``/``.clamp()``/``.abs()``/``.sqrt()``, and
   reduction swaps (``mean``/``sum``, ``max``/``min``, ``amax``/``amin``, ``argmax``/``argmin``). Not mutated:
   docstrings, strings, annotations, error messages (``raise``), guard clauses (``if bad: raise``), ``assert``,
   ``warnings.warn``/``print``/logger calls, ``logs[...] = ...`` bookkeeping and lines marked
   ``# pragma: no mutate``.
2. **Which tests.** One baseline run of the given tests, unmutated and traced (``sys.settrace`` restricted to the
   mutated files), records which test executes which line and how long each test takes. A mutant then runs only
   the tests that execute its line (lines run while a module- or session-scoped fixture is set up count for
   every test using that fixture), fastest first, with ``-x``. A mutant on a line no test executes is reported as ``uncovered`` (a survivor).
3. **Isolation.** Nothing is written to the source tree: a forked child process installs an import hook that
   compiles the mutated syntax tree in place of the module (same file name, same line numbers) and runs pytest.
   Ctrl-C, a crash or a timeout can therefore never leave a modified file behind, and other people working in the
   same tree never see a mutant. Each mutant has a time limit; a child that exceeds it is killed (with its
   process group) and the mutant counts as killed (``timeout``).

Outcome per mutant: ``killed`` (a test failed or errored), ``timeout`` (killed), ``survived`` (every selected
test passed), ``uncovered`` (survived: no test runs the line), ``invalid`` (did not compile) or ``error`` (a
selected test no longer exists: tests were renamed after the baseline); the last two are not counted.
The score is killed / (killed + survived + uncovered).
"""
from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import importlib.abc
import importlib.util
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Defining modules (losses, update/aggregation rules, attention/fusion) and tests of each implemented method.
#: ``path::name,name`` restricts a module to some functions or classes (``Class.method`` or ``Class``).
DEFAULTS: dict[str, dict[str, list[str]]] = {
    "gcd": {
        "modules": ["plugins/gcd/losses.py",
                    "plugins/gcd/model.py::GroupModulation,FiLM,MappingNetwork.forward,GroupDenoiser.group_embedding,"
                    "ContrastiveEncoder.readout,masked_mean",
                    "plugins/gcd/infer.py::_guidance_grad,_predict",
                    "zoo/dance/metrics.py::pfc,beat_alignment"],
        "tests": ["plugins/gcd/tests"],
    },
    "gdancer": {
        "modules": ["plugins/gdancer/losses.py",
                    "plugins/gdancer/model.py::spatial_encoding,CrossEntityAttention,GDanceR.initial_poses,"
                    "GDanceR.fuse_and_decode,GDanceR.teacher_forced,GDanceR.generate,GDanceR._tau"],
        "tests": ["plugins/gdancer/tests"],
    },
    "glamor_net": {
        "modules": ["plugins/glamor_net/model.py::GlobalLocalAttention,AdaptiveFusion,GlamorNet.forward",
                    "plugins/glamor_net/train.py::make_loss_fn"],
        "tests": ["plugins/glamor_net/tests"],
    },
    "ldl_va": {
        "modules": ["plugins/ldl_va/losses.py", "plugins/ldl_va/model.py::Calibration",
                    "plugins/ldl_va/train.py::make_step_fn,LDLVATraining"],
        "tests": ["plugins/ldl_va/tests"],
    },
    "fl_baselines": {  # FedAvg / FedProx / SCAFFOLD: their rules and the engine's aggregation and prox rule
        "modules": ["plugins/fl_baselines/algorithms.py",
                    "zoo/engines/federated/aggregators.py::weighted_mean,WeightedFedAvg",
                    "zoo/engines/federated/local.py::ProxRule"],
        "tests": ["plugins/fl_baselines/tests"],
    },
    "multigraph_fl": {
        "modules": ["plugins/multigraph_fl/delay.py", "plugins/multigraph_fl/multigraph.py"],
        "tests": ["plugins/multigraph_fl/tests"],
    },
    "driving": {  # FADNet and CDL
        "modules": ["plugins/driving/losses.py",
                    "plugins/driving/train.py::step_loss,CDLFirstRound,DrivingAlgorithm",
                    "plugins/driving/model.py::SupportBranch,Accumulation,FADNet,CDLNet",
                    "plugins/driving/topology.py::ring_adjacency,fedavg_matrix"],
        "tests": ["plugins/driving/tests"],
    },
    "local_learning": {  # AugLocal and MAN
        "modules": ["plugins/local_learning/aux.py",
                    "plugins/local_learning/model.py::auglocal_boundaries,update_momentum_copies,layer_stage"],
        "tests": ["plugins/local_learning/tests"],
    },
    "cfor": {
        "modules": ["plugins/cfor/losses.py", "plugins/cfor/search.py", "plugins/cfor/thresholds.py"],
        "tests": ["plugins/cfor/tests"],
    },
    "sac": {
        "modules": ["plugins/sac/model.py::LowRankBilinearAttention,JointHead,ResidualHead,SACModel.forward,fuse",
                    "plugins/sac/losses.py", "plugins/sac/dropping.py"],
        "tests": ["plugins/sac/tests"],
    },
    "anmmf": {  # the multiplicative updates and the objective (Eq. 5, 11, 14)
        "modules": ["plugins/anmmf/losses.py::update_u,update_v,objective,hsic_linear,diversity_kernel,centering"],
        "tests": ["plugins/anmmf/tests"],
    },
    "emmf": {"modules": ["plugins/emmf/losses.py"], "tests": ["plugins/emmf/tests"]},
    "fpsora": {"modules": ["plugins/fpsora/losses.py"], "tests": ["plugins/fpsora/tests"]},
    "hybrid_hgcn": {"modules": ["plugins/hybrid_hgcn/model.py"], "tests": ["plugins/hybrid_hgcn/tests"]},
    "anc": {  # neuron vectors, mean-shift clustering and the merge
        "modules": ["plugins/anc/compress.py::cluster_neurons,merged_weights,sum_inputs,neuron_vectors,"
                    "fold_batch_norm"],
        "tests": ["plugins/anc/tests"],
    },
    "sarg": {
        "modules": ["plugins/sarg/losses.py",
                    "plugins/sarg/model.py::relation_graph,extract_subgraph,top_rank,RelationBranch.forward,"
                    "SARG.scene,SARG.forward"],
        "tests": ["plugins/sarg/tests"],
    },
}


# ==================================================================================================== mutants
@dataclasses.dataclass(frozen=True)
class Mutant:
    """One small change: ``node`` is the index of the changed node in ``ast.walk`` order of the module."""

    path: str
    module: str
    node: int
    op: str
    line: int
    function: str
    before: str
    after: str

    @property
    def key(self) -> str:
        """A stable name: ``path:line:op:node``."""
        return f"{self.path}:{self.line}:{self.op}:{self.node}"


_BIN_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult,),
    ast.FloorDiv: (ast.Div,), ast.Pow: (ast.Mult,), ast.Mod: (ast.FloorDiv,), ast.MatMult: (ast.Mult,),
    ast.BitAnd: (ast.BitOr,), ast.BitOr: (ast.BitAnd,),
}
_CMP_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}
_DROPPED_CALLS = {"detach", "clamp_min", "clamp", "abs", "sqrt"}
_SWAPPED_CALLS = {"mean": "sum", "sum": "mean", "max": "min", "min": "max", "amax": "amin", "amin": "amax",
                  "argmax": "argmin", "argmin": "argmax", "maximum": "minimum", "minimum": "maximum"}
_LOG_NAMES = {"logs", "log", "logged"}
_SILENT_CALLS = {"warn", "print", "debug", "info", "warning", "error", "exception"}
PRAGMA = "pragma: no mutate"


def module_name(path: Path) -> str:
    """Import name of a repository file: ``plugins/x/y.py`` -> ``zoo_plugins.x.y``, ``zoo/a/b.py`` -> ``zoo.a.b``."""
    rel = path.resolve().relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "plugins":
        parts[0] = "zoo_plugins"
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_guard(node: ast.If) -> bool:
    """``if <condition>: raise ...`` (input validation, not mathematics)."""
    return not node.orelse and all(isinstance(s, ast.Raise) for s in node.body)


def _is_silent_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    return name in _SILENT_CALLS


def _is_log_statement(node: ast.AST) -> bool:
    """``logs[...] = ...``, ``logs = {...}``, ``logs.update(...)``, ``logs.setdefault(...)``: bookkeeping."""
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for t in targets:
            base = t.value if isinstance(t, ast.Subscript) else t
            if isinstance(base, ast.Name) and base.id in _LOG_NAMES:
                return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        f = node.value.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in _LOG_NAMES:
            return True
    return False


class _Scanner:
    """Finds the mutation candidates of one module, remembering each node's enclosing function."""

    def __init__(self, source: str, selected: set[str] | None) -> None:
        self.lines = source.splitlines()
        self.selected = selected
        self.found: list[tuple[ast.AST, str, str]] = []  # (node, op, qualname)

    def _wanted(self, qualname: str) -> bool:
        if self.selected is None:
            return True
        return any(qualname == s or qualname.startswith(s + ".") for s in self.selected)

    def _pragma(self, node: ast.AST) -> bool:
        line = getattr(node, "lineno", None)
        return line is not None and PRAGMA in self.lines[line - 1]

    def scan(self, node: ast.AST, qual: str = "", active: bool = False) -> None:
        """Walk ``node``; ``active`` = inside a selected function (or the whole module when none is selected)."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{qual}.{node.name}" if qual else node.name
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]  # docstring
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for default in [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]:
                    self.scan(default, name, active or self._wanted(name))
            for stmt in body:
                self.scan(stmt, name, active or self._wanted(name))
            return
        if self.selected is None and not qual:
            active = True
        if isinstance(node, (ast.Raise, ast.Assert, ast.JoinedStr, ast.Import, ast.ImportFrom)):
            return
        if _is_silent_call(node) or _is_log_statement(node) or self._pragma(node):
            return
        if isinstance(node, (ast.AnnAssign,)):
            if node.value is not None:
                self.scan(node.value, qual, active)
            return
        if isinstance(node, ast.If) and _is_guard(node):
            return
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return  # a bare string (docstring)
        if active:
            self._candidates(node, qual)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.arguments):
                continue  # a lambda's parameters
            self.scan(child, qual, active)

    def _candidates(self, node: ast.AST, qual: str) -> None:
        add = lambda op: self.found.append((node, op, qual))  # noqa: E731
        if isinstance(node, ast.BinOp):
            for new in _BIN_SWAPS.get(type(node.op), ()):
                add(f"binop:{new.__name__}")
            if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
                add("drop_right")
            if isinstance(node.op, (ast.Add, ast.Mult)):
                add("drop_left")
        elif isinstance(node, ast.AugAssign) and type(node.op) in _BIN_SWAPS:
            add(f"augop:{_BIN_SWAPS[type(node.op)][0].__name__}")
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _CMP_SWAPS:
                    add(f"cmp:{i}")
        elif isinstance(node, ast.BoolOp):
            add("boolop")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not, ast.Invert)):
            if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
                return  # -k: the constant's own mutant (k -> k + 1) covers it
            add("drop_unary")
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (str, bytes)) and node.value is not None \
                and node.value is not Ellipsis:
            add("const")
        elif isinstance(node, (ast.If, ast.IfExp, ast.While)):
            add("negate_if")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _DROPPED_CALLS:
                add("drop_call")
            if node.func.attr in _SWAPPED_CALLS:
                add("swap_call")


def _constant(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.0
    if isinstance(value, complex):
        return value + 1
    raise TypeError(value)


def _mutated(node: ast.AST, op: str) -> ast.AST:
    """A new node: ``node`` with mutation ``op`` applied (children are shared, the caller copied the tree)."""
    if op.startswith("binop:"):
        return ast.BinOp(node.left, getattr(ast, op.split(":")[1])(), node.right)  # type: ignore[attr-defined]
    if op == "drop_right":
        return node.left  # type: ignore[attr-defined]
    if op == "drop_left":
        return node.right  # type: ignore[attr-defined]
    if op.startswith("augop:"):
        return ast.AugAssign(node.target, getattr(ast, op.split(":")[1])(), node.value)  # type: ignore[attr-defined]
    if op.startswith("cmp:"):
        i = int(op.split(":")[1])
        ops = list(node.ops)  # type: ignore[attr-defined]
        ops[i] = _CMP_SWAPS[type(ops[i])]()
        return ast.Compare(node.left, ops, node.comparators)  # type: ignore[attr-defined]
    if op == "boolop":
        return ast.BoolOp(ast.Or() if isinstance(node.op, ast.And) else ast.And(), node.values)  # type: ignore
    if op == "drop_unary":
        return node.operand  # type: ignore[attr-defined]
    if op == "const":
        return ast.Constant(_constant(node.value))  # type: ignore[attr-defined]
    if op == "negate_if":
        new = copy.copy(node)
        new.test = ast.UnaryOp(ast.Not(), node.test)  # type: ignore[attr-defined]
        return new
    if op == "drop_call":
        return node.func.value  # type: ignore[attr-defined]
    if op == "swap_call":
        f = node.func  # type: ignore[attr-defined]
        return ast.Call(ast.Attribute(f.value, _SWAPPED_CALLS[f.attr], ast.Load()), node.args,  # type: ignore
                        node.keywords)  # type: ignore[attr-defined]
    raise ValueError(op)


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    out: dict[int, tuple[ast.AST, str, int | None]] = {}
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        out[id(child)] = (parent, field, i)
            elif isinstance(value, ast.AST):
                out[id(value)] = (parent, field, None)
    return out


def _snippet(node: ast.AST) -> str:
    if isinstance(node, (ast.If, ast.While)):
        return "if " + ast.unparse(node.test)
    text = ast.unparse(node)
    return text if len(text) <= 90 else text[:87] + "..."


def parse_target(spec: str) -> tuple[Path, set[str] | None]:
    """``path[::name,name]`` -> (absolute path, selected qualnames or None)."""
    path_text, _, names = spec.partition("::")
    path = (ROOT / path_text).resolve()
    if not path.is_file():
        raise SystemExit(f"mutation_score: no such module file {path_text!r}")
    return path, ({n.strip() for n in names.split(",") if n.strip()} or None)


def find_mutants(path: Path, selected: set[str] | None = None) -> list[Mutant]:
    """Every mutant of ``path`` (restricted to the ``selected`` functions/classes)."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, str(path))
    scanner = _Scanner(source, selected)
    scanner.scan(tree)
    index = {id(n): i for i, n in enumerate(ast.walk(tree))}
    rel = str(path.relative_to(ROOT))
    out = []
    for node, op, qual in scanner.found:
        after = _mutated(node, op)
        out.append(Mutant(rel, module_name(path), index[id(node)], op, getattr(node, "lineno", 0), qual or "<module>",
                          _snippet(node), _snippet(after)))
    if selected:
        scanned = {m.function for m in out}
        missing = [s for s in selected if not any(f == s or f.startswith(s + ".") for f in scanned)]
        if missing:
            print(f"mutation_score: warning: {rel} has no mutable code in {', '.join(sorted(missing))}",
                  file=sys.stderr)
    return out


def mutated_code(mutant: Mutant) -> Any:
    """The compiled module with ``mutant`` applied (raises SyntaxError/ValueError/TypeError when invalid)."""
    path = ROOT / mutant.path
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    nodes = list(ast.walk(tree))
    node = nodes[mutant.node]
    new = _mutated(node, mutant.op)
    ast.copy_location(new, node)
    parent, field, i = _parents(tree)[id(node)]
    if i is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[i] = new
    ast.fix_missing_locations(tree)
    return compile(tree, str(path), "exec")


# ==================================================================================================== running
class _MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import hook of the child process: ``module`` is executed from ``code`` instead of its file."""

    def __init__(self, module: str, code: Any, path: str) -> None:
        self.module, self.code, self.path = module, code, path

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.module:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path, loader=self)

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        exec(self.code, module.__dict__)


class _CoveragePlugin:
    """pytest plugin of the baseline run: which test executes which line of the mutated files, and how long."""

    def __init__(self, files: set[str]) -> None:
        self.files = files
        self.current = "<collection>"
        self.lines: dict[str, set[int]] = {}  # "path:line" -> set of test ids
        self.hits: dict[str, set[str]] = {}
        self.durations: dict[str, float] = {}
        self.shared: dict[str, set[str]] = {}  # test id -> names of its module/session-scoped fixtures
        self.failed: list[str] = []
        self.order: list[str] = []

    def _trace(self, frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename in self.files:
            return self._line
        return None

    def _line(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self.hits.setdefault(f"{frame.f_code.co_filename}:{frame.f_lineno}", set()).add(self.current)
        return self._line

    def start(self) -> None:
        import threading

        sys.settrace(self._trace)
        threading.settrace(self._trace)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> None:
        self.current = item.nodeid
        self.order.append(item.nodeid)
        info = getattr(item, "_fixtureinfo", None)
        shared = set()
        for name, defs in (getattr(info, "name2fixturedefs", {}) or {}).items():
            if defs and defs[-1].scope in ("module", "session", "package", "class"):
                shared.add(f"{defs[-1].baseid}::{name}")
        self.shared[item.nodeid] = shared

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Any:
        """Lines run while a module/session-scoped fixture is set up belong to that fixture (and so to every test
        using it, see :meth:`Baseline.tests_for`), not to the test that happened to set it up first."""
        if fixturedef.scope == "function":
            yield
            return
        previous = self.current
        self.current = f"fixture:{fixturedef.baseid}::{fixturedef.argname}"
        try:
            yield
        finally:
            self.current = previous

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        if report.failed:
            self.failed.append(report.nodeid)


def _child_pytest(args: list[str], log: Path, finder: _MutantFinder | None,
                  plugin: _CoveragePlugin | None = None) -> int:
    """Runs in the forked child: redirect output, install the hook, run pytest, return its exit code."""
    fd = os.open(str(log), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    if finder is not None:
        sys.meta_path.insert(0, finder)
    if plugin is not None:
        plugin.start()
    return int(pytest.main(args, plugins=[plugin] if plugin is not None else []))


def _fork(fn: Any, timeout: float | None) -> tuple[int | None, float]:
    """Run ``fn()`` in a forked child in its own process group; ``(exit code or None on timeout, seconds)``."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        code = 3
        try:
            os.setpgid(0, 0)
            code = fn()
        except BaseException:  # noqa: BLE001 - report anything as a failure of the child
            import traceback

            traceback.print_exc()
            code = 3
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                return code, time.monotonic() - start
            if timeout is not None and time.monotonic() - start > timeout:
                _kill(pid)
                return None, time.monotonic() - start
            time.sleep(0.05)
    except BaseException:
        _kill(pid)
        raise


def _kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


@dataclasses.dataclass
class Baseline:
    """What the unmutated baseline run learnt: lines -> tests, test durations, shared fixtures, test order."""

    hits: dict[str, set[str]]
    durations: dict[str, float]
    shared: dict[str, set[str]]
    order: list[str]
    seconds: float

    def tests_for(self, mutant: Mutant) -> list[str] | None:
        """Test ids to run for ``mutant`` (fastest first), ``[]`` when none executes its line, ``None`` = all."""
        tests = self.hits.get(f"{ROOT / mutant.path}:{mutant.line}", set())
        if "<collection>" in tests:
            return None  # module-level code: every test depends on it
        fixtures = {t[len("fixture:"):] for t in tests if t.startswith("fixture:")}
        chosen = {t for t in tests if not t.startswith("fixture:")}
        chosen |= {t for t in self.order if self.shared.get(t, set()) & fixtures}
        return sorted(chosen, key=lambda t: (self.durations.get(t, 0.0), self.order.index(t)
                                             if t in self.order else 0))


EXTRA_ARGS: list[str] = []  # --pytest-args, for every run
ALSO: list[str] = []  # --also: tests run first for every mutant (e.g. tests written after a cached baseline)


def pytest_args(tests: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    """The pytest command line of every run (quiet, stop at the first failure, no cache, no warnings summary)."""
    return [*tests, "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-W", "ignore", *EXTRA_ARGS,
            *extra]


BASELINES = Path(tempfile.gettempdir()) / "zoo-mutation-baselines"


def _fingerprint(files: set[str], tests: Sequence[str]) -> str:
    """Hash of the mutated files' sources, the test selection and the extra pytest arguments."""
    import hashlib

    h = hashlib.sha256(json.dumps([sorted(tests), EXTRA_ARGS]).encode())
    for f in sorted(files):
        h.update(Path(f).read_bytes())
    return h.hexdigest()


def load_baseline(name: str, files: set[str], tests: Sequence[str]) -> Baseline | None:
    """The cached baseline of an earlier run with the same module sources and tests (``--reuse-baseline``)."""
    path = BASELINES / f"{name}.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if data.get("fingerprint") != _fingerprint(files, tests):
        return None
    return Baseline({k: set(v) for k, v in data["hits"].items()}, data["durations"],
                    {k: set(v) for k, v in data["shared"].items()}, data["order"], data["seconds"])


def save_baseline(name: str, files: set[str], tests: Sequence[str], b: Baseline) -> None:
    BASELINES.mkdir(parents=True, exist_ok=True)
    (BASELINES / f"{name}.json").write_text(json.dumps({
        "fingerprint": _fingerprint(files, tests), "hits": {k: sorted(v) for k, v in b.hits.items()},
        "durations": b.durations, "shared": {k: sorted(v) for k, v in b.shared.items()}, "order": b.order,
        "seconds": b.seconds}))


def run_baseline(files: set[str], tests: Sequence[str], log: Path) -> Baseline:
    """The traced, unmutated run; exits if a test fails (mutation scores need a green suite)."""
    plugin = _CoveragePlugin(files)
    result: dict[str, Any] = {}
    state = Path(tempfile.mkdtemp(prefix="zoo-mutation-")) / "baseline.json"

    def child() -> int:
        code = _child_pytest(pytest_args(tests), log, None, plugin)
        state.write_text(json.dumps({
            "hits": {k: sorted(v) for k, v in plugin.hits.items()}, "durations": plugin.durations,
            "shared": {k: sorted(v) for k, v in plugin.shared.items()}, "order": plugin.order,
            "failed": plugin.failed}))
        return code

    code, seconds = _fork(child, None)
    if state.is_file():
        result = json.loads(state.read_text())
        state.unlink()
        state.parent.rmdir()
    if code != 0 or not result:
        tail = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
        raise SystemExit(f"mutation_score: the unmutated tests do not pass (exit {code}); fix them first.\n{tail}")
    return Baseline({k: set(v) for k, v in result["hits"].items()}, result["durations"],
                    {k: set(v) for k, v in result["shared"].items()}, result["order"], seconds)


@dataclasses.dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | timeout | survived | uncovered | invalid | error
    seconds: float
    tests: int


def run_mutant(mutant: Mutant, baseline: Baseline, all_tests: Sequence[str], log: Path, timeout: float | None,
               per_test_factor: float = 3.0) -> Outcome:
    """Apply ``mutant`` in a forked child, run its tests, classify the result."""
    try:
        code_obj = mutated_code(mutant)
    except (SyntaxError, ValueError, TypeError):
        return Outcome(mutant, "invalid", 0.0, 0)
    tests = baseline.tests_for(mutant)
    if tests == [] and not ALSO:
        return Outcome(mutant, "uncovered", 0.0, 0)
    selected = list(all_tests) if tests is None else [*ALSO, *tests]
    expected = baseline.seconds if tests is None else sum(baseline.durations.get(t, 1.0) for t in tests)
    limit = timeout if timeout is not None else per_test_factor * expected + 60.0
    finder = _MutantFinder(mutant.module, code_obj, str(ROOT / mutant.path))
    code, seconds = _fork(lambda: _child_pytest(pytest_args(selected), log, finder), limit)
    if code is None:
        return Outcome(mutant, "timeout", seconds, len(selected))
    if code == 0:
        return Outcome(mutant, "survived", seconds, len(selected))
    if code in (4, 5):  # a selected test no longer exists / nothing collected: the selection is stale
        return Outcome(mutant, "error", seconds, 0)
    return Outcome(mutant, "killed", seconds, len(selected))


# ==================================================================================================== CLI
def _preload(names: Iterable[str], targets: Iterable[str] = ()) -> None:
    """Import heavy packages (and zoo's core, with the plugin declarations) once in the parent, so every forked
    child starts with them loaded. A module to be mutated must still be imported fresh in each child: if the
    preloading imported one, every module imported from that point on is dropped again (they may hold references
    to it; ``sys.modules`` keeps import order)."""
    before = list(sys.modules)
    for name in names:
        try:
            if name == "zoo.discovery":
                import zoo.discovery

                zoo.discovery.plugins()  # imports every plugin's declaration (never a mutated module)
            elif name == "timm":
                from zoo.compat import import_timm

                import_timm()
            else:
                __import__(name)
        except Exception:  # noqa: BLE001 - preloading is an optimisation only
            pass
    loaded = [m for m in sys.modules if m not in set(before)]
    wanted = set(targets)
    first = next((i for i, m in enumerate(loaded) if m in wanted), None)
    if first is not None:
        for name in loaded[first:]:
            sys.modules.pop(name, None)


def score(outcomes: Sequence[Outcome]) -> tuple[int, int, int, int]:
    """(tried, killed, survived, not counted); timeouts count as killed, uncovered as survived; invalid mutants
    and errors (a stale test selection: tests renamed since the baseline) are not counted."""
    valid = [o for o in outcomes if o.status not in ("invalid", "error")]
    killed = sum(o.status in ("killed", "timeout") for o in valid)
    return len(valid), killed, len(valid) - killed, len(outcomes) - len(valid)


def run_plugin(name: str, modules: Sequence[str], tests: Sequence[str], *, timeout: float | None,
               only: str | None, limit: int | None, quiet: bool, rerun: set[str] | None = None,
               reuse: bool = False) -> list[Outcome]:
    """All mutants of ``modules`` against ``tests``; prints progress, returns the outcomes."""
    mutants: list[Mutant] = []
    for spec in modules:
        path, selected = parse_target(spec)
        mutants += find_mutants(path, selected)
    all_files = {str(ROOT / m.path) for m in mutants}
    if only:
        mutants = [m for m in mutants if only in m.key or only == m.function]
    if rerun is not None:  # matched by what the mutant is, not where: edits since then may shift the lines
        mutants = [m for m in mutants if json.dumps([m.path, m.function, m.op, m.before, m.after]) in rerun]
    if limit is not None:
        mutants = mutants[:limit]
    log = Path(tempfile.gettempdir()) / f"zoo-mutation-{name}-{os.getpid()}.log"
    print(f"== {name}: {len(mutants)} mutants in {len(all_files)} file(s); baseline run of {' '.join(tests)} ...",
          flush=True)
    baseline = load_baseline(name, all_files, tests) if reuse else None
    if baseline is None:
        baseline = run_baseline(all_files, tests, log)
        save_baseline(name, all_files, tests, baseline)
    else:
        print("   (baseline reused from an earlier run of the same sources)", flush=True)
    print(f"   baseline: {len(baseline.order)} tests pass in {baseline.seconds:.0f} s", flush=True)
    outcomes = []
    for i, mutant in enumerate(mutants, 1):
        outcome = run_mutant(mutant, baseline, tests, log, timeout)
        outcomes.append(outcome)
        if not quiet or outcome.status in ("survived", "uncovered"):
            print(f"   [{i}/{len(mutants)}] {outcome.status:9s} {mutant.path}:{mutant.line} {mutant.function} "
                  f"{mutant.op}: {mutant.before!r} -> {mutant.after!r} ({outcome.tests} tests, "
                  f"{outcome.seconds:.1f} s)", flush=True)
    if log.is_file():
        log.unlink()
    return outcomes


def print_report(results: dict[str, tuple[Sequence[str], list[Outcome]]]) -> None:
    """The per-plugin table and the list of survivors."""
    print("\n| plugin | modules | tried | killed | survived | score |")
    print("|---|---|---|---|---|---|")
    for name, (modules, outcomes) in results.items():
        tried, killed, survived, _ = score(outcomes)
        pct = 100.0 * killed / tried if tried else float("nan")
        short = ", ".join(m.split("/")[-1] for m in modules)
        print(f"| {name} | {short} | {tried} | {killed} | {survived} | {pct:.1f} % |")
    for name, (_, outcomes) in results.items():
        survivors = [o for o in outcomes if o.status in ("survived", "uncovered")]
        if survivors:
            print(f"\nsurvivors of {name}:")
            for o in survivors:
                m = o.mutant
                print(f"  {m.path}:{m.line} [{m.function}] {m.op}: {m.before!r} -> {m.after!r}"
                      + (" (no test executes this line)" if o.status == "uncovered" else ""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plugins", nargs="+", help=f"plugin packages ({', '.join(DEFAULTS)} have defaults)")
    parser.add_argument("--modules", nargs="+", help="files to mutate, path[::func,Class.method] (default: the "
                        "plugin's defining modules)")
    parser.add_argument("--tests", nargs="+", help="pytest paths / node ids (default: the plugin's tests)")
    parser.add_argument("--pytest-args", default="", help="more pytest arguments, one string (e.g. \"-m 'not "
                        "slow'\")")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per mutant (default: 3 x the selected tests' baseline time + 60)")
    parser.add_argument("--only", help="run only mutants whose key contains this text (or whose function is it)")
    parser.add_argument("--limit", type=int, help="at most this many mutants per plugin")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--quiet", action="store_true", help="print only survivors while running")
    parser.add_argument("--json", help="write every outcome to this file")
    parser.add_argument("--rerun", help="a --json file of an earlier run: run only its survivors (and errors) again")
    parser.add_argument("--reuse-baseline", action="store_true",
                        help="reuse the cached baseline of an earlier run when the mutated sources are unchanged")
    parser.add_argument("--also", nargs="+", default=[], help="tests run first for every mutant (e.g. tests "
                        "added since the cached baseline)")
    parser.add_argument("--preload", nargs="*",
                        default=["numpy", "torch", "scipy", "sklearn", "pytest", "timm", "zoo", "zoo.api",
                                 "zoo.engines.trainer", "zoo.kernels.ops", "zoo.discovery"],
                        help="modules imported once before forking (never the mutated ones)")
    args = parser.parse_args(argv)
    import shlex

    EXTRA_ARGS[:] = shlex.split(args.pytest_args)
    ALSO[:] = args.also
    rerun: set[str] | None = None
    if args.rerun:
        previous = json.loads(Path(args.rerun).read_text())
        rerun = {json.dumps([o["path"], o["function"], o["op"], o["before"], o["after"]])
                 for outs in previous.values() for o in outs if o["status"] in ("survived", "uncovered", "error")}
    os.chdir(ROOT)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    results: dict[str, tuple[Sequence[str], list[Outcome]]] = {}
    for name in args.plugins:
        defaults = DEFAULTS.get(name, {})
        modules = args.modules or defaults.get("modules")
        tests = args.tests or defaults.get("tests") or [f"plugins/{name}/tests"]
        if not modules:
            parser.error(f"no default modules for {name!r}; pass --modules")
        if args.list:
            for spec in modules:
                path, selected = parse_target(spec)
                for m in find_mutants(path, selected):
                    print(f"{m.key}  [{m.function}]  {m.before!r} -> {m.after!r}")
            continue
        if not results:
            targets = [module_name(parse_target(spec)[0]) for d in ([modules] if args.modules else
                       [DEFAULTS.get(n, {}).get("modules", []) for n in args.plugins]) for spec in d]
            _preload(args.preload, targets)
        results[name] = (modules, run_plugin(name, modules, tests, timeout=args.timeout, only=args.only,
                                             limit=args.limit, quiet=args.quiet, rerun=rerun,
                                             reuse=args.reuse_baseline))
    if results:
        print_report(results)
        if args.json:
            data = {name: [dict(dataclasses.asdict(o.mutant), status=o.status, seconds=round(o.seconds, 2),
                                tests=o.tests) for o in outs] for name, (_, outs) in results.items()}
            Path(args.json).write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
