"""``zoo.push`` and ``zoo.pull``: moving model folders to and from a Hugging Face-compatible hub.

Uploads go through ``huggingface_hub.HfApi`` (``create_repo``, ``create_branch``, ``upload_folder``) and nothing
else; the endpoint and token come from the usual HF settings (``HF_ENDPOINT``, ``HF_TOKEN``) unless given.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from zoo import constants
from zoo.errors import HubError, WeightsError
from zoo.weights.records import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, WeightRef


@dataclass(frozen=True)
class Pushed:
    """The commit a push created and the record that pins it."""

    repo: str
    commit: str
    url: str
    file: str
    sha256: str
    size: int
    license: str
    method: str
    variant: str
    endpoint: str | None

    def ref(self) -> WeightRef:
        """A pinned :class:`WeightRef` for ``zoo.lock``."""
        return WeightRef(
            repo=self.repo,
            revision=self.commit,
            file=self.file,
            sha256=self.sha256,
            size=self.size,
            license=self.license,
            endpoint=self.endpoint,
            variant=self.variant,
        )

    def registry_record(
        self, tag: str, metrics: Mapping[str, Mapping[str, float]] | None = None, command: str = ""
    ) -> dict[str, Any]:
        """A weight record for ``registry.yaml`` (under the method's ``weights:`` list)."""
        record: dict[str, Any] = {
            "tag": tag,
            "variant": self.variant,
            "repo": self.repo,
            "revision": self.commit,
            "file": self.file,
            "sha256": self.sha256,
            "size": self.size,
            "license": self.license,
        }
        if metrics:
            record["metrics"] = {d: dict(v) for d, v in metrics.items()}
        if command:
            record["command"] = command
        if self.endpoint:
            record["endpoint"] = self.endpoint
        return record


def _api(endpoint: str | None, token: str | None) -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint or constants.hf_endpoint(), token=token or constants.hf_token())


def _folder_record(folder: Path) -> dict[str, Any]:
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / name).is_file():
            raise WeightsError(f"{folder} lacks {name}; push a model or a folder written by zoo.save")
    from zoo.weights.load import parse_config

    return parse_config(folder / CONFIG_FILE)


def push(
    model: Any,
    repo_id: str,
    *,
    revision: str = "main",
    token: str | None = None,
    metrics: Mapping[str, Mapping[str, float]] | None = None,
    private: bool = False,
    commit_message: str | None = None,
    endpoint: str | None = None,
    **card: Any,
) -> Pushed:
    """Save ``model`` (or take a folder written by ``zoo.save``) and upload it as one commit.

    Args:
        model: a zoo-built model, or the path of a saved model folder.
        repo_id: ``org/name`` on the hub (created if missing).
        revision: the branch to commit to (created from ``main`` if missing).
        token, endpoint: default to ``HF_TOKEN`` / ``HF_ENDPOINT`` (huggingface_hub's usual settings).
        metrics: ``{dataset: {metric: value}}`` measured for these weights (the card's model-index).
        private: create the repo private.
        **card: model-card fields for :func:`zoo.save` (``command``, ``intended_use``, ``deviations``...).

    Returns:
        :class:`Pushed` with the 40-hex commit, the weights' sha256 and size (``.ref()`` for the lock file,
        ``.registry_record(tag)`` for ``registry.yaml``).
    """
    from huggingface_hub import errors as hf_errors

    from zoo.weights.save import save

    api = _api(endpoint, token)
    with tempfile.TemporaryDirectory(prefix="zoo-push-") as tmp:
        if isinstance(model, (str, Path)):
            folder = Path(model)
            if metrics or card:
                raise WeightsError(
                    "metrics and card fields apply when pushing a model object; a folder is "
                    "uploaded as saved (re-save it with zoo.save(..., metrics=...))"
                )
        else:
            folder = Path(tmp) / "model"
            save(model, folder, metrics=metrics, repo_id=repo_id, **card)
        config = _folder_record(folder)
        weights = config.get("weights") or {}
        try:
            api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
            if revision != "main":
                api.create_branch(repo_id, branch=revision, exist_ok=True)
            info = api.upload_folder(
                repo_id=repo_id,
                folder_path=str(folder),
                revision=revision,
                allow_patterns=[CONFIG_FILE, WEIGHTS_FILE, CARD_FILE],
                commit_message=commit_message or f"zoo push {config['method']}-{config['variant']}",
            )
        except (hf_errors.HfHubHTTPError, OSError, ValueError) as exc:
            raise HubError(f"push to {repo_id}@{revision} failed: {type(exc).__name__}: {exc}") from exc
    commit = getattr(info, "oid", None)
    if not commit:
        raise HubError(f"push to {repo_id}@{revision}: the hub returned no commit id")
    return Pushed(
        repo=repo_id,
        commit=commit,
        url=str(getattr(info, "commit_url", "")),
        file=WEIGHTS_FILE,
        sha256=str(weights.get("sha256", "")),
        size=int(weights.get("size", 0)),
        license=str(config.get("license", "")),
        method=str(config["method"]),
        variant=str(config["variant"]),
        endpoint=endpoint or constants.hf_endpoint(),
    )


def pull(
    target: str,
    *,
    revision: str | None = None,
    token: str | None = None,
    accept_license: str | Iterable[str] | None = None,
    verify: str = "full",
    lock: str | Path | None | Literal[False] = None,
) -> WeightRef:
    """Download (or find in the cache) and verify the files of a name or ``org/repo@rev``; no model is built.

    Returns the pinned :class:`WeightRef` (commit, sha256, size, local path), ready for ``zoo.lock``. Also fetches
    the model card when the hub has one.
    """
    from zoo.weights import fetch as fetching
    from zoo.weights.load import fetch_model_files
    from zoo.weights.resolve import parse_target, resolve

    parsed = parse_target(target)
    if parsed.kind == "local":
        raise WeightsError(f"{target!r} is a local folder; nothing to pull")
    ref = resolve(parsed, revision=revision, lock=lock)
    spec_license = ""
    if parsed.kind == "name" and parsed.name is not None:
        from zoo import registry

        spec_license = registry.resolve(parsed.name.method).spec.license
    files = fetch_model_files(
        ref,
        accept_license=accept_license,
        token=token,
        verify="full" if verify == "full" else "auto",
        spec_license=spec_license,
    )
    try:
        fetching.fetch(files.ref, CARD_FILE, token=token)
    except WeightsError:
        pass  # a card is optional
    name = files.ref.name or f"{files.config['method']}-{files.config['variant']}"
    return WeightRef(**{**files.ref.__dict__, "name": name, "variant": str(files.config["variant"])})
