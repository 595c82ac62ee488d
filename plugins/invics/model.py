"""InvICS (Sect. 3): sampling subnet, initialisation subnet, and K invertible recovery phases (GDM + AACM)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations

from zoo_plugins.invics.config import InvICSConfig
from zoo_plugins.invics.reversible import invertible_apply


class Sampling(nn.Module):
    """``phi``: a conv with M filters of block x block and stride block (Sect. 3.1), i.e. ``y = Phi x`` per block;
    ``phi_t``: its exact adjoint, a 1x1 conv with ``Phi^T`` followed by pixel shuffle (Sect. 3.2).
    ``Phi`` starts with orthonormal rows (a random orthogonal matrix's first M rows)."""

    def __init__(self, block: int, m: int) -> None:
        super().__init__()
        n = block * block
        q, _ = torch.linalg.qr(torch.randn(n, m))
        self.weight = nn.Parameter(q.T.contiguous().view(m, 1, block, block))
        self.block, self.m, self.n = block, m, n

    @property
    def matrix(self) -> torch.Tensor:
        """``Phi`` as an ``M x N`` matrix."""
        return self.weight.view(self.m, self.n)

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        """Measurements ``[B, M, H / block, W / block]`` of images ``[B, 1, H, W]``."""
        return F.conv2d(x, self.weight, stride=self.block)

    def phi_t(self, y: torch.Tensor) -> torch.Tensor:
        """``Phi^T y`` rearranged into images ``[B, 1, H, W]``."""
        return F.pixel_shuffle(F.conv2d(y, self.matrix.T.reshape(self.n, self.m, 1, 1)), self.block)


class PBlock(nn.Sequential):
    """conv 3x3 -> ReLU -> conv 3x3, no biases: lifts the initial estimate to ``z - 1`` extra channels (Eq. 1)."""

    def __init__(self, hidden: int, out: int) -> None:
        super().__init__(nn.Conv2d(1, hidden, 3, padding=1, bias=False), nn.ReLU(),
                         nn.Conv2d(hidden, out, 3, padding=1, bias=False))


class GDM(nn.Module):
    """Gradient-descent module (Eq. 2-5) on channel 0: ``r = x - rho Phi^T (Phi x - y)``, ``rho = sigmoid(rho*) + 1``
    in (1, 2); inverse ``x = (I - rho Phi^T Phi)^{-1} (r - rho Phi^T y)`` by Woodbury,
    ``(I - rho Phi^T Phi)^{-1} = I + rho Phi^T (I - rho Phi Phi^T)^{-1} Phi`` (an M x M solve, in float64)."""

    def __init__(self) -> None:
        super().__init__()
        self.rho_star = nn.Parameter(torch.zeros(()))

    @property
    def rho(self) -> torch.Tensor:
        """The step size in (1, 2)."""
        return torch.sigmoid(self.rho_star) + 1.0

    def forward(self, u: torch.Tensor, y: torch.Tensor, sampling: Sampling) -> torch.Tensor:
        """``Concat(r_k, u[1:z])`` (Eq. 3)."""
        x = u[:, :1]
        r = x - self.rho * sampling.phi_t(sampling.phi(x) - y)
        return torch.cat([r, u[:, 1:]], dim=1)

    def inverse(self, u_hat: torch.Tensor, y: torch.Tensor, sampling: Sampling) -> torch.Tensor:
        """``Concat(x_{k-1}, u_hat[1:z])`` (Eq. 4-5)."""
        rho = self.rho.double()
        c = (u_hat[:, :1] - self.rho * sampling.phi_t(y)).double()
        phi = sampling.matrix.double()
        system = torch.eye(sampling.m, dtype=torch.float64, device=phi.device) - rho * phi @ phi.T
        measured = F.conv2d(c, phi.view(sampling.m, 1, sampling.block, sampling.block), stride=sampling.block)
        solved = torch.linalg.solve(system, measured.permute(0, 2, 3, 1).unsqueeze(-1)).squeeze(-1)
        back = F.pixel_shuffle(F.conv2d(solved.permute(0, 3, 1, 2), phi.T.reshape(sampling.n, sampling.m, 1, 1)),
                               sampling.block)
        x = (c + rho * back).to(u_hat.dtype)
        return torch.cat([x, u_hat[:, 1:]], dim=1)


class DenseBlock(nn.Module):
    """``F``: ``layers`` 3x3 conv-ReLU layers, each fed the concatenation of the input and all previous outputs
    (``growth`` channels each), fused by a 1x1 conv to ``out`` channels."""

    def __init__(self, cin: int, out: int, layers: int, growth: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(cin + i * growth, growth, 3, padding=1) for i in range(layers))
        self.fuse = nn.Conv2d(cin + layers * growth, out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Dense connectivity, then 1x1 fusion."""
        features = [x]
        for conv in self.convs:
            features.append(torch.relu(conv(torch.cat(features, 1))))
        return self.fuse(torch.cat(features, 1))


class ResidualBlock(nn.Module):
    """``G`` / ``H``: ``x + conv3x3(ReLU(conv3x3(x)))`` with ``hidden`` channels in between."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, hidden, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(hidden, channels, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual update."""
        return x + self.body(x)


def scale(t: torch.Tensor) -> torch.Tensor:
    """``g``: a sigmoid normalised to (0.5, 1) (Sect. 3.3)."""
    return 0.5 + 0.5 * torch.sigmoid(t)


class AACM(nn.Module):
    """Additive & affine coupling module (Eq. 6-11): ``u = U^T Q(U u_hat)`` with ``U`` an orthogonal 1x1 conv and
    ``Q``: ``xi1 = zeta1 + F(zeta2)``, ``xi2 = g(G(xi1)) * zeta2 + H(xi1)``."""

    def __init__(self, channels: int, config: InvICSConfig) -> None:
        super().__init__()
        half = channels // 2
        self.mix = parametrizations.orthogonal(nn.Linear(channels, channels, bias=False))
        self.F = DenseBlock(half, half, config.dense_layers, config.growth)
        self.G = ResidualBlock(half, config.res_hidden)
        self.H = ResidualBlock(half, config.res_hidden)
        self.half = half

    def rotate(self, u: torch.Tensor, transpose: bool = False) -> torch.Tensor:
        """``U u`` (or ``U^T u``) over the channel axis."""
        w = self.mix.weight
        return torch.einsum("oc,bchw->bohw", w.T if transpose else w, u)

    def couple(self, zeta: torch.Tensor) -> torch.Tensor:
        """``Q`` (Eq. 7)."""
        z1, z2 = zeta[:, :self.half], zeta[:, self.half:]
        x1 = z1 + self.F(z2)
        x2 = scale(self.G(x1)) * z2 + self.H(x1)
        return torch.cat([x1, x2], 1)

    def uncouple(self, xi: torch.Tensor) -> torch.Tensor:
        """``Q^{-1}`` (Eq. 8)."""
        x1, x2 = xi[:, :self.half], xi[:, self.half:]
        z2 = (x2 - self.H(x1)) / scale(self.G(x1))
        z1 = x1 - self.F(z2)
        return torch.cat([z1, z2], 1)

    def forward(self, u_hat: torch.Tensor) -> torch.Tensor:
        """Eq. 10."""
        return self.rotate(self.couple(self.rotate(u_hat)), transpose=True)

    def inverse(self, u: torch.Tensor) -> torch.Tensor:
        """Eq. 11."""
        return self.rotate(self.uncouple(self.rotate(u)), transpose=True)


class Phase(nn.Module):
    """One recovery phase: GDM then AACM; invertible given the measurements ``y``."""

    def __init__(self, config: InvICSConfig) -> None:
        super().__init__()
        self.gdm = GDM()
        self.aacm = AACM(config.channels, config)

    def forward(self, u: torch.Tensor, y: torch.Tensor, sampling: Sampling) -> torch.Tensor:
        """``u_k = AACM_k(GDM_k(u_{k-1}))``."""
        return self.aacm(self.gdm(u, y, sampling))

    def inverse(self, u: torch.Tensor, y: torch.Tensor, sampling: Sampling) -> torch.Tensor:
        """``u_{k-1} = GDM_k^{-1}(AACM_k^{-1}(u_k))``."""
        return self.gdm.inverse(self.aacm.inverse(u), y, sampling)


class InvICS(nn.Module):
    """Sampling, initialisation (``Phi^T y`` + pixel shuffle, P block) and K invertible phases; the estimate is
    channel 0 of ``u_K``. Images are ``[B, 1, H, W]`` with H, W multiples of the block size."""

    def __init__(self, config: InvICSConfig) -> None:
        super().__init__()
        self.config = config
        self.sampling = Sampling(config.block, config.m)
        self.p_block = PBlock(config.p_hidden, config.channels - 1)
        self.phases = nn.ModuleList(Phase(config) for _ in range(config.phases))

    def initial(self, y: torch.Tensor) -> torch.Tensor:
        """``u_0 = Concat(x0, P(x0))`` with ``x0 = PixelShuffle(Phi^T y)``."""
        x0 = self.sampling.phi_t(y)
        return torch.cat([x0, self.p_block(x0)], 1)

    def recover(self, u: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``u_K`` from ``u_0`` (memory-saving recomputation while training when ``config.memory_saving``)."""
        for phase in self.phases:
            if self.config.memory_saving and self.training:
                def fwd(t: torch.Tensor, yy: torch.Tensor, p: Phase = phase) -> torch.Tensor:
                    return p(t, yy, self.sampling)

                def inv(t: torch.Tensor, yy: torch.Tensor, p: Phase = phase) -> torch.Tensor:
                    return p.inverse(t, yy, self.sampling)

                params = [*phase.parameters(), self.sampling.weight]
                u = invertible_apply(fwd, inv, u, (y,), params)
            else:
                u = phase(u, y, self.sampling)
        return u

    def unrecover(self, u: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``u_0`` from ``u_K``: the phases inverted in reverse order."""
        for phase in reversed(self.phases):
            u = phase.inverse(u, y, self.sampling)
        return u

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x_hat_K, y)``: the reconstruction of images ``x`` and their measurements."""
        y = self.sampling.phi(x)
        return self.recover(self.initial(y), y)[:, :1], y

    def reconstruct(self, y: torch.Tensor) -> torch.Tensor:
        """The image estimate from measurements alone."""
        return self.recover(self.initial(y), y)[:, :1]


def build(config: InvICSConfig) -> InvICS:
    """The variant's network."""
    return InvICS(config)
