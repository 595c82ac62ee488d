"""Errors the hub server answers with, in the Hub's wire format.

Every refusal is a :class:`HubRequestError` carrying the HTTP status, the ``X-Error-Code`` the ``huggingface_hub``
client switches on (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``, ...) and a human message that goes in
``X-Error-Message`` and in the JSON body's ``error`` field, so the client raises its usual exception types.
"""

from __future__ import annotations

from zoo.errors import HubError


class HubRequestError(HubError):
    """A request the server refuses; rendered as an HTTP error response by the app."""

    status: int = 400
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.extra = dict(extra or {})
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})


class BadRequest(HubRequestError):
    """Malformed input: bad JSON, bad repo id, bad path, bad revision name."""

    status = 400
    code = "BadRequest"


class Unauthorized(HubRequestError):
    """A write without a valid bearer token."""

    status = 401


class Forbidden(HubRequestError):
    """A valid token that may not do this (read-only scope, another user's namespace, outside its limits)."""

    status = 403
    code = "Forbidden"


class RepoNotFound(HubRequestError):
    """The repository does not exist, or it is private and the caller is not authenticated (never leak which)."""

    status = 404
    code = "RepoNotFound"


class RevisionNotFound(HubRequestError):
    """The branch, tag or commit does not exist in the repository."""

    status = 404
    code = "RevisionNotFound"


class EntryNotFound(HubRequestError):
    """The file or folder does not exist at the resolved revision."""

    status = 404
    code = "EntryNotFound"


class Conflict(HubRequestError):
    """The object already exists (repo, branch, tag)."""

    status = 409
    code = "Conflict"


class StaleParent(HubRequestError):
    """A commit named a ``parentCommit`` that is no longer the head of its branch."""

    status = 412
    code = "PreconditionFailed"


class PayloadTooLarge(HubRequestError):
    """A body, file or line exceeds the configured upload limits."""

    status = 413
    code = "PayloadTooLarge"


class NotFound(HubRequestError):
    """No route matches (the storage root is never listed)."""

    status = 404
    code = "NotFound"


class NotSupported(HubRequestError):
    """A Hub feature this server does not implement (pull requests)."""

    status = 501
    code = "NotImplemented"
