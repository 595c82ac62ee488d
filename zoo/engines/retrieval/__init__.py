"""The retrieval engine: what image, landmark, re-ID, place and text-video retrieval methods share.

- :mod:`~zoo.engines.retrieval.index`: faiss indexes (exact, IVF, IVF-PQ, optional exact re-ranking of the
  candidates), sized to the data they hold (a small set gets fewer IVF lists, or exact search), GPU search when
  faiss sees a GPU; persisted as bytes (no pickle). faiss is imported lazily.
- :mod:`~zoo.engines.retrieval.pooling`: GeM (fixed or learnable p) and attention pooling (softplus spatial
  attention, and learned-query cross-attention on torch's ``scaled_dot_product_attention``).
- :mod:`~zoo.engines.retrieval.heads`: cosine-margin classification heads: ArcFace, CosFace, MadaCos.
- :mod:`~zoo.engines.retrieval.losses`: triplet losses (explicit tuples, batch-hard), uncertainty-weighted
  multi-task sums.
- :mod:`~zoo.engines.retrieval.samplers`: P x K identity batches, and anchor/positive/hard-negative tuples.
- :mod:`~zoo.engines.retrieval.evaluate`: rank a database for queries and report mAP, recall@k, CMC and the
  revisited Oxford/Paris easy/medium/hard mAP (metrics in :mod:`zoo.metrics.retrieval`).
- :mod:`~zoo.engines.retrieval.tasks`: what image-retrieval plugins share around their model (data sources,
  batched encoding, landmark and re-ID evaluation, margin-head loss, descriptor search).
- :mod:`~zoo.engines.retrieval.backbones`: timm backbones that expose intermediate stages.
- :mod:`~zoo.engines.retrieval.data`: seeded synthetic landmark-like, re-ID, LiDAR-place and text-video sets.
"""
