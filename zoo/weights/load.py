"""``zoo.load``: parse -> resolve (lock, registry, hub) -> fetch cache-first -> verify -> build on meta ->
strict load with ``assign`` -> the :class:`~zoo.weights.loaded.Loaded` bundle.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from zoo.errors import (
    ConfigError,
    IntegrityError,
    OfflineError,
    UnsafeFormatError,
    WeightsError,
    WeightsNotFoundError,
)
from zoo.weights import fetch as fetching
from zoo.weights.integrity import Expected, fetch_verified, verify_file
from zoo.weights.licenses import check_license
from zoo.weights.loaded import Loaded
from zoo.weights.records import CONFIG_FILE, WEIGHTS_FILE, WeightRef
from zoo.weights.resolve import Target, parse_target, resolve

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
Verify = Literal["auto", "full"]


@dataclass(frozen=True)
class ModelFiles:
    """A verified model folder: its parsed ``config.json``, the weights path and the ref it came from."""

    config: dict[str, Any]
    weights: Path
    ref: WeightRef
    notes: tuple[str, ...] = ()


def parse_config(path: Path) -> dict[str, Any]:
    """Read a model folder's ``config.json`` and check it names a method, variant and config."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{path}: unreadable {CONFIG_FILE} ({exc})") from exc
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: {CONFIG_FILE} must hold a JSON object, got {type(data).__name__}")
    for key in ("method", "variant", "config"):
        if key not in data:
            raise WeightsError(f"{path}: {CONFIG_FILE} lacks {key!r}; is this a folder written by zoo.save?")
    return data


def _config_expectations(config: Mapping[str, Any], filename: str) -> tuple[list[Expected], int | None]:
    weights = config.get("weights") or {}
    if weights.get("file") != filename or not weights.get("sha256"):
        return [], None
    return [Expected("sha256", str(weights["sha256"]), CONFIG_FILE)], weights.get("size")


def _in_cache(path: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(fetching.cache_dir()))
        return True
    except ValueError:
        return False


def _checked(
    ref: WeightRef,
    filename: str,
    *,
    sha256: str | None,
    size: int | None,
    extra: Iterable[Expected],
    full: bool,
    token: str | None,
    notes: list[str],
) -> tuple[Path, str]:
    """Fetch ``filename`` of ``ref`` and verify it (the quarantine-and-retry policy: :func:`fetch_verified`)."""
    return fetch_verified(
        lambda: fetching.fetch(ref, filename, token=token),
        describe=lambda path: f"{ref.repo}@{fetching.commit_of(path) or ref.revision}:{filename}",
        sha256=sha256,
        size=size,
        extra=extra,
        full=full,
        cached=_in_cache,
        notes=notes,
    )


def fetch_model_files(
    ref: WeightRef,
    *,
    accept_license: str | Iterable[str] | None,
    token: str | None = None,
    verify: Verify = "auto",
    spec_license: str = "",
) -> ModelFiles:
    """Fetch and verify ``config.json`` and the weights of ``ref``; gate the licence before the weights."""
    notes: list[str] = []
    if not ref.pinned:
        notes.append(
            f"{ref.repo}@{ref.revision} is not pinned to a commit: the result can change when the branch "
            "moves; pin it with `zoo lock` or '@<commit>'"
        )
    full = verify == "full"
    if ref.file.endswith(PICKLE_SUFFIXES):
        raise UnsafeFormatError(f"{ref.describe()} is a pickle checkpoint; hub weights must be .safetensors")
    config_path, _ = _checked(
        ref, CONFIG_FILE, sha256=None, size=None, extra=(), full=True, token=token, notes=notes
    )
    commit = fetching.commit_of(config_path)
    if not ref.pinned and commit:
        ref = replace(ref, revision=commit)
    config = parse_config(config_path)
    check_license(
        [ref.license, str(config.get("license") or ""), spec_license or _spec_license(config)],
        accept_license,
        what=f"{ref.repo}@{ref.revision}",
    )
    extra, cfg_size = _config_expectations(config, ref.file)
    weights, digest = _checked(
        ref,
        ref.file,
        sha256=ref.sha256,
        size=ref.size if ref.size is not None else cfg_size,
        extra=extra,
        full=full,
        token=token,
        notes=notes,
    )
    size = weights.stat().st_size
    from zoo.weights.shipped import is_shipped

    if is_shipped(weights):
        notes.append(f"{ref.repo}@{ref.revision}: the copy shipped with zoo ({weights.parent}), verified against "
                     "its record")
    license_id = ref.license or str(config.get("license") or "")
    return ModelFiles(
        config,
        weights,
        replace(ref, sha256=digest, size=size, path=weights, license=license_id),
        tuple(notes),
    )


def _spec_license(config: Mapping[str, Any]) -> str:
    from zoo import registry

    try:
        return registry.resolve(str(config["method"])).spec.license
    except Exception:  # an unknown method is reported later, when building
        return ""


def _local_files(path: Path, *, accept_license: Any, verify: Verify, allow_pickle: bool) -> ModelFiles:
    """A model folder (or a weights file next to its ``config.json``), verified against its ``config.json``."""
    folder, weights = (path.parent, path) if path.is_file() else (path, path / WEIGHTS_FILE)
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise WeightsError(f"{folder} has no {CONFIG_FILE}: a model folder is written by zoo.save")
    config = parse_config(config_path)
    if not weights.exists() and not path.is_file():
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
        if pickles:
            weights = folder / pickles[0]
    if not weights.exists():
        raise WeightsError(f"{folder} has no {WEIGHTS_FILE}")
    if weights.suffix in PICKLE_SUFFIXES and not allow_pickle:
        raise UnsafeFormatError(
            f"{weights} is a pickle checkpoint, which can run arbitrary code when loaded; zoo loads .safetensors. "
            "Convert it (zoo.save) or, if you trust its origin, pass allow_pickle=True (loaded with "
            "torch.load(weights_only=True))."
        )
    check_license([str(config.get("license") or ""), _spec_license(config)], accept_license, what=str(folder))
    digest = None
    if weights.suffix not in PICKLE_SUFFIXES:
        extra, size = _config_expectations(config, weights.name)
        digest = verify_file(weights, size=size, extra=extra, full=verify == "full")
    ref = WeightRef(
        repo=str(folder),
        revision="local",
        file=weights.name,
        sha256=digest,
        size=weights.stat().st_size,
        license=str(config.get("license") or ""),
        source="local",
        path=weights,
    )
    return ModelFiles(config, weights, ref)


def _torch_dtype(dtype: Any) -> Any:
    if dtype is None or not isinstance(dtype, str):
        return dtype
    import torch

    value = getattr(torch, {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}.get(dtype, dtype), None)
    if not isinstance(value, torch.dtype):
        raise WeightsError(f"unknown dtype {dtype!r}; use e.g. 'float32', 'float16', 'bfloat16'")
    return value


def _build_from(files: ModelFiles, *, device: Any, dtype: Any) -> Loaded:
    """Check provenance metadata, build on meta and load strictly."""
    from zoo import api, registry
    from zoo.configs import config_from_dict, config_sha256
    from zoo.weights.save import preprocessing_of
    from zoo.weights.statedict import load_weights, read_header

    cfg_data = files.config
    method, variant = str(cfg_data["method"]), str(cfg_data["variant"])
    resolved = registry.resolve(f"{method}-{variant}")
    config = config_from_dict(type(resolved.variant.make_config()), cfg_data["config"])
    what = files.ref.describe()
    notes = list(files.notes)
    if files.weights.suffix in PICKLE_SUFFIXES:
        import torch

        def read_pickle(device_: Any) -> dict[str, Any]:
            import pickle

            try:
                state = torch.load(files.weights, map_location=device_, weights_only=True)
            except (pickle.UnpicklingError, RuntimeError, AttributeError) as exc:
                raise UnsafeFormatError(
                    f"{files.weights}: torch.load(weights_only=True) refused it: {exc}"
                ) from exc
            if not isinstance(state, Mapping):
                raise WeightsError(f"{files.weights} does not hold a state dict")
            return dict(state)

        cpu_state = read_pickle("cpu")
        shapes = {k: tuple(v.shape) for k, v in cpu_state.items()}
        aliases: dict[str, str] = {}
        read_state = lambda device_: {k: v.to(device_) for k, v in cpu_state.items()}  # noqa: E731
        notes.append("loaded from a pickle checkpoint with torch.load(weights_only=True) (allow_pickle=True)")
    else:
        header = read_header(files.weights)
        meta = header.metadata
        if "zoo.method" in meta:
            found = (meta.get("zoo.method"), meta.get("zoo.variant"), meta.get("zoo.config_sha256"))
            wanted = (method, variant, config_sha256(config))
            if found != wanted:
                raise IntegrityError(
                    what,
                    f"method/variant/config {wanted}",
                    f"{found} in the safetensors metadata",
                    what="provenance",
                )
        else:
            notes.append("the weights carry no zoo metadata (not written by zoo.save); provenance unchecked")
        shapes = {k: shape for k, (_, shape) in header.tensors.items()}
        aliases = header.aliases

        def read_state(device_: Any) -> dict[str, Any]:
            import safetensors.torch

            return safetensors.torch.load_file(str(files.weights), device=str(device_))

    outcome = load_weights(
        lambda: api.build(f"{method}-{variant}", config=config),
        shapes,
        read_state,
        aliases=aliases,
        device=device,
        dtype=dtype,
        what=what,
    )
    if outcome.note:
        notes.append(outcome.note)
    model = outcome.model
    model.eval()
    stored = cfg_data.get("preprocessing") or {}
    preprocessing = dict(stored) if stored else preprocessing_of(method, config)
    return Loaded(
        model=model,
        preprocessing=preprocessing,
        spec=resolved.spec,
        record=files.ref,
        config=config,
        name=f"{method}-{variant}",
        init=outcome.init,
        notes=notes,
    )


def load(
    target: str | Path,
    *,
    pretrained: bool = True,
    device: Any = None,
    dtype: Any = None,
    accept_license: str | Iterable[str] | None = None,
    revision: str | None = None,
    token: str | None = None,
    verify: Verify | None = None,
    allow_pickle: bool = False,
    lock: str | Path | None = None,
) -> Loaded:
    """Load a model with its weights, verified, as a :class:`Loaded` bundle.

    Args:
        target: a catalogue name (``"protonet-tiny.digits"``, resolved through ``zoo.lock`` then the weight records
            of ``registry.yaml``), a hub reference ``"org/repo@<40-hex commit>"`` (a branch works but is not
            reproducible), or a local folder written by ``zoo.save``.
        pretrained: must stay ``True``: a randomly initialised model comes from ``zoo.build(name, seed=...)``
            (one way to get one); ``False`` raises a :class:`~zoo.errors.ConfigError` saying so.
        device, dtype: where the model goes and its floating dtype (``"float16"``, ``torch.bfloat16``...).
        accept_license: licence id(s) you accept; required for non-commercial or gated weights.
        revision: overrides the revision of a hub reference or a name.
        token: hub token (default: ``HF_TOKEN`` / the huggingface_hub login).
        verify: ``"auto"`` hashes each file in full once and trusts an unchanged file afterwards (memo keyed by
            inode, size, mtime and ctime: any write or replacement is re-hashed); ``"full"`` re-hashes every
            time (catches silent disk corruption too). Default: ``ZOO_VERIFY``, else ``"auto"``.
        allow_pickle: allow a local ``.bin``/``.pt`` checkpoint, read with ``torch.load(weights_only=True)``.
        lock: lock file to use (default ``ZOO_LOCK`` or ``./zoo.lock``).

    Raises:
        UnsafeFormatError, LicenseNotAcceptedError, IntegrityError, StateDictMismatchError, WeightsError.
    """
    if not pretrained:
        raise ConfigError(
            f"zoo.load({str(target)!r}, pretrained=False) is gone: zoo.load always loads trained weights. For a "
            f"randomly initialised model use zoo.build({_build_name(target)!r}, seed=0) (same model, seeded)."
        )
    from zoo import constants

    verify = verify or constants.verify_policy()  # type: ignore[assignment]
    if verify not in ("auto", "full"):
        raise WeightsError(f"verify must be 'auto' or 'full', got {verify!r}")
    dtype = _torch_dtype(dtype)
    parsed: Target = parse_target(target)
    if parsed.kind == "local":
        assert parsed.path is not None
        if parsed.path.suffix in PICKLE_SUFFIXES and not allow_pickle:
            raise UnsafeFormatError(
                f"{parsed.path} is a pickle checkpoint; pass allow_pickle=True only if you trust it"
            )
        files = _local_files(
            parsed.path, accept_license=accept_license, verify=verify, allow_pickle=allow_pickle
        )
        return _build_from(files, device=device, dtype=dtype)
    ref = resolve(parsed, revision=revision, lock=lock)
    spec_license = ""
    if parsed.kind == "name":
        from zoo import registry

        assert parsed.name is not None
        spec_license = registry.resolve(parsed.name.method).spec.license
    try:
        files = fetch_model_files(
            ref, accept_license=accept_license, token=token, verify=verify, spec_license=spec_license
        )
    except (WeightsNotFoundError, OfflineError) as exc:
        if parsed.kind == "hub" and parsed.revision is None:  # 'runs/sac' may have been meant as a folder
            exc.args = (f"no such folder {parsed.text!r}, and {exc}",)
        raise
    if parsed.kind == "name" and parsed.name is not None and files.config["method"] != parsed.name.method:
        raise WeightsError(f"{ref.describe()} holds {files.config['method']!r}, not {parsed.name.method!r}")
    return _build_from(files, device=device, dtype=dtype)


def _build_name(target: str | Path) -> str:
    """The ``zoo.build`` name to suggest instead of ``zoo.load(target, pretrained=False)``."""
    text = str(target)
    config = Path(text) / CONFIG_FILE
    if config.is_file():
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
            return f"{data['method']}-{data['variant']}"
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return text.split("@", 1)[0].split(".", 1)[0]
