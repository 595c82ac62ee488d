"""Serialized xorbs: a sequence of chunks, each an 8-byte header (version 0, compressed size u24, compression
scheme u8, uncompressed size u24; little-endian) and its compressed bytes, optionally followed by a footer
(``XETBLOB`` ...) that this server does not need: chunk hashes are recomputed from the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo.hub.server.xet.hashing import chunk_hash, xorb_hash

HEADER = 8
FOOTER_IDENT = b"XETBLOB"
MAX_CHUNK = 128 * 1024
#: Largest serialized xorb accepted (the protocol's limit is 64 MiB; the footer adds a little).
MAX_XORB_BYTES = 64 * 1024 * 1024 + 4 * 1024 * 1024

NONE, LZ4, BG4_LZ4 = 0, 1, 2


class XorbFormatError(ValueError):
    """An uploaded xorb that is malformed or whose content does not match its hash."""


@dataclass(frozen=True)
class ChunkRecord:
    """One chunk of a stored xorb: byte range of header + data in the xorb, uncompressed size and hash."""

    start: int
    end: int
    size: int
    hash: bytes


def ungroup4(data: bytes) -> bytes:
    """Undo byte grouping: the data was split into 4 groups (byte i of every 4-byte word in group i)."""
    n = len(data)
    out = bytearray(n)
    offset = 0
    for i in range(4):
        length = n // 4 + (1 if i < n % 4 else 0)
        out[i::4] = data[offset : offset + length]
        offset += length
    return bytes(out)


def decompress(scheme: int, payload: bytes, size: int) -> bytes:
    """The uncompressed chunk (``size`` bytes) from its stored payload."""
    import lz4.frame  # the ``hub`` extra; needed for Xet only

    try:
        if scheme == NONE:
            data = payload
        elif scheme == LZ4:
            data = lz4.frame.decompress(payload)
        elif scheme == BG4_LZ4:
            data = ungroup4(lz4.frame.decompress(payload))
        else:
            raise XorbFormatError(f"unknown chunk compression scheme {scheme}")
    except RuntimeError as exc:  # lz4 reports corrupt frames as RuntimeError
        raise XorbFormatError(f"corrupt LZ4 data in a chunk: {exc}") from exc
    if len(data) != size:
        raise XorbFormatError(f"a chunk decompressed to {len(data)} bytes, its header says {size}")
    return data


def parse_header(buf: bytes | memoryview, offset: int) -> tuple[int, int, int]:
    """``(compressed size, scheme, uncompressed size)`` of the chunk header at ``offset``."""
    head = bytes(buf[offset : offset + HEADER])
    if len(head) < HEADER:
        raise XorbFormatError("truncated chunk header")
    if head[0] != 0:
        raise XorbFormatError(f"unsupported chunk header version {head[0]}")
    return int.from_bytes(head[1:4], "little"), head[4], int.from_bytes(head[5:8], "little")


def read_chunks(data: bytes) -> tuple[list[ChunkRecord], list[bytes]]:
    """Parse and decompress every chunk; returns the records and the uncompressed chunks."""
    records: list[ChunkRecord] = []
    chunks: list[bytes] = []
    offset = 0
    view = memoryview(data)
    while offset < len(data) and not data.startswith(FOOTER_IDENT, offset):
        compressed, scheme, size = parse_header(view, offset)
        if size > MAX_CHUNK or compressed > MAX_CHUNK + 1024:
            raise XorbFormatError("a chunk is larger than 128 KiB")
        end = offset + HEADER + compressed
        if end > len(data):
            raise XorbFormatError("truncated chunk data")
        chunk = decompress(scheme, bytes(view[offset + HEADER : end]), size)
        records.append(ChunkRecord(offset, end, size, chunk_hash(chunk)))
        chunks.append(chunk)
        offset = end
    if not records:
        raise XorbFormatError("a xorb holds at least one chunk")
    return records, chunks


def verify_xorb(data: bytes, expected: bytes) -> list[ChunkRecord]:
    """The chunk records of a serialized xorb whose Merkle hash must equal ``expected``."""
    records, _ = read_chunks(data)
    actual = xorb_hash([(r.hash, r.size) for r in records])
    if actual != expected:
        raise XorbFormatError("the xorb's content does not match its hash")
    return records
