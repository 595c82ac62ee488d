"""InvICS (Sun & Zhang, PRCV 2021, "Invertible Image Compressive Sensing"): a learned block sampling matrix and
K invertible recovery phases (gradient step + additive/affine coupling), trained with memory-saving
recomputation. Declaration only; see README.md."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.invics"

plugin = Plugin(Method(
    "invics",
    task="compressive sensing / invertible nets",
    title="Invertible Image Compressive Sensing (InvICS)",
    paper="Sun & Zhang, PRCV 2021, LNCS 13022, pp. 548-560, https://doi.org/10.1007/978-3-030-88013-2_45",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "11x11 blocks at 25 % (M = 30), K = 3, z = 8"),
        Variant("paper", f"{_P}.config:paper", "33x33 blocks (N = 1089), CR 25 % (M = 272), K = 30, z = 32"),
    ],
    inputs=[Input("image", ("B", 1, "H", "W"), "float", "grey images in [0, 1], any size")],
    capabilities=("cpu", "cuda", "images"),
    summary="y = Phi x per block; u0 = [Phi^T y, P(Phi^T y)]; u_k = AACM_k(GDM_k(u_{k-1})); x_hat = u_K[0].",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
