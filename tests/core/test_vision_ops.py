"""The pure-PyTorch CPU kernels behind torchvision's ops (zoo.vision_ops), checked against their definitions."""
from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

import zoo  # noqa: F401 - installs the import hook before torchvision
from zoo import vision_ops

torchvision = pytest.importorskip("torchvision")
from torchvision import ops  # noqa: E402


def _brute_nms(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> list[int]:
    """Greedy NMS written from the definition, box by box."""
    order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    keep: list[int] = []
    for i in order:
        if all(float(ops.box_iou(boxes[i : i + 1], boxes[j : j + 1])) <= threshold for j in keep):
            keep.append(i)
    return keep


def test_nms_equals_the_greedy_definition() -> None:
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(60, 2, generator=g) * 50
    boxes = torch.cat([xy, xy + 5 + torch.rand(60, 2, generator=g) * 20], dim=1)
    scores = torch.rand(60, generator=g)
    for threshold in (0.1, 0.3, 0.7):
        assert ops.nms(boxes, scores, threshold).tolist() == _brute_nms(boxes, scores, threshold)
    assert ops.nms(torch.zeros(0, 4), torch.zeros(0), 0.5).numel() == 0


def test_batched_nms_keeps_classes_apart() -> None:
    boxes = torch.tensor([[0, 0, 10, 10], [0, 0, 10, 10.0]])
    scores = torch.tensor([0.9, 0.8])
    assert ops.batched_nms(boxes, scores, torch.tensor([0, 1]), 0.5).tolist() == [0, 1]
    assert ops.batched_nms(boxes, scores, torch.tensor([0, 0]), 0.5).tolist() == [0]


def test_roi_align_hand_computed() -> None:
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    # aligned=False, 2x2 bins over the whole map, one sample per bin at the bin centre (1, 1), (1, 3), ...
    out = ops.roi_align(x, torch.tensor([[0, 0, 0, 4, 4.0]]), (2, 2), 1.0, 1, False)
    assert out.flatten().tolist() == [5.0, 7.0, 13.0, 15.0]
    # aligned=True shifts by half a pixel: the bin centres fall on (0.5, 0.5) ... -> bilinear averages
    out = ops.roi_align(x, torch.tensor([[0, 0, 0, 4, 4.0]]), (2, 2), 1.0, 1, True)
    assert out.flatten().tolist() == pytest.approx([2.5, 4.5, 10.5, 12.5])
    # samples at y = 4 (= H: clamped to the last row) and y = 6 (> H: contributes 0 but counts in the average),
    # x = 0.25 and 0.75: (0.75*12 + 0.25*13 + 0.25*12 + 0.75*13 + 0 + 0) / 4, as torchvision's C++/CUDA kernels do
    out = ops.roi_align(x, torch.tensor([[0, 0, 3, 1, 7.0]]), (1, 1), 1.0, 2, False)
    assert float(out) == pytest.approx(6.25)


def test_roi_align_adaptive_grid_and_batch_index() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 9, 11, generator=g)
    rois = torch.tensor([[1, 0.5, 1.0, 8.0, 7.5], [0, 2.0, 0.0, 10.5, 8.0]])
    adaptive = ops.roi_align(x, rois, (3, 2), 1.0, -1, True)
    for k, roi in enumerate(rois):  # the adaptive grid equals the fixed grid of that RoI's size
        gh = int(torch.ceil((roi[4] - roi[2]) / 3))
        gw = int(torch.ceil((roi[3] - roi[1]) / 2))
        fixed = vision_ops._roi_align_group(x.permute(0, 2, 3, 1).reshape(-1, 3), (2, 9, 11), roi[None], 1.0, 3, 2,
                                            gh, gw, True)
        torch.testing.assert_close(adaptive[k : k + 1], fixed)


def test_roi_align_gradient() -> None:
    x = torch.rand(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[0, 0.3, 0.7, 3.9, 4.2]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: ops.roi_align(t, rois, (2, 2), 1.0, 2, True), (x,))


def test_roi_pool_takes_the_maximum_of_each_bin() -> None:
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = ops.roi_pool(x, torch.tensor([[0, 0, 0, 3, 3.0]]), (2, 2), 1.0)
    assert out.flatten().tolist() == [5.0, 7.0, 13.0, 15.0]


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 1, 1, 1), (2, 0, 1, 2), (1, 2, 2, 1)])
def test_deform_conv_with_zero_offsets_is_a_convolution(stride: int, padding: int, dilation: int,
                                                       groups: int) -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 4, 9, 8, generator=g)
    w = torch.randn(6, 4 // groups, 3, 3, generator=g)
    b = torch.randn(6, generator=g)
    ref = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    offset = torch.zeros(2, 2 * 9, *ref.shape[-2:])
    out = ops.deform_conv2d(x, offset, w, b, stride=stride, padding=padding, dilation=dilation)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_deform_conv_integer_offset_shifts_and_mask_scales() -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, 2, 8, 8, generator=g)
    w = torch.randn(3, 2, 1, 1, generator=g)
    offset = torch.zeros(1, 2, 8, 8)
    offset[:, 1] = 1.0  # every sample one pixel to the right
    out = ops.deform_conv2d(x, offset, w)
    shifted = F.pad(x[..., 1:], (0, 1))  # the last column samples outside: zero
    torch.testing.assert_close(out, F.conv2d(shifted, w), atol=1e-5, rtol=1e-5)
    mask = torch.full((1, 1, 8, 8), 0.5)
    torch.testing.assert_close(ops.deform_conv2d(x, offset, w, mask=mask), 0.5 * F.conv2d(shifted, w),
                               atol=1e-5, rtol=1e-5)


def test_deform_conv_fractional_offsets_interpolate_and_differentiate() -> None:
    x = torch.rand(1, 1, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    offset = torch.full((1, 2, 5, 5), 0.25, dtype=torch.float64, requires_grad=True)
    out = ops.deform_conv2d(x, offset, w)
    expected = (x[0, 0, 0, 0] * 0.5625 + x[0, 0, 0, 1] * 0.1875 + x[0, 0, 1, 0] * 0.1875
                + x[0, 0, 1, 1] * 0.0625)
    assert float(out[0, 0, 0, 0]) == pytest.approx(float(expected))
    assert torch.autograd.gradcheck(lambda a, o: ops.deform_conv2d(a, o, w), (x, offset))


def test_torchvision_detectors_train_and_infer_on_cpu() -> None:
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_fpn

    torch.manual_seed(0)
    model = fasterrcnn_mobilenet_v3_large_fpn(weights=None, weights_backbone=None, num_classes=3, min_size=96,
                                              max_size=96)
    target = [{"boxes": torch.tensor([[10, 10, 60, 60.0]]), "labels": torch.tensor([1])}]
    losses = model([torch.rand(3, 96, 96)], target)
    sum(losses.values()).backward()
    assert all(torch.isfinite(v) for v in losses.values())
    model.eval()
    with torch.no_grad():
        out = model([torch.rand(3, 96, 96)])
    assert out[0]["boxes"].shape[1] == 4
    assert set(itertools.chain.from_iterable(o.keys() for o in out)) == {"boxes", "labels", "scores"}
