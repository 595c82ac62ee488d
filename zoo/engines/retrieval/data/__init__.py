"""Seeded synthetic retrieval data, generated in code (nothing is downloaded).

- :mod:`.landmarks`: landmark-like scenes seen from varied viewpoints, with the revisited Oxford/Paris
  easy/hard/junk ground truth and distractors;
- :mod:`.reid`: pedestrians whose identity is their clothing, seen by several cameras, optionally occluded,
  with 17 COCO keypoints and occluder masks;
- :mod:`.places`: a LiDAR world scanned along a route (point clouds, BEV images, positions);
- :mod:`.text_video`: frozen CLIP-like text-token and frame embeddings that share latent concepts.
"""
