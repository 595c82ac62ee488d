"""FDNets: the FD module added to residual networks (Table 2) by hooks, so any timm or torchvision ResNet-family
model becomes its FD version with the same parameters and the same state-dict keys (pretrained weights load).

In a residual block, FD(F1, F2) refines ``F2`` = the output of the second convolution (after its batch norm)
with the difference to ``F1`` = that convolution's input (the output of the first conv unit): in the basic block
F1 is the first 3x3 unit, in the bottleneck the 1x1 reduction and F2 the 3x3 (Table 2). A block whose second
convolution changes the size (the strided 3x3 of a bottleneck's first block in a stage) is left as it is: FD is
only defined where the convolution keeps the size of its input (Sect. 3.2).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo.compat import import_timm
from zoo_plugins.fd_module.config import FDConfig
from zoo_plugins.fd_module.layers import fd_gate


def _is_residual_block(module: nn.Module) -> bool:
    return all(isinstance(getattr(module, name, None), nn.Module) for name in ("conv1", "conv2", "bn2")) \
        and isinstance(module.conv2, nn.Conv2d)


class _FDHooks:
    """The two hooks of one block: keep the second convolution's input X, refine its (normalised) output F.

    A callable object rather than closures, so ``copy.deepcopy`` of the model re-targets the hooks to the copy."""

    def __init__(self, block: nn.Module) -> None:
        self.block = block
        self.x: torch.Tensor | None = None

    def save_input(self, conv: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        self.x = inputs[0]

    def refine(self, bn: nn.Module, inputs: Any, output: torch.Tensor) -> torch.Tensor:
        x, self.x = self.x, None
        if x is None or x.shape != output.shape:  # a strided / widening conv: FD does not apply
            return output
        return self.block.fd(output, x)


def _attach(block: nn.Module, beta: float, keep_mask: bool) -> None:
    block.fd = fd_gate(beta, keep_mask=keep_mask)
    hooks = _FDHooks(block)
    block.conv2.register_forward_pre_hook(hooks.save_input)
    block.bn2.register_forward_hook(hooks.refine)


def add_fd(model: nn.Module, beta: float = 1.0, keep_mask: bool = False) -> nn.Module:
    """Add FD(F1, F2) to every residual block of ``model`` (timm or torchvision ResNet, ResNeXt, SE-ResNet...)
    in place and return it. No parameter is added; each block gets a parameter-free ``fd`` gate whose
    ``last_mask`` holds its last mask when ``keep_mask``. Calling it twice is an error-free no-op."""
    for module in model.modules():
        if _is_residual_block(module) and not hasattr(module, "fd"):
            _attach(module, beta, keep_mask)
    return model


def fd_blocks(model: nn.Module) -> list[nn.Module]:
    """The blocks that carry an FD gate, in forward order."""
    return [m for m in model.modules() if hasattr(m, "fd") and _is_residual_block(m)]


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet (depth 6n + 2): a 3x3 stem of ``widths[0]`` channels (stride 1, no pooling), three
    stages of n basic blocks (timm's ``BasicBlock``; strides 1, 2, 2; 1x1-conv projection shortcuts where the size
    changes), global average pooling and a linear classifier."""

    def __init__(self, depth: int, widths: tuple[int, ...], num_classes: int, in_chans: int) -> None:
        super().__init__()
        import_timm()
        from timm.models.resnet import BasicBlock

        n = (depth - 2) // 6
        self.stem = nn.Sequential(nn.Conv2d(in_chans, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        blocks: list[nn.Module] = []
        inplanes = widths[0]
        for stage, planes in enumerate(widths):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                down = None
                if stride != 1 or inplanes != planes:
                    down = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False),
                                         nn.BatchNorm2d(planes))
                blocks.append(BasicBlock(inplanes, planes, stride=stride, downsample=down))
                inplanes = planes
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(inplanes, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map ``[B, widths[-1], H/4, W/4]``."""
        return self.blocks(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x).mean((2, 3)))


def build(config: FDConfig) -> nn.Module:
    """The variant's network (randomly initialised), with FD blocks when ``config.fd``."""
    if config.backbone == "cifar":
        net = CifarResNet(config.depth, config.widths, config.num_classes, config.in_channels)
    else:
        net = import_timm().create_model(config.backbone, pretrained=False, num_classes=config.num_classes,
                                         in_chans=config.in_channels)
    return add_fd(net, config.beta) if config.fd else net
