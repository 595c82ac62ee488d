"""Pure-PyTorch CPU kernels for torchvision's compiled operators, so torchvision's detection models run here.

PyPI's torchvision wheel is a CUDA build; beside the CPU torch wheel its compiled library does not load and
``torchvision.ops.nms``/``roi_align``/``roi_pool``/``deform_conv2d`` raise. That stops Faster/Mask R-CNN,
RetinaNet, FCOS and every deformable-convolution model. :func:`register` defines those operators' schemas in the
``torchvision`` namespace (when they are missing) and implements them here, with the same semantics as
torchvision's CPU kernels (read from the kernel definitions: sampling grid, bilinear boundary rules, rounding),
written from ordinary differentiable torch ops so autograd works without hand-written backward kernels.

They are references, not fast kernels: fine for tests, tiny variants and CPU inference of small models. On a
machine where torchvision's own library loads, none of this is used.
"""
from __future__ import annotations

import math
from typing import Any

import torch

#: The operator schemas, exactly as torchvision declares them.
SCHEMAS: dict[str, str] = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "roi_align": "roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                 "SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor",
    "roi_pool": "roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                "SymInt pooled_width) -> (Tensor, Tensor)",
    "deform_conv2d": "deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, "
                     "SymInt stride_h, SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, "
                     "SymInt dilation_w, SymInt groups, SymInt offset_groups, bool use_mask) -> Tensor",
}


def nms(dets: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression: indices of kept boxes by decreasing score (IoU > threshold suppresses)."""
    if dets.numel() == 0:
        return torch.empty(0, dtype=torch.long, device=dets.device)
    order = scores.argsort(descending=True)
    boxes = dets[order].to(torch.float64)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    lt = torch.maximum(boxes[:, None, :2], boxes[None, :, :2])
    rb = torch.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    iou = inter / (area[:, None] + area[None, :] - inter)
    suppressed = torch.zeros(len(order), dtype=torch.bool, device=dets.device)
    keep: list[int] = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return order[torch.tensor(keep, dtype=torch.long, device=dets.device)]


def _roi_align_group(flat: torch.Tensor, size: tuple[int, int, int], rois: torch.Tensor, scale: float, ph: int,
                     pw: int, gh: int, gw: int, aligned: bool) -> torch.Tensor:
    """RoIAlign of ``rois`` that share one sampling grid ``gh x gw``; ``flat`` is the input as ``[N*H*W, C]``."""
    _, height, width = size
    offset = 0.5 if aligned else 0.0
    batch = rois[:, 0].long()
    x0, y0 = rois[:, 1] * scale - offset, rois[:, 2] * scale - offset
    x1, y1 = rois[:, 3] * scale - offset, rois[:, 4] * scale - offset
    roi_w, roi_h = x1 - x0, y1 - y0
    if not aligned:
        roi_w, roi_h = roi_w.clamp(min=1.0), roi_h.clamp(min=1.0)
    dtype = flat.dtype
    iy = (torch.arange(ph, dtype=dtype)[:, None] + (torch.arange(gh, dtype=dtype)[None, :] + 0.5) / gh).reshape(-1)
    ix = (torch.arange(pw, dtype=dtype)[:, None] + (torch.arange(gw, dtype=dtype)[None, :] + 0.5) / gw).reshape(-1)
    ys = y0[:, None] + iy[None, :] * (roi_h / ph)[:, None]  # [R, ph*gh]
    xs = x0[:, None] + ix[None, :] * (roi_w / pw)[:, None]  # [R, pw*gw]

    def corners(v: torch.Tensor, limit: int) -> tuple[torch.Tensor, ...]:
        valid = (v >= -1.0) & (v <= limit)
        v = v.clamp(min=0)
        low = v.floor().long()
        at_edge = low >= limit - 1
        low = torch.where(at_edge, torch.full_like(low, limit - 1), low)
        high = torch.where(at_edge, low, low + 1)
        v = torch.where(at_edge, low.to(v.dtype), v)
        frac = v - low.to(v.dtype)
        return low, high, 1 - frac, frac, valid

    yl, yh, wyl, wyh, vy = corners(ys, height)
    xl, xh, wxl, wxh, vx = corners(xs, width)
    base = batch[:, None, None] * (height * width)
    out = 0
    for yi, wy in ((yl, wyl), (yh, wyh)):
        for xi, wx in ((xl, wxl), (xh, wxh)):
            index = base + yi[:, :, None] * width + xi[:, None, :]  # [R, Sy, Sx]
            weight = (wy[:, :, None] * wx[:, None, :]) * (vy[:, :, None] & vx[:, None, :])
            out = out + flat[index.reshape(-1)].reshape(*index.shape, -1) * weight[..., None]
    r, c = rois.shape[0], flat.shape[1]
    out = out.reshape(r, ph, gh, pw, gw, c).mean(dim=(2, 4))  # average of the bin's samples
    return out.permute(0, 3, 1, 2)


def roi_align(input: torch.Tensor, rois: torch.Tensor, spatial_scale: float, pooled_height: int,
              pooled_width: int, sampling_ratio: int, aligned: bool) -> torch.Tensor:
    """RoIAlign (Mask R-CNN): bilinear samples averaged per bin, torchvision's boundary and grid rules."""
    n, c, h, w = input.shape
    r = rois.shape[0]
    out = input.new_zeros(r, c, pooled_height, pooled_width)
    if r == 0:
        return out
    flat = input.permute(0, 2, 3, 1).reshape(n * h * w, c)
    if sampling_ratio > 0:
        groups = {(sampling_ratio, sampling_ratio): torch.arange(r)}
    else:  # adaptive: ceil(roi size / pooled size) samples per bin side, per RoI
        rh = (rois[:, 4] - rois[:, 2]) * spatial_scale
        rw = (rois[:, 3] - rois[:, 1]) * spatial_scale
        if not aligned:
            rh, rw = rh.clamp(min=1.0), rw.clamp(min=1.0)
        gh = torch.ceil(rh / pooled_height).clamp(min=1).long()
        gw = torch.ceil(rw / pooled_width).clamp(min=1).long()
        groups = {}
        for key in sorted(set(zip(gh.tolist(), gw.tolist()))):
            groups[key] = ((gh == key[0]) & (gw == key[1])).nonzero().reshape(-1)
    for (gh_, gw_), index in groups.items():
        for chunk in index.split(256):
            part = _roi_align_group(flat, (n, h, w), rois[chunk].to(input.dtype), spatial_scale, pooled_height,
                                    pooled_width, int(gh_), int(gw_), aligned)
            out = out.index_copy(0, chunk, part)
    return out


def roi_pool(input: torch.Tensor, rois: torch.Tensor, spatial_scale: float, pooled_height: int,
             pooled_width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """RoIPool (Fast R-CNN): the maximum of each rounded bin (0 for an empty bin) and its flat argmax."""
    n, c, h, w = input.shape
    r = rois.shape[0]
    out = input.new_zeros(r, c, pooled_height, pooled_width)
    arg = torch.full((r, c, pooled_height, pooled_width), -1, dtype=torch.long)
    for k in range(r):
        b = int(rois[k, 0])
        x0, y0, x1, y1 = (int(round(float(v) * spatial_scale)) for v in rois[k, 1:])
        roi_h, roi_w = max(y1 - y0 + 1, 1), max(x1 - x0 + 1, 1)
        for i in range(pooled_height):
            hs = min(max(math.floor(i * roi_h / pooled_height) + y0, 0), h)
            he = min(max(math.ceil((i + 1) * roi_h / pooled_height) + y0, 0), h)
            for j in range(pooled_width):
                ws = min(max(math.floor(j * roi_w / pooled_width) + x0, 0), w)
                we = min(max(math.ceil((j + 1) * roi_w / pooled_width) + x0, 0), w)
                if he <= hs or we <= ws:
                    continue
                region = input[b, :, hs:he, ws:we].reshape(c, -1)
                value, where = region.max(dim=1)
                out[k, :, i, j] = value
                arg[k, :, i, j] = (where // (we - ws) + hs) * w + (where % (we - ws) + ws)
    return out, arg


def _bilinear_zero_outside(img: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Deformable-convolution sampling: bilinear at ``(y, x)``, corners outside the image count as 0.

    ``img`` is ``[B, C, H, W]``; ``y``/``x`` are ``[B, C, P]`` sample positions; returns ``[B, C, P]``.
    """
    b, c, h, w = img.shape
    inside = (y > -1) & (y < h) & (x > -1) & (x < w)
    y0, x0 = y.floor(), x.floor()
    ly, lx = y - y0, x - x0
    flat = img.reshape(b, c, h * w)
    out = 0
    for dy, wy in ((0, 1 - ly), (1, ly)):
        for dx, wx in ((0, 1 - lx), (1, lx)):
            yy, xx = (y0 + dy).long(), (x0 + dx).long()
            ok = inside & (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            index = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1))
            out = out + flat.gather(2, index) * (wy * wx * ok)
    return out


def deform_conv2d(input: torch.Tensor, weight: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                  bias: torch.Tensor, stride_h: int, stride_w: int, pad_h: int, pad_w: int, dilation_h: int,
                  dilation_w: int, groups: int, offset_groups: int, use_mask: bool) -> torch.Tensor:
    """Deformable convolution v1/v2: each kernel tap samples at its grid position plus a learned offset
    (times a modulation mask when ``use_mask``), then an ordinary grouped convolution over the samples."""
    b, c, h, w = input.shape
    oc, cg, kh, kw = weight.shape
    oh = (h + 2 * pad_h - (dilation_h * (kh - 1) + 1)) // stride_h + 1
    ow = (w + 2 * pad_w - (dilation_w * (kw - 1) + 1)) // stride_w + 1
    k = kh * kw
    dtype = input.dtype
    base_y = (torch.arange(oh, dtype=dtype) * stride_h - pad_h)[:, None, None, None]
    base_x = (torch.arange(ow, dtype=dtype) * stride_w - pad_w)[None, :, None, None]
    tap_y = (torch.arange(kh, dtype=dtype) * dilation_h)[None, None, :, None]
    tap_x = (torch.arange(kw, dtype=dtype) * dilation_w)[None, None, None, :]
    grid_y = (base_y + tap_y).expand(oh, ow, kh, kw).reshape(oh * ow, k)
    grid_x = (base_x + tap_x).expand(oh, ow, kh, kw).reshape(oh * ow, k)
    off = offset.reshape(b, offset_groups, k, 2, oh * ow)
    ys = grid_y.T[None, None] + off[:, :, :, 0]  # [B, G_off, K, P]
    xs = grid_x.T[None, None] + off[:, :, :, 1]
    per_group = c // offset_groups
    ys = ys.repeat_interleave(per_group, dim=1).reshape(b, c, k * oh * ow)
    xs = xs.repeat_interleave(per_group, dim=1).reshape(b, c, k * oh * ow)
    cols = _bilinear_zero_outside(input, ys, xs).reshape(b, c, k, oh * ow)
    if use_mask:
        m = mask.reshape(b, offset_groups, k, oh * ow).repeat_interleave(per_group, dim=1)
        cols = cols * m
    cols = cols.reshape(b, groups, cg * k, oh * ow)
    wmat = weight.reshape(groups, oc // groups, cg * k)
    out = torch.einsum("gok,bgkp->bgop", wmat, cols).reshape(b, oc, oh, ow)
    return out + bias.reshape(1, -1, 1, 1)


_IMPLS: dict[str, Any] = {"nms": nms, "roi_align": roi_align, "roi_pool": roi_pool, "deform_conv2d": deform_conv2d}


def register(library: torch.library.Library) -> list[str]:
    """Define (where missing) and implement torchvision's operators on ``library`` (a ``torchvision`` FRAGMENT).

    Returns the names registered. Implementations are ``CompositeImplicitAutograd`` (autograd differentiates the
    torch ops they are written in), except ``nms``: a CPU kernel, since it has no gradient.
    """
    done: list[str] = []
    for name, schema in SCHEMAS.items():
        try:
            library.define(schema)
        except RuntimeError:
            pass  # already defined (e.g. nms by the import shim)
        # nms has no gradient and torchvision registers a fake (meta) kernel for it: a plain CPU kernel
        library.impl(name, _IMPLS[name], "CPU" if name == "nms" else "CompositeImplicitAutograd")
        done.append(name)
    return done
