"""Uploaded shards (the MDB shard format): a 48-byte header, the file info section (one block per file: header,
terms, verification entries, optional sha256 extension), the CAS info section (the new xorbs and their chunks),
each section closed by a bookend; the footer is omitted in uploads (and ignored if present).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER_TAG = bytes(
    [72, 70, 82, 101, 112, 111, 77, 101, 116, 97, 68, 97, 116, 97, 0, 85,
     105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169]
)
ENTRY = 48
BOOKEND = b"\xff" * 32
FLAG_VERIFICATION = 1 << 31
FLAG_METADATA_EXT = 1 << 30
MAX_SHARD_BYTES = 64 * 1024 * 1024


class ShardFormatError(ValueError):
    """A malformed shard."""


@dataclass(frozen=True)
class Term:
    """A file term: chunks ``[start, end)`` of a xorb, ``size`` bytes once uncompressed."""

    xorb: bytes
    size: int
    start: int
    end: int


@dataclass(frozen=True)
class FileInfo:
    """One file of a shard: its Xet hash, terms, verification hashes (one per term) and sha256 if sent."""

    hash: bytes
    terms: list[Term]
    verification: list[bytes] | None
    sha256: bytes | None


@dataclass(frozen=True)
class CasInfo:
    """A xorb listed in a shard: hash and chunk hashes with sizes."""

    hash: bytes
    chunks: list[tuple[bytes, int]]


def _entries(data: bytes, offset: int, count: int) -> tuple[list[bytes], int]:
    end = offset + count * ENTRY
    if end > len(data):
        raise ShardFormatError("truncated shard")
    return [data[i : i + ENTRY] for i in range(offset, end, ENTRY)], end


def parse_shard(data: bytes) -> tuple[list[FileInfo], list[CasInfo]]:
    """The files and xorbs an uploaded shard describes."""
    if len(data) < ENTRY or data[:32] != HEADER_TAG:
        raise ShardFormatError("not a shard (bad header tag)")
    version = struct.unpack_from("<Q", data, 32)[0]
    if version != 2:
        raise ShardFormatError(f"unsupported shard header version {version}")
    offset = ENTRY
    files: list[FileInfo] = []
    while True:
        if offset + ENTRY > len(data):
            raise ShardFormatError("file info section has no bookend")
        head = data[offset : offset + ENTRY]
        offset += ENTRY
        if head[:32] == BOOKEND:
            break
        flags, count = struct.unpack_from("<II", head, 32)
        if count > 10_000_000:
            raise ShardFormatError("implausible number of terms")
        raw_terms, offset = _entries(data, offset, count)
        terms = []
        for raw in raw_terms:
            _flags, size, start, end = struct.unpack_from("<IIII", raw, 32)
            if end <= start:
                raise ShardFormatError("a term has an empty chunk range")
            terms.append(Term(raw[:32], size, start, end))
        verification = None
        if flags & FLAG_VERIFICATION:
            raw_verify, offset = _entries(data, offset, count)
            verification = [raw[:32] for raw in raw_verify]
        sha256 = None
        if flags & FLAG_METADATA_EXT:
            raw_ext, offset = _entries(data, offset, 1)
            sha256 = raw_ext[0][:32]
        files.append(FileInfo(head[:32], terms, verification, sha256))
    xorbs: list[CasInfo] = []
    while True:
        if offset + ENTRY > len(data):
            raise ShardFormatError("CAS info section has no bookend")
        head = data[offset : offset + ENTRY]
        offset += ENTRY
        if head[:32] == BOOKEND:
            break
        _flags, count, _in_cas, _on_disk = struct.unpack_from("<IIII", head, 32)
        if count > 10_000_000:
            raise ShardFormatError("implausible number of chunks")
        raw_chunks, offset = _entries(data, offset, count)
        chunks = [(raw[:32], struct.unpack_from("<I", raw, 36)[0]) for raw in raw_chunks]
        xorbs.append(CasInfo(head[:32], chunks))
    return files, xorbs
