"""Point ``huggingface_hub`` at a hub endpoint for a block of code (the embedded hub, a team's own hub).

``huggingface_hub`` reads ``HF_ENDPOINT`` once, at import, into ``constants.ENDPOINT`` and
``constants.HUGGINGFACE_CO_URL_TEMPLATE`` (and its module-level ``HfApi`` behind ``upload_file``,
``ModelCard.push_to_hub``, ``metadata_update`` keeps the endpoint it saw then), and some APIs
(``PyTorchModelHubMixin``) take no ``endpoint=`` argument, so switching endpoints inside one process means
patching those; :func:`use_hub` does it and restores everything afterwards.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def use_hub(endpoint: str, token: str | None = None, *, disable_xet: bool = True) -> Iterator[None]:
    """Point ``huggingface_hub`` at ``endpoint`` for the duration of the block, then restore everything.

    Patches ``constants.ENDPOINT``, ``constants.HUGGINGFACE_CO_URL_TEMPLATE`` and (by default)
    ``constants.HF_HUB_DISABLE_XET``; sets ``HF_ENDPOINT``, and sets ``HF_TOKEN`` to ``token`` (or unsets it when
    ``token`` is None, so calls inside the block are anonymous unless they pass a token).
    """
    from huggingface_hub import constants, hf_api

    endpoint = endpoint.rstrip("/")
    saved_api_endpoint = hf_api.api.endpoint
    saved = {
        name: getattr(constants, name)
        for name in ("ENDPOINT", "HUGGINGFACE_CO_URL_TEMPLATE", "HF_HUB_DISABLE_XET")
    }
    saved_env = {name: os.environ.get(name) for name in ("HF_ENDPOINT", "HF_TOKEN")}
    constants.ENDPOINT = endpoint
    hf_api.api.endpoint = endpoint
    constants.HUGGINGFACE_CO_URL_TEMPLATE = endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    if disable_xet:
        constants.HF_HUB_DISABLE_XET = True
    os.environ["HF_ENDPOINT"] = endpoint
    if token is not None:
        os.environ["HF_TOKEN"] = token
    else:
        os.environ.pop("HF_TOKEN", None)
    try:
        yield
    finally:
        hf_api.api.endpoint = saved_api_endpoint
        for name, value in saved.items():
            setattr(constants, name, value)
        for name, env_value in saved_env.items():
            if env_value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = env_value
