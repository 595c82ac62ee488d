"""The Xet storage protocol, server side: what ``hf_xet`` (the default upload/download path of huggingface_hub)
talks to, implemented from the public specification (huggingface.co/docs/xet).

The client cuts files into content-defined chunks, packs new chunks into *xorbs* (compressed chunk sequences,
content-addressed by a Merkle hash of their chunk hashes) and uploads them, then uploads a *shard* that describes
each file as a list of *terms* (xorb, chunk range), with a verification hash per term and the file's sha256.
Downloads ask for a file's *reconstruction* (the terms, plus signed links to byte ranges of xorbs).

Modules: :mod:`hashing` (chunk/xorb/file/verification hashes, hash strings), :mod:`xorb` (parsing, decompression,
verification of uploaded xorbs), :mod:`shard` (parsing uploaded shards), :mod:`store` (xorb files and the
``xorbs``/``xorb_chunks``/``xet_files`` tables; registering files), :mod:`reader` (a file's bytes from its
terms, for plain HTTP downloads), :mod:`routes` (the token endpoints and the CAS API).
"""
