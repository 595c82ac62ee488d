"""Method cards (issue 19, item 3): the conformance kit checks the five sections, ``zoo info NAME --card`` prints
the card, and MODEL_ZOO.md links it with the headline figure of its Measured here table."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from zoo import cards, discovery
from zoo.cli import main
from zoo.docs import model_zoo
from zoo.plugin import Input, Method, Plugin, Variant
from zoo.registry import ModelInfo
from zoo.specs import CatalogueEntry, InputSpec, MethodSpec, VariantSpec
from zoo.testing.conformance import CARD_PENDING, ConformanceReport, check_card, check_method

COMPLETE = """\
# Probe

## Paper

A. Author. *A paper.* 2024. https://example.org/paper. Licence MIT.

## What is implemented

| component | file |
|---|---|
| model | `model.py` |

## Deviations

| paper says | here | why |
|---|---|---|
| big data | digits | offline |

## Measured here

| figure | value | command | paper's value |
|---|---|---|---|
| parameters | 1,234 | `python count.py` | - |
| top-1 accuracy, digits (headline) | 0.93 | `zoo eval probe --data digits` | 0.99 \\| MNIST |

## Mutation score

12 tried / 11 killed on `losses.py` (`benchmarks/mutation_score.py probe`).
"""


def test_missing_sections_are_named_in_order() -> None:
    assert cards.missing_sections(COMPLETE) == []
    lacking = COMPLETE.replace("## Deviations", "## Differences").replace("## Mutation score", "### Mutation score")
    assert cards.missing_sections(lacking) == ["Deviations", "Mutation score"]


def test_the_headline_is_the_marked_row_else_the_first() -> None:
    top = cards.headline(COMPLETE)
    assert top == cards.Headline("top-1 accuracy, digits", "0.93", "`zoo eval probe --data digits`", "0.99 | MNIST")
    unmarked = COMPLETE.replace(" (headline)", "")
    assert cards.headline(unmarked) == cards.Headline("parameters", "1,234", "`python count.py`", "-")
    other_table = COMPLETE.replace("| figure | value | command | paper's value |", "| model | RMSE | MAE | x |")
    assert cards.headline(other_table) is None  # not the documented columns: no headline rather than a wrong one


@dataclass(frozen=True)
class ProbeConfig:
    width: int = 2


@pytest.fixture()
def carded(tmp_path: Path) -> Iterator[Path]:
    """An in-process plugin whose package folder holds a README.md (the method card)."""
    package = tmp_path / "zoo_card_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "README.md").write_text(COMPLETE)
    sys.path.insert(0, str(tmp_path))
    plugin = Plugin(Method(
        "card-probe", task="t", title="Card probe", variants=[Variant("tiny", ProbeConfig)], inputs=[Input("x", ("B", 2))],
        build=lambda config: torch.nn.Linear(2, 2), example_inputs=lambda: {"x": torch.zeros(1, 2)},
        infer=lambda model, inputs: model(inputs["x"])), package="zoo_card_probe")
    discovery.register_plugin(plugin, "card_probe")
    try:
        yield package / "README.md"
    finally:
        discovery.unregister_plugin("card_probe")
        sys.path.remove(str(tmp_path))
        sys.modules.pop("zoo_card_probe", None)


def test_the_kit_checks_the_card_of_every_method_not_pending(carded: Path) -> None:
    assert "card-probe" not in CARD_PENDING
    report = check_method("card-probe")
    assert "method card has the five sections" in report.checks
    carded.write_text(COMPLETE.replace("## Paper", "## Citation"))
    with pytest.raises(AssertionError, match=r"lacks the level-2 section\(s\) '## Paper' \(citation, link"):
        check_method("card-probe")
    relaxed = ConformanceReport("card-probe")
    check_card("card-probe", relaxed, required=False)  # what a pending built-in card gets: a note
    assert relaxed.notes and "## Paper" in relaxed.notes[0]
    carded.unlink()
    with pytest.raises(AssertionError, match="no method card found"):
        check_card("card-probe", ConformanceReport("card-probe"))


def test_zoo_info_card_prints_it(carded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "card-probe-tiny", "--card"]) == 0
    assert capsys.readouterr().out == COMPLETE
    carded.unlink()
    assert main(["info", "card-probe", "--card"]) == 1
    assert "has no method card" in capsys.readouterr().err


BUILTIN = sorted(name for name, owner in discovery.plugins().owners.items()
                 if discovery.plugins().plugins[owner].dist == "zoo")


@pytest.mark.parametrize("method", BUILTIN)
def test_builtin_cards(method: str) -> None:
    """Every built-in card has the five sections; a card still being rewritten is listed in CARD_PENDING."""
    path = cards.card_path(method)
    missing = cards.missing_sections(path.read_text(encoding="utf-8")) if path else ["(no card)"]
    if method in CARD_PENDING:
        pytest.skip(f"card pending ({path}): lacks {missing}" if missing else
                    f"card complete: remove {method!r} from CARD_PENDING in zoo/testing/conformance.py")
    check_card(method, ConformanceReport(method))


def _implemented_info(tmp_path: Path, card: str | None) -> tuple[ModelInfo, Path | None]:
    spec = MethodSpec(name="probe", task="t", title="Probe", inputs=(InputSpec("x", ("B",)),),
                      variants={"tiny": VariantSpec("tiny", dict), "paper": VariantSpec("paper", dict)})
    entry = CatalogueEntry(id="A1", name="probe", title="Probe", source="seed 000 (blog)", task="t",
                           status="implemented", plugin="probe", variants=("tiny", "paper"))
    path = None
    if card is not None:
        path = tmp_path / "plugins" / "probe" / "README.md"
        path.parent.mkdir(parents=True)
        path.write_text(card)
    info = ModelInfo(name="probe", status="implemented", task="t", title="Probe", entry=entry, spec=spec,
                     plugin="probe", dist="zoo", variants=("tiny", "paper"))
    return info, path


def test_model_zoo_links_every_card_with_its_headline(tmp_path: Path) -> None:
    info, path = _implemented_info(tmp_path, COMPLETE)
    text = model_zoo.render([info], card_of=lambda name: path, root=tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| `probe` |"))
    assert row == ("| `probe` | implemented | tiny, paper | top-1 accuracy, digits | 0.99 \\| MNIST | 0.93 | "
                   "[card](plugins/probe/README.md) |")
    assert "- method card: [card](plugins/probe/README.md)" in text


def test_model_zoo_says_when_a_card_or_headline_is_missing(tmp_path: Path) -> None:
    info, _ = _implemented_info(tmp_path, None)
    text = model_zoo.render([info], card_of=lambda name: None, root=tmp_path)
    assert "| `probe` | implemented | tiny, paper | no headline in the card | - | - | no card |" in text


def test_zoo_plugin_check_and_cards(carded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugin", "check", "card-probe"]) == 0
    out = capsys.readouterr().out
    assert "ok    method card has the five sections" in out and "card-probe: 8 checks passed" in out
    assert main(["plugin", "cards"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("card-probe "))
    assert row.split()[1:] == ["card_probe", str(carded), "ok"]
    carded.write_text(COMPLETE.replace("## Mutation score", "## Mutants"))
    assert main(["plugin", "check", "card-probe"]) == 1
    assert "lacks the level-2 section(s) '## Mutation score'" in capsys.readouterr().err
    assert main(["plugin", "cards", "--strict"]) == 1
