"""Server configuration: where data lives, who may write, and the upload limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class HubConfig:
    """Everything ``zoo hub serve`` can be told.

    Attributes:
        root: storage folder (created if missing): ``hub.sqlite`` + ``blobs/`` + ``tmp/``.
        tokens: administrator bearer tokens, mapped to the user name recorded as commit author (user tokens with
            scopes live in the database: :mod:`zoo.hub.server.accounts`).
        private_by_default: new repos are private unless the client asks for public.
        read_requires_token: every read needs a valid token, whatever the repo's visibility.
        lfs_threshold: files at least this big are answered ``uploadMode: "lfs"`` by preupload.
        max_file_bytes: largest single file (LFS object) accepted.
        max_inline_bytes: largest file accepted inline (base64) in a commit.
        max_commit_bytes: largest commit request body (streamed line by line, so memory stays bounded).
        max_json_bytes: largest JSON request body for the small endpoints.
        public_url: base URL clients use to reach this server (for LFS upload links); default: the request's host.
        upload_url_ttl: seconds an LFS upload link stays valid.
    """

    root: Path
    tokens: dict[str, str] = field(default_factory=dict)
    private_by_default: bool = False
    read_requires_token: bool = False
    lfs_threshold: int = 10 * MiB
    max_file_bytes: int = 50 * GiB
    max_inline_bytes: int = 32 * MiB
    max_commit_bytes: int = 16 * GiB
    max_json_bytes: int = 4 * MiB
    public_url: str | None = None
    upload_url_ttl: int = 3600

    def __post_init__(self) -> None:
        from zoo.errors import ConfigError

        if self.lfs_threshold < 1:
            raise ConfigError(f"lfs_threshold must be >= 1 byte, got {self.lfs_threshold}")
        for name in ("max_file_bytes", "max_inline_bytes", "max_commit_bytes", "max_json_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        object.__setattr__(self, "root", Path(self.root).expanduser().resolve())
