"""Xorbs on disk and Xet file records in ``hub.sqlite``.

- ``<root>/xorbs/aa/bb/<hash>``: an uploaded xorb, exactly as sent (written to ``tmp/``, fsynced, renamed);
- ``xorbs``/``xorb_chunks``: its chunks (byte range, size, hash), recomputed by the server from the data;
- ``xet_files``: a file's Xet hash, sha256, size and terms; the file's ``blobs`` row points at it (``xet_hash``),
  so a Xet file is stored once, as chunks shared with every other file that has them (deduplication).

A file is registered only after every check passed: its xorbs exist, each term's verification hash matches the
chunk hashes the server computed (the uploader knows the data), the Xet file hash matches, and the sha256 the
client claims equals the sha256 of the reconstructed bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zoo.hub.server.xet.hashing import file_hash, hash_to_hex, hex_to_hash, verification_hash
from zoo.hub.server.xet.xorb import ChunkRecord, XorbFormatError, decompress, parse_header

if TYPE_CHECKING:
    from zoo.hub.server.blobs import BlobInfo
    from zoo.hub.server.storage import Repo, Storage
    from zoo.hub.server.xet.shard import FileInfo

XET_SCHEMA = """
CREATE TABLE IF NOT EXISTS xorbs (
    hash TEXT PRIMARY KEY, bytes INTEGER NOT NULL, chunks INTEGER NOT NULL, created_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS xorb_chunks (
    xorb TEXT NOT NULL, idx INTEGER NOT NULL, hash TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    size INTEGER NOT NULL, PRIMARY KEY (xorb, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS xet_files (
    hash TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL, terms TEXT NOT NULL, created_at REAL NOT NULL
) WITHOUT ROWID
"""


@dataclass(frozen=True)
class Piece:
    """A run of chunks ``[start, end)`` of one xorb within a file: what a reconstruction term or a read covers."""

    xorb: str
    start: int
    end: int
    size: int


class XetStore:
    """Xorb files plus the Xet tables of one hub root."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.dir = storage.root / "xorbs"
        self.dir.mkdir(exist_ok=True)

    def path(self, xorb: str) -> Path:
        """Where the (validated, hex) xorb ``xorb`` lives."""
        return self.dir / xorb[:2] / xorb[2:4] / xorb

    def has_xorb(self, xorb: str) -> bool:
        """Whether the xorb is recorded (and so its file is durable)."""
        return self.storage._conn().execute("SELECT 1 FROM xorbs WHERE hash=?", (xorb,)).fetchone() is not None

    def touch_xorbs(self, xorbs: set[str]) -> bool:
        """Refresh the GC clock of these xorbs (about to be referenced); False if any is not stored."""
        now = time.time()
        with self.storage._write() as tx:
            found = sum(
                tx.execute("UPDATE xorbs SET created_at=? WHERE hash=?", (now, xorb)).rowcount for xorb in xorbs
            )
        return found == len(xorbs)

    def add_xorb(self, xorb: str, staged: Path, records: list[ChunkRecord]) -> bool:
        """Adopt a verified, fsynced staging file as xorb ``xorb``; False if it was already stored."""
        target = self.path(xorb)
        if self.has_xorb(xorb) and target.exists():
            staged.unlink()
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        with contextlib.suppress(OSError):
            fd = os.open(target.parent, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        with self.storage._write() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO xorbs (hash, bytes, chunks, created_at) VALUES (?, ?, ?, ?)",
                (xorb, target.stat().st_size, len(records), time.time()),
            )
            tx.execute("DELETE FROM xorb_chunks WHERE xorb=?", (xorb,))
            tx.executemany(
                "INSERT INTO xorb_chunks (xorb, idx, hash, start, end, size) VALUES (?, ?, ?, ?, ?, ?)",
                [(xorb, i, hash_to_hex(r.hash), r.start, r.end, r.size) for i, r in enumerate(records)],
            )
        return True

    def chunks(self, xorb: str, start: int = 0, end: int | None = None) -> list[tuple[str, int, int, int]]:
        """``(hash, byte start, byte end, size)`` of chunks ``[start, end)`` of a xorb."""
        sql = "SELECT hash, start, end, size FROM xorb_chunks WHERE xorb=? AND idx >= ?"
        args: tuple = (xorb, start)
        if end is not None:
            sql, args = sql + " AND idx < ?", (xorb, start, end)
        return self.storage._conn().execute(sql + " ORDER BY idx", args).fetchall()

    # -- files ------------------------------------------------------------------------------------------------

    def file_pieces(self, file_hash_hex: str) -> tuple[int, list[Piece]] | None:
        """``(size, pieces)`` of a registered Xet file, or None."""
        row = self.storage._conn().execute(
            "SELECT size, terms FROM xet_files WHERE hash=?", (file_hash_hex,)
        ).fetchone()
        if row is None:
            return None
        return row[0], [Piece(*term) for term in json.loads(row[1])]

    def sha256_of(self, file_hash_hex: str) -> str | None:
        """The sha256 of a registered Xet file."""
        row = self.storage._conn().execute("SELECT sha256 FROM xet_files WHERE hash=?", (file_hash_hex,)).fetchone()
        return row[0] if row else None

    def register(self, repo: Repo, info: FileInfo) -> BlobInfo:
        """Check one file of an uploaded shard and record it (as a blob of ``repo`` backed by Xet chunks)."""
        from zoo.hub.server.blobs import BlobInfo

        if info.sha256 is None:
            raise XorbFormatError("files uploaded to a git repo need their sha256 in the shard")
        if not info.terms:
            raise XorbFormatError("a file has no terms")
        if info.verification is None or len(info.verification) != len(info.terms):
            raise XorbFormatError("every term needs a verification hash")
        if not self.touch_xorbs({hash_to_hex(term.xorb) for term in info.terms}):
            raise XorbFormatError("the shard names a xorb that is not stored on this hub")
        pieces: list[Piece] = []
        all_chunks: list[tuple[bytes, int]] = []
        for term, proof in zip(info.terms, info.verification, strict=True):
            xorb = hash_to_hex(term.xorb)
            rows = self.chunks(xorb, term.start, term.end)
            if not self.has_xorb(xorb) or len(rows) != term.end - term.start:
                raise XorbFormatError(f"the shard names xorb {xorb} (chunks {term.start}-{term.end}), not uploaded")
            hashes = [hex_to_hash(h) for h, *_ in rows]
            if verification_hash(hashes) != proof:
                raise XorbFormatError("a term's verification hash does not match the xorb's chunks")
            size = sum(r[3] for r in rows)
            if size != term.size:
                raise XorbFormatError("a term's size does not match the xorb's chunks")
            pieces.append(Piece(xorb, term.start, term.end, size))
            all_chunks += [(h, r[3]) for h, r in zip(hashes, rows, strict=True)]
        file_hex = hash_to_hex(info.hash)
        if file_hash(all_chunks) != info.hash:
            raise XorbFormatError("the file hash does not match its chunks")
        total = sum(p.size for p in pieces)
        sha256, sha1 = hashlib.sha256(), hashlib.sha1(b"blob %d\x00" % total)
        for data in self.read(pieces, 0, total):
            sha256.update(data)
            sha1.update(data)
        claimed = hash_to_hex(info.sha256)  # stored like every Xet hash: four little-endian u64 words
        if sha256.hexdigest() != claimed:
            raise XorbFormatError(f"the file's content has sha256 {sha256.hexdigest()}, the shard claims {claimed}")
        with self.storage._write() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO xet_files (hash, sha256, size, terms, created_at) VALUES (?, ?, ?, ?, ?)",
                (file_hex, sha256.hexdigest(), total,
                 json.dumps([[p.xorb, p.start, p.end, p.size] for p in pieces]), time.time()),
            )
        blob = BlobInfo(sha256.hexdigest(), total, sha1.hexdigest())
        self.storage.record_blob(blob, repo, xet_hash=file_hex)
        return blob

    def read(self, pieces: list[Piece], start: int, end: int) -> Iterator[bytes]:
        """The file bytes ``[start, end)`` of a file made of ``pieces``, chunk by chunk (decompressed)."""
        position = 0
        for piece in pieces:
            if position + piece.size <= start:
                position += piece.size
                continue
            if position >= end:
                return
            with open(self.path(piece.xorb), "rb") as handle:
                for _hash, byte_start, byte_end, size in self.chunks(piece.xorb, piece.start, piece.end):
                    if position + size <= start:
                        position += size
                        continue
                    if position >= end:
                        return
                    handle.seek(byte_start)
                    raw = handle.read(byte_end - byte_start)
                    compressed, scheme, length = parse_header(raw, 0)
                    data = decompress(scheme, raw[8 : 8 + compressed], length)
                    lo, hi = max(0, start - position), min(size, end - position)
                    yield data[lo:hi]
                    position += size

