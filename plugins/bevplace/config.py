"""BEVPlace variant configs (no torch import)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BEVPlaceConfig:
    """BEV rasterisation, the transformation group, the networks and the recipe.

    The group samples ``scales`` scales (``scale_step ** i``) x ``rotations`` rotations (``rotation_start +
    i * rotation_step`` degrees). ``circular``: the rotations cover the full circle, so the group convolution
    pads the rotation axis circularly (a rotation of the input by one step shifts the group axis cyclically).
    """

    radius: float = 12.0
    resolution: float = 0.8
    rotations: int = 8
    rotation_start: float = 0.0
    rotation_step: float = 45.0
    scales: int = 1
    scale_step: float = 0.5
    circular: bool = True
    channels: tuple[int, int] = (8, 16)  # the extractor's widths (the public code: 16, 32)
    tower: tuple[int, int, int] = (16, 4, 8)  # group-conv width, then the two bilinear factors (code: 64, 8, 16)
    keypoint_step: int = 2  # a local feature every ``keypoint_step`` BEV pixels (code: 5)
    clusters: int = 8
    margin: float = 0.3
    # recipe and synthetic route
    steps: int = 60
    batch_size: int = 8
    lr: float = 1e-3
    places: int = 40
    positive_radius: float = 5.0
    negative_radius: float = 15.0

    @property
    def size(self) -> int:
        """BEV image side: ``2 * floor(radius / resolution) + 1``."""
        return 2 * int(self.radius / self.resolution + 1e-9) + 1

    @property
    def local_dim(self) -> int:
        """Local feature size: the product of the two bilinear factors."""
        return self.tower[1] * self.tower[2]


def tiny() -> BEVPlaceConfig:
    """31 x 31 BEV images, a full circle of 8 rotations (circular group), 32-d local features, 8 clusters."""
    return BEVPlaceConfig()


def paper() -> BEVPlaceConfig:
    """The paper / public code: 0.4 m cells over +-40 m (201 x 201), 5 scales (0.5^i) x 5 rotations (-90 to 90
    degrees by 45), extractor widths 16/32, group convolutions of 64 channels with bilinear factors 8 x 16 =
    128-d local features every 5 pixels, NetVLAD with 64 clusters (8192-d global descriptor)."""
    return BEVPlaceConfig(radius=40.0, resolution=0.4, rotations=5, rotation_start=-90.0, rotation_step=45.0,
                          scales=5, circular=False, channels=(16, 32), tower=(64, 8, 16), keypoint_step=5,
                          clusters=64, steps=20_000, batch_size=8)


def plain() -> BEVPlaceConfig:
    """The baseline without a group: one rotation, one scale (a CNN + NetVLAD on the BEV image)."""
    from dataclasses import replace

    return replace(tiny(), rotations=1, circular=False)
