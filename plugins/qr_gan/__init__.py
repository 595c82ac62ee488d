"""QR-GAN (Chen, Hou, Liu, PRCV 2021, "Minimizing Wasserstein-1 Distance by Quantile Regression for GANs Model"):
a quantile score critic f(x, tau) = f(phi(x) * psi(tau)) trained with the pinball loss between real and generated
score quantiles. Declaration only; see README.md."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.qr_gan"

plugin = Plugin(Method(
    "qr-gan",
    task="GAN objective",
    title="Minimizing Wasserstein-1 Distance by Quantile Regression for GANs Model (QR-GAN)",
    paper="Chen, Hou, Liu, PRCV 2021, LNCS 13022, pp. 128-139, https://doi.org/10.1007/978-3-030-88013-2_11",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "2-D ring of 8 Gaussians, MLP generator and quantile critic (d = 64)"),
        Variant("paper", f"{_P}.config:paper", "DCGAN 32x32x3 (CIFAR-10), phi -> d = 4096, T = 16, N = M = 16"),
        Variant("mnist", f"{_P}.config:mnist", "DCGAN 32x32x1 (MNIST, Fig. 2), d = 4096"),
        Variant("wgan", f"{_P}.config:wgan", "the baseline: the tiny networks with a scalar critic, weight-clipped WGAN"),
    ],
    inputs=[Input("z", ("B", "D"), "float", "latent codes (D = the variant's latent_dim), N(0, I)")],
    options=[Option("scores", "bool", False, "also return the critic's scores of the samples", hooks=("infer",)),
             Option("samples", "int", 1000, "samples drawn for the W1 evaluation", hooks=("evaluate",))],
    capabilities=("cpu", "cuda", "images"),
    summary="critic max E rho_tau_i(f(x_r, tau_i) - f(x_g, tau_i)); generator min sum_ij E rho_tau_i(f(x_r, tau_j) "
            "- f(x_g, tau_i)); weights clipped to [-0.05, 0.05].",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
