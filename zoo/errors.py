"""Domain exceptions: every error zoo raises on purpose is a :class:`ZooError`.

The hierarchy lets callers catch one family (``except zoo.errors.WeightsError``) and gives each family a stable
exit code (its ``exit_code`` attribute; the CLI exits with it): 2 bad input or configuration, 3 unknown or
unavailable model, 4 plugin failure, 5 weights error, 6 hub error (including a hub that cannot be reached), 7 kernel
error.
"""
from __future__ import annotations

from collections.abc import Sequence


class ZooError(Exception):
    """Base class of every error that zoo raises deliberately."""

    exit_code: int = 1


class ConfigError(ZooError):
    """A configuration value, file or option is invalid."""

    exit_code = 2


class CatalogueError(ConfigError):
    """``registry.yaml`` (or a plugin's declaration) does not follow the schema; names the entry and field."""

    def __init__(self, message: str, *, entry: str | None = None, field: str | None = None) -> None:
        where = ""
        if entry is not None:
            where = f"entry {entry!r}"
            if field is not None:
                where += f", field {field!r}"
            where += ": "
        super().__init__(where + message)
        self.entry = entry
        self.field = field


class UnknownModelError(ZooError, LookupError):
    """A name does not match any method or variant; the message suggests the closest names."""

    exit_code = 3

    def __init__(self, name: str, suggestions: Sequence[str] = (), what: str = "model") -> None:
        msg = f"unknown {what} {name!r}"
        if suggestions:
            msg += "; did you mean " + ", ".join(repr(s) for s in suggestions) + "?"
        super().__init__(msg)
        self.name = name
        self.suggestions = list(suggestions)


class NotImplementedMethodError(ZooError):
    """The method is in the catalogue but no installed plugin implements it (status planned / not-applicable)."""

    exit_code = 3


class PluginError(ZooError):
    """A plugin failed to import, register or honour the hook contract."""

    exit_code = 4

    def __init__(self, message: str, *, plugin: str | None = None, dist: str | None = None) -> None:
        prefix = f"plugin {plugin!r}" if plugin else "plugin"
        if dist:
            prefix += f" (distribution {dist})"
        super().__init__(f"{prefix}: {message}")
        self.plugin = plugin
        self.dist = dist


class NameCollisionError(PluginError):
    """Two plugins claim the same method name; the message names both distributions."""


class InputError(ZooError, ValueError):
    """Input handed to a model does not match what the method expects (shape, dtype, values)."""

    exit_code = 2


class DataError(ZooError):
    """A dataset is missing or malformed; the message names the file and what was expected."""

    exit_code = 2


class WeightsError(ZooError):
    """Weights could not be resolved, fetched or loaded.

    ``repo`` and ``revision`` name what was asked for when the error concerns one hub repo (else ``None``).
    """

    exit_code = 5

    def __init__(self, message: str = "", *, repo: str | None = None, revision: str | None = None) -> None:
        super().__init__(message)
        self.repo = repo
        self.revision = revision


class WeightsNotFoundError(WeightsError, LookupError):
    """The repo, or a file in it, does not exist (or is not visible with this token); also a missing folder."""


class RevisionNotFoundError(WeightsNotFoundError):
    """The repo exists but has no such branch, tag or commit."""


class GatedRepoError(WeightsError):
    """The repo is gated: its terms must be accepted on the hub and a token used."""


class OfflineError(WeightsError):
    """The file is not in the local cache and the hub may not be contacted (``HF_HUB_OFFLINE``)."""


class HubUnreachableError(OfflineError):
    """The hub could not be reached (connection refused, DNS, timeout) and the file is not cached.

    A hub failure, so its exit code is the hub's (6), although it is caught as a :class:`WeightsError` too.
    """

    exit_code = 6


class IntegrityError(WeightsError):
    """A file's size or sha256 does not match its record."""

    def __init__(self, path: str, expected: str, actual: str, what: str = "sha256") -> None:
        super().__init__(f"integrity check failed for {path}: expected {what} {expected}, got {actual}")
        self.path = path
        self.expected = expected
        self.actual = actual


class LicenseNotAcceptedError(WeightsError):
    """The weights carry a non-commercial or gated licence that the caller has not accepted."""


class UnsafeFormatError(WeightsError):
    """A pickle-based checkpoint (``.bin``/``.pt``) was refused."""


class StateDictMismatchError(WeightsError):
    """Strict loading found missing, unexpected or shape-mismatched keys; the message lists them."""


class HubError(ZooError):
    """A hub operation (push, pull, serve) failed."""

    exit_code = 6


class KernelError(ZooError):
    """A fused kernel is unavailable for the requested device/dtype, or failed its parity check."""

    exit_code = 7


class FederatedError(ZooError):
    """A federated round could not proceed (bad client update under a strict policy, bad topology, ...)."""


class TrainingError(ZooError):
    """Training cannot go on: a non-finite loss, a bad recipe, or a checkpoint that does not match the run."""
