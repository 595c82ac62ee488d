"""Model names: ``method[-variant][.tag][@revision]``.

The split between method and variant needs to know the method names (``glamor-net-tiny`` is method
``glamor-net``, variant ``tiny``), so :func:`split_name` is purely syntactic and
:func:`resolve_base` takes the known names.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from zoo.errors import UnknownModelError
from zoo.specs import is_commit_sha


@dataclass(frozen=True)
class ModelName:
    """The parts of a model name ``method[-variant][.tag][@revision]``.

    :func:`resolve_base` fills ``method`` and ``variant`` from the known methods. :func:`split_name`, which
    knows no methods, leaves ``variant`` ``None`` and puts the whole unsplit base (``glamor-net-tiny``) in
    ``method``; ``str()`` gives the text back in both cases.
    """

    method: str
    variant: str | None = None
    tag: str | None = None
    revision: str | None = None

    def __str__(self) -> str:
        text = self.method + (f"-{self.variant}" if self.variant else "")
        text += f".{self.tag}" if self.tag else ""
        return text + (f"@{self.revision}" if self.revision else "")


def split_name(text: str) -> ModelName:
    """Split ``base[.tag][@revision]`` (the revision may be a branch, a tag or a 40-hex commit).

    The method/variant split needs the known methods (:func:`resolve_base`), so the base stays whole in
    ``ModelName.method`` and ``variant`` is ``None``.
    """
    if not text or text.strip() != text:
        raise UnknownModelError(text, what="model name (empty or with spaces)")
    base, _, revision = text.partition("@")
    base, _, tag = base.partition(".")
    if "@" in revision or not base:
        raise UnknownModelError(text, what="model name")
    return ModelName(base, None, tag or None, revision or None)


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Closest known names to ``name`` (for 'did you mean' messages)."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.5)
    if not close:
        close = [c for c in pool if c.startswith(name[:3])][:n]
    return close


def resolve_base(
    text: str,
    methods: Collection[str],
    variants_of: Callable[[str], Collection[str]],
) -> ModelName:
    """Resolve a name against the known methods and their variants.

    The longest method name that is the whole base, or is followed by ``-<known variant>``, wins.

    Raises:
        UnknownModelError: with suggestions, when no method or variant matches.
    """
    parsed = split_name(text)
    base = parsed.method
    if base in methods:
        return ModelName(base, None, parsed.tag, parsed.revision)
    for method in sorted(methods, key=len, reverse=True):
        if base.startswith(method + "-"):
            variant = base[len(method) + 1:]
            known = variants_of(method)
            if variant in known:
                return ModelName(method, variant, parsed.tag, parsed.revision)
            raise UnknownModelError(text, suggest(f"{method}-{variant}", [f"{method}-{v}" for v in known]),
                                    what=f"variant {variant!r} of method {method!r}; model name")
    full = list(methods) + [f"{m}-{v}" for m in methods for v in variants_of(m)]
    raise UnknownModelError(text, suggest(base, full))


def is_pinned(revision: str | None) -> bool:
    """True when ``revision`` is a full commit id (pinned), not a branch or tag."""
    return revision is not None and is_commit_sha(revision)
