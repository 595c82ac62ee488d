"""docs/plugins.md, the author guide (issue 19, item 4), documents every field an author declares, and the docs no
longer promise what does not exist."""
from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

import zoo.testing
from zoo import cards
from zoo.options import TRAIN_DEFAULTS
from zoo.plugin import HOOK_ARGUMENTS, Method
from zoo.specs import InputSpec, MethodSpec, OptionSpec, VariantSpec

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


def _documented(name: str) -> bool:
    return f"`{name}`" in GUIDE


@pytest.mark.parametrize("record", [MethodSpec, VariantSpec, InputSpec, OptionSpec])
def test_every_field_of_the_declaration_records(record: type) -> None:
    missing = [f.name for f in dataclasses.fields(record) if not _documented(f.name)]
    assert not missing, f"docs/plugins.md does not document {record.__name__} fields {missing}"


def test_every_method_parameter_hook_argument_and_run_setting() -> None:
    params = [p for p in inspect.signature(Method).parameters if p != "self"]
    names = params + list(HOOK_ARGUMENTS) + [a for args in HOOK_ARGUMENTS.values() for a in args]
    names += list(TRAIN_DEFAULTS) + [f"`## {name}`" for name, _ in cards.SECTIONS]
    missing = sorted({n for n in names if not (n in GUIDE if n.startswith("`") else _documented(n))})
    assert not missing, f"docs/plugins.md does not document {missing}"


def test_the_record_types_are_told_apart() -> None:
    table = GUIDE[GUIDE.index("## Which record is which"):]
    for record in ("MethodSpec", "CatalogueEntry", "ModelInfo", "ModelName", "Resolved", "ModelTag", "WeightSpec",
                   "WeightRef", "Loaded"):
        assert re.search(rf"^\| `{record}` \| `zoo\.", table, flags=re.M), record
    assert "ParsedName" not in GUIDE


def test_the_tools_the_guide_names_exist() -> None:
    for path in re.findall(r"`((?:benchmarks|tools|examples|docs)/[\w/.-]+\.(?:py|md))", GUIDE):
        assert (ROOT / path).exists(), path


def test_no_doc_promises_a_helper_that_does_not_exist() -> None:
    for text in (GUIDE, (ROOT / "README.md").read_text(encoding="utf-8"), zoo.testing.__doc__ or ""):
        assert "conformance_cases" not in text
    for name in zoo.testing.__all__:
        assert getattr(zoo.testing, name) is not None
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "examples/third_party_plugin/tests" in readme
    assert (ROOT / "examples" / "third_party_plugin" / "tests" / "test_protonet.py").is_file()
