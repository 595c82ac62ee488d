"""Xet hashes: chunk hashes, the Merkle aggregation used for xorb and file hashes, term verification hashes, and
the string form of a hash (each 8-byte word printed as a little-endian u64).

All hashes are 32 bytes, computed with keyed blake3 (keys from the protocol specification).
"""

from __future__ import annotations

from collections.abc import Sequence

DATA_KEY = bytes(
    [102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28,
     157, 228, 33, 16, 155, 235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41]
)
INTERNAL_NODE_KEY = bytes(
    [1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230,
     93, 221, 83, 111, 55, 199, 109, 210, 248, 99, 82, 230, 74, 83, 113, 63]
)
VERIFICATION_KEY = bytes(
    [127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243,
     164, 205, 38, 213, 181, 219, 73, 230, 65, 36, 152, 127, 40, 251, 148, 195]
)
ZERO_KEY = bytes(32)
#: Mean branching factor of the aggregation tree; groups hold 2 to 2*4+1 nodes.
BRANCHING = 4


def keyed(key: bytes, data: bytes) -> bytes:
    """blake3 keyed hash (32 bytes). (blake3 is imported here: the ``hub`` extra is needed for Xet only.)"""
    import blake3

    return blake3.blake3(data, key=key).digest()


def chunk_hash(data: bytes) -> bytes:
    """Hash of one chunk's (uncompressed) bytes."""
    return keyed(DATA_KEY, data)


def hash_to_hex(h: bytes) -> str:
    """The string form of a hash: every 8-byte word byte-reversed (read as a little-endian u64), then hex."""
    return "".join(h[i : i + 8][::-1].hex() for i in range(0, 32, 8))


def hex_to_hash(text: str) -> bytes:
    """Inverse of :func:`hash_to_hex`."""
    raw = bytes.fromhex(text)
    if len(raw) != 32:
        raise ValueError("a Xet hash has 64 hex digits")
    return b"".join(raw[i : i + 8][::-1] for i in range(0, 32, 8))


def _last_word(h: bytes) -> int:
    return int.from_bytes(h[24:32], "little")


def _next_cut(nodes: Sequence[tuple[bytes, int]], start: int) -> int:
    """End (exclusive) of the group of nodes starting at ``start``: a node whose hash is 0 mod 4 closes it (the
    third node at the earliest), a group never exceeds 9 nodes, and the last group takes what is left."""
    remaining = len(nodes) - start
    if remaining <= 2:
        return len(nodes)
    end = start + min(2 * BRANCHING + 1, remaining)
    for i in range(start + 2, end):
        if _last_word(nodes[i][0]) % BRANCHING == 0:
            return i + 1
    return end


def _merge(nodes: Sequence[tuple[bytes, int]]) -> tuple[bytes, int]:
    text = "".join(f"{hash_to_hex(h)} : {size}\n" for h, size in nodes)
    return keyed(INTERNAL_NODE_KEY, text.encode()), sum(size for _, size in nodes)


def merkle_root(chunks: Sequence[tuple[bytes, int]]) -> bytes:
    """Root of the aggregation tree over ``(chunk hash, chunk size)`` pairs (all zeros when empty)."""
    if not chunks:
        return ZERO_KEY
    level = list(chunks)
    while len(level) > 1:
        merged = []
        start = 0
        while start < len(level):
            end = _next_cut(level, start)
            merged.append(_merge(level[start:end]))
            start = end
        level = merged
    return level[0][0]


def xorb_hash(chunks: Sequence[tuple[bytes, int]]) -> bytes:
    """A xorb's hash: the aggregation root of its chunks."""
    return merkle_root(chunks)


def file_hash(chunks: Sequence[tuple[bytes, int]]) -> bytes:
    """A file's hash: the aggregation root of its chunks, hashed once more with an all-zero key."""
    if not chunks:
        return ZERO_KEY
    return keyed(ZERO_KEY, merkle_root(chunks))


def verification_hash(chunk_hashes: Sequence[bytes]) -> bytes:
    """A term's verification hash: keyed hash of the concatenated raw chunk hashes of its range."""
    return keyed(VERIFICATION_KEY, b"".join(chunk_hashes))
