"""The README runs as written: its Python and shell blocks (and those of ``docs/*.md``) run in order, each document
in its own empty folder, against the embedded hub.

Python blocks of one document share one namespace (a later block uses what an earlier one defined); shell blocks run
in ``bash -euo pipefail`` with the ``zoo`` command of this environment first on the ``PATH``. A block that cannot
run here is marked in the text on the line just before it, with the reason: ``<!-- not run: reason -->``. Blocks
in other languages (``toml``, ``text``) are not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = {"python": "python", "py": "python", "bash": "shell", "sh": "shell", "shell": "shell", "console": "shell"}
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->")
FENCE = re.compile(r"^(?P<fence>```+)(?P<lang>[\w+-]*)\s*$")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, its code, where it starts and why it is not run ("" if it is)."""

    kind: str
    code: str
    line: int
    skip: str

    def where(self, doc: Path) -> str:
        return f"{doc.relative_to(ROOT)}:{self.line}"


def blocks(text: str) -> list[Block]:
    """The Python and shell blocks of a Markdown text, in order, with their ``not run`` markers."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start, fence, lang = i, match["fence"], match["lang"].lower()
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i])
            i += 1
        i += 1
        if lang not in RUN:
            continue
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = NOT_RUN.search(previous)
        found.append(Block(RUN[lang], "\n".join(body) + "\n", start + 1, marker["reason"] if marker else ""))
    return found


def test_markers_are_found_and_need_a_reason() -> None:
    text = "a\n<!-- not run: needs a GPU -->\n```bash\nnvidia-smi\n```\n```python\nx = 1\n```\n```toml\n[a]\n```\n"
    found = blocks(text)
    assert [(b.kind, b.skip) for b in found] == [("shell", "needs a GPU"), ("python", "")]
    assert not NOT_RUN.search("<!-- not run: -->")


@pytest.fixture()
def readme_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_endpoint) -> dict[str, str]:
    """An empty working folder, fresh caches, the embedded hub as HF_ENDPOINT (with a write token), one thread."""
    monkeypatch.chdir(tmp_path)
    for name, value in {"HF_HUB_CACHE": str(tmp_path / ".hf-cache"), "ZOO_HOME": str(tmp_path / ".zoo-home"),
                        "ZOO_LOCK": str(tmp_path / "zoo.lock"), "ZOO_DEMO_DIR": str(tmp_path / "zoo-demo"),
                        "OMP_NUM_THREADS": "1", "ZOO_NUM_THREADS": "1", "MPLBACKEND": "Agg",
                        "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


@pytest.mark.parametrize("doc", DOCUMENTS, ids=[str(d.relative_to(ROOT)) for d in DOCUMENTS])
def test_document_runs_as_written(doc: Path, readme_env: dict[str, str], tmp_path: Path) -> None:
    namespace: dict[str, object] = {"__name__": "__readme__"}
    ran = 0
    for block in blocks(doc.read_text(encoding="utf-8")):
        if block.skip:
            continue
        if block.kind == "python":
            try:
                exec(compile(block.code, block.where(doc), "exec"), namespace)  # noqa: S102 - the README's own code
            except Exception as exc:
                pytest.fail(f"{block.where(doc)}: the Python block raised {type(exc).__name__}: {exc}\n{block.code}")
        else:
            proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=tmp_path, env=readme_env,
                                  capture_output=True, text=True, timeout=1800)
            assert proc.returncode == 0, (f"{block.where(doc)}: the shell block exited {proc.returncode}\n"
                                          f"{block.code}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n"
                                          f"{proc.stderr[-3000:]}")
        ran += 1
    if doc.name == "README.md":
        assert ran >= 8, "the README's runnable blocks were not found"


def test_readme_pins_the_revisions_registry_yaml_records() -> None:
    """Revisions the README prints next to a released name are the ones registry.yaml records (no placeholder)."""
    from zoo.weights import shipped

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    records = {s.record.repo: s.record.revision for s in shipped.releases()}
    quoted = re.findall(r"(zoo/[\w.-]+)[@ ]([0-9a-f]{40})", text)
    assert quoted, "the README shows no pinned revision of a released weight"
    for repo, revision in quoted:
        assert records.get(repo) == revision, f"README pins {repo}@{revision}; registry.yaml: {records.get(repo)}"
    assert "..." not in "".join(re.findall(r"@[0-9a-f.]{6,}", text)), "a placeholder revision is left in the README"
