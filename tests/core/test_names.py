"""Model names: method[-variant][.tag][@revision], suggestions for unknown names."""
from __future__ import annotations

import pytest

from zoo.errors import UnknownModelError
from zoo.names import ModelName, is_pinned, resolve_base, split_name

METHODS = {"gcd": ("tiny", "paper"), "glamor-net": ("tiny", "paper"), "multigraph-fl": ("tiny",)}


def _resolve(text: str) -> ModelName:
    return resolve_base(text, METHODS.keys(), lambda m: METHODS[m])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gcd", ModelName("gcd", None)),
        ("gcd-paper", ModelName("gcd", "paper")),
        ("glamor-net-tiny", ModelName("glamor-net", "tiny")),
        ("glamor-net", ModelName("glamor-net", None)),
        ("multigraph-fl-tiny.digits@" + "a" * 40, ModelName("multigraph-fl", "tiny", "digits", "a" * 40)),
        ("gcd.aioz@main", ModelName("gcd", None, "aioz", "main")),
    ],
)
def test_resolution(text: str, expected: ModelName) -> None:
    assert _resolve(text) == expected
    assert str(expected) == text


def test_unknown_variant_suggests_known_ones() -> None:
    with pytest.raises(UnknownModelError) as err:
        _resolve("gcd-tinny")
    assert "gcd-tiny" in err.value.suggestions


def test_unknown_method_suggests_close_names() -> None:
    with pytest.raises(UnknownModelError) as err:
        _resolve("glamornet")
    assert err.value.suggestions and err.value.suggestions[0].startswith("glamor-net")


@pytest.mark.parametrize("text", ["", " gcd", "gcd@a@b", "@main"])
def test_malformed_names(text: str) -> None:
    with pytest.raises(UnknownModelError):
        split_name(text)


def test_is_pinned() -> None:
    assert is_pinned("0123456789abcdef0123456789abcdef01234567")
    assert not is_pinned("main")
    assert not is_pinned("0123456")


def test_one_name_record() -> None:
    """Issue 19, item 15: the syntactic split is a ModelName too (ParsedName was the same thing)."""
    import zoo.names

    parsed = split_name("glamor-net-tiny.digits@main")
    assert parsed == ModelName("glamor-net-tiny", None, "digits", "main") and str(parsed) == "glamor-net-tiny.digits@main"
    assert not hasattr(zoo.names, "ParsedName")
