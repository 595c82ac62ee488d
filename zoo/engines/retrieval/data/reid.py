"""Synthetic pedestrians for re-identification: identity = clothing; cameras, pose jitter and occluders vary.

A person is drawn upright in the middle of an (H, W) image (default 32 x 16, the 2:1 aspect of 256 x 128 re-ID
crops): head with hair, torso and arms in the upper-body colour and pattern (plain, horizontal or vertical
stripes, checks), legs in the lower-body colour, shoes. Each identity draws its colours, pattern and hair from
small palettes (so identities can share some of them). Each camera has its own brightness, colour cast and
background; each image jitters position and scale. The 17 COCO keypoints (nose, eyes, ears, shoulders, elbows,
wrists, hips, knees, ankles) follow the drawing, so pose-guided methods get exact keypoints.

An *occluder* (an obstacle covering the bottom or one side of the person, with its own colour and texture) is
added with probability ``occlusion``; its mask and the keypoints it hides (``visible = 0``) are returned.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from zoo.errors import ConfigError

# COCO order; (x, y) in [0, 1] of the image, before jitter
KEYPOINTS = torch.tensor([
    [0.50, 0.12], [0.47, 0.10], [0.53, 0.10], [0.44, 0.12], [0.56, 0.12],  # nose, eyes, ears
    [0.32, 0.21], [0.68, 0.21], [0.26, 0.35], [0.74, 0.35], [0.26, 0.49], [0.74, 0.49],  # shoulders..wrists
    [0.40, 0.55], [0.60, 0.55], [0.40, 0.73], [0.60, 0.73], [0.40, 0.92], [0.60, 0.92],  # hips..ankles
])
PALETTE = torch.tensor([[0.85, 0.1, 0.1], [0.1, 0.6, 0.15], [0.1, 0.2, 0.8], [0.9, 0.85, 0.1],
                        [0.95, 0.95, 0.95], [0.1, 0.1, 0.1], [0.55, 0.3, 0.1], [0.6, 0.1, 0.6]])
HAIR = torch.tensor([[0.05, 0.05, 0.05], [0.45, 0.25, 0.1], [0.85, 0.75, 0.4], [0.6, 0.6, 0.6]])


@dataclass
class ReIDImages(Dataset):
    """Items ``{"image", "pid", "camid", "keypoints" (17, 2), "visible" (17,), "occluder" (H, W)}``."""

    images: torch.Tensor
    pids: torch.Tensor
    camids: torch.Tensor
    keypoints: torch.Tensor
    visible: torch.Tensor
    occluders: torch.Tensor
    clean: torch.Tensor  # the same image without its occluder (what a perfect inpainting would give)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"image": self.images[i], "pid": self.pids[i], "camid": self.camids[i],
                "keypoints": self.keypoints[i], "visible": self.visible[i], "occluder": self.occluders[i]}


def identity(pid: int) -> dict[str, torch.Tensor]:
    """The clothing of identity ``pid``: upper/lower colours, pattern id and hair colour."""
    g = torch.Generator().manual_seed(int(pid) * 104729 + 3)
    upper, lower = torch.randint(len(PALETTE), (2,), generator=g)
    return {"upper": PALETTE[upper], "lower": PALETTE[lower], "pattern": torch.randint(4, (), generator=g),
            "hair": HAIR[torch.randint(len(HAIR), (), generator=g)]}


def _draw(pid: int, cam: int, g: torch.Generator, size: tuple[int, int], occluded: bool
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    h, w = size
    who = identity(pid)
    cam_g = torch.Generator().manual_seed(cam * 31 + 5)
    gain = 0.8 + 0.4 * torch.rand((), generator=cam_g)
    cast = (torch.rand(3, generator=cam_g) - 0.5) * 0.16
    background = torch.rand(3, generator=cam_g) * 0.6 + 0.2
    dx = float(torch.rand((), generator=g) - 0.5) * 0.12
    scale = 0.92 + 0.13 * float(torch.rand((), generator=g))
    yy, xx = torch.meshgrid((torch.arange(h) + 0.5) / h, (torch.arange(w) + 0.5) / w, indexing="ij")
    u, v = (xx - 0.5 - dx) / scale + 0.5, (yy - 0.5) / scale + 0.5  # image -> person coordinates
    img = background[:, None, None] + 0.1 * torch.randn(3, h, w, generator=g)
    torso = (u > 0.3) & (u < 0.7) & (v > 0.2) & (v < 0.55)
    arms = (((u > 0.22) & (u < 0.3)) | ((u > 0.7) & (u < 0.78))) & (v > 0.2) & (v < 0.5)
    upper = torso | arms
    pattern = int(who["pattern"])
    stripe = [torch.ones_like(u, dtype=torch.bool), torch.sin(v * 60) > 0, torch.sin(u * 40) > 0,
              (torch.sin(v * 50) > 0) ^ (torch.sin(u * 40) > 0)][pattern]
    legs = (((u > 0.33) & (u < 0.48)) | ((u > 0.52) & (u < 0.67))) & (v >= 0.55) & (v < 0.92)
    shoes = (((u > 0.33) & (u < 0.48)) | ((u > 0.52) & (u < 0.67))) & (v >= 0.92) & (v < 0.97)
    head = ((u - 0.5) / 0.1) ** 2 + ((v - 0.13) / 0.07) ** 2 <= 1
    hair = head & (v < 0.1)
    paint = [(upper, torch.where(stripe[None], who["upper"][:, None, None], who["upper"][:, None, None] * 0.45)),
             (legs, who["lower"]), (shoes, torch.tensor([0.15, 0.1, 0.05])), (head, torch.tensor([0.9, 0.7, 0.55])),
             (hair, who["hair"])]
    for region, value in paint:
        img = torch.where(region[None], value if value.ndim == 3 else value[:, None, None], img)
    clean = ((img * gain + cast[:, None, None]) + 0.02 * torch.randn(3, h, w, generator=g)).clamp(0, 1)
    kp = torch.stack([(KEYPOINTS[:, 0] - 0.5) * scale + 0.5 + dx, (KEYPOINTS[:, 1] - 0.5) * scale + 0.5], 1)
    mask = torch.zeros(h, w, dtype=torch.bool)
    if occluded:
        if float(torch.rand((), generator=g)) < 0.5:  # an obstacle in front of the legs
            top = 0.45 + 0.3 * float(torch.rand((), generator=g))
            mask = yy > top
        else:  # from one side
            edge = 0.35 + 0.15 * float(torch.rand((), generator=g))
            mask = (xx < edge) if float(torch.rand((), generator=g)) < 0.5 else (xx > 1 - edge)
            mask = mask & (yy > 0.15)
        texture = torch.rand(3, generator=g)[:, None, None] * (0.7 + 0.3 * (torch.sin(xx * 30 + yy * 10) > 0))
        img = torch.where(mask[None], texture, clean)
    else:
        img = clean
    px = (kp[:, 0] * w).long().clamp(0, w - 1)
    py = (kp[:, 1] * h).long().clamp(0, h - 1)
    visible = (~mask[py, px]).float()
    return img, kp, visible, mask, clean


def make_reid(identities: int = 16, per_identity: int = 8, cameras: int = 4, size: tuple[int, int] = (32, 16),
              occlusion: float = 0.0, seed: int = 0, first_id: int = 0) -> ReIDImages:
    """``per_identity`` images of each of ``identities`` people (pids ``first_id..``), cameras in turn."""
    if identities < 1 or per_identity < 1 or cameras < 1 or size[0] < 8 or size[1] < 4:
        raise ConfigError(f"make_reid needs identities, per_identity, cameras >= 1 and size >= (8, 4); got "
                          f"{identities}, {per_identity}, {cameras}, {size}")
    g = torch.Generator().manual_seed(seed)
    rows = []
    for pid in range(first_id, first_id + identities):
        for j in range(per_identity):
            cam = j % cameras
            occ = float(torch.rand((), generator=g)) < occlusion
            rows.append((pid, cam, *_draw(pid, cam, g, size, occ)))
    pids, cams, images, kps, vis, masks, clean = zip(*rows)
    return ReIDImages(torch.stack(images), torch.tensor(pids), torch.tensor(cams), torch.stack(kps),
                      torch.stack(vis), torch.stack(masks), torch.stack(clean))


@dataclass
class ReIDBenchmark:
    """Query and gallery sets of the same (unseen) identities, and the junk mask (same pid and camera)."""

    query: ReIDImages
    gallery: ReIDImages

    def junk(self) -> np.ndarray:
        """(Q, G) True where the gallery image shows the query's identity from the query's own camera."""
        same_pid = self.query.pids[:, None] == self.gallery.pids[None, :]
        same_cam = self.query.camids[:, None] == self.gallery.camids[None, :]
        return (same_pid & same_cam).numpy()


def make_reid_benchmark(identities: int = 12, cameras: int = 4, gallery_per_camera: int = 2,
                        query_occlusion: float = 1.0, gallery_occlusion: float = 0.0,
                        size: tuple[int, int] = (32, 16), seed: int = 1, first_id: int = 1000) -> ReIDBenchmark:
    """One query per identity (camera 0; occluded with probability ``query_occlusion``, as in
    Occluded-DukeMTMC) and ``gallery_per_camera`` gallery images per identity and camera."""
    query = make_reid(identities, 1, 1, size, query_occlusion, seed, first_id)
    gallery = make_reid(identities, cameras * gallery_per_camera, cameras, size, gallery_occlusion, seed + 1,
                        first_id)
    return ReIDBenchmark(query, gallery)
