"""Release a method's small trained weights with zoo: train, ship the folder, pin it in ``registry.yaml``.

    python tools/release_weights.py sac                       # the method's release recipe (RECIPES below)
    python tools/release_weights.py sac --variant tiny --data digits --steps 300 --seed 0
    python tools/release_weights.py --all                     # every method of RECIPES, one after the other
    python tools/release_weights.py --check                   # verify every shipped folder against its record

What one release does:

1. trains the variant with ``zoo train METHOD --variant V --data D --steps N --seed S`` (the command recorded; the
   same command gives bitwise-identical weights on the same machine);
2. evaluates the trained weights on the test split of ``D`` (seeded) and writes the release folder
   ``zoo/weights/shipped/<method>-<variant>.<tag>/`` (``config.json``, ``model.safetensors``, ``README.md`` card
   with the metrics and the command), staged beside the old one and swapped in only after steps 3 and 4;
3. imports that folder into two fresh hubs with the fixed release metadata (:mod:`zoo.weights.shipped`) and checks
   both give the same commit id: that id is the revision every hub seeded with ``zoo hub import --all-shipped``
   serves;
4. writes the weight record (repo, revision, file, sha256, size, licence, metrics with their dataset, command) into
   the method's entry of ``registry.yaml`` (replacing the record of the same variant and tag; the file is
   rewritten atomically and every other line of it is kept byte for byte), and updates the revision the README
   shows for that repo;
5. loads ``<method>-<variant>.<tag>`` the way a user would (no hub configured: the shipped copy, verified) and
   checks the recorded metrics come back exactly;
6. checks all shipped weights together stay under the budget (50 MB).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "registry.yaml"


@dataclass(frozen=True)
class Release:
    """How a method's released weights are trained: variant, data source (also the tag), steps (None: the
    variant's own recipe) and seed."""

    variant: str = "tiny"
    data: str = "synthetic"
    steps: int | None = None
    seed: int = 0


#: One line per method: re-releasing a method is ``python tools/release_weights.py METHOD``.
RECIPES: dict[str, Release] = {
    "sac": Release(data="digits", steps=300),
    "gcd": Release(steps=200),
    "gdancer": Release(steps=200),
    "multigraph-fl": Release(data="digits"),
    "fadnet": Release(),
    "cdl": Release(),
    "glamor-net": Release(),
    "ldl-va": Release(),
    "cfor": Release(steps=80),
    "fedavg": Release(data="digits"),
    "fedprox": Release(data="digits"),
    "scaffold": Release(data="digits"),
    "auglocal": Release(data="digits", steps=200),
    "man": Release(data="digits", steps=200),
    "dgl": Release(data="digits", steps=200),
    "anmmf": Release(data="digits"),
    "fpsora": Release(data="digits"),
    "hybridhgcn": Release(data="karate"),
    "emmf": Release(),
    "anc-neuron-clustering": Release(data="digits"),
    "sarg": Release(),
    "tpsgd": Release(data="digits", steps=600),
    "forwardgnn": Release(data="karate", steps=100),
    "nhl": Release(data="digits"),
    "log-pbcd": Release(data="digits", steps=60),
    "fgsmpr-at": Release(data="digits", steps=300),
    "icce-loss": Release(data="digits", steps=220),
    "mai-fgplm": Release(data="digits", steps=300),
    "objectness-regularization": Release(steps=600),
    "lista-msn": Release(steps=200),
    "invics": Release(data="natural", steps=40),
    "fdnet": Release(data="digits", steps=400),
    "qr-gan": Release(data="mixture", steps=3000),
    "dist-cam": Release(data="placed-digits", steps=600),
    "cetransformer": Release(data="ihdp-like", steps=400),
    "dolg": Release(steps=200),
    "cfcd": Release(steps=210),
    "dcal": Release(steps=150),
    "gabor-texture-features-for-fine-grained-recognition": Release(steps=150),
    "bevplace": Release(steps=60),
    "glscl": Release(steps=200),
    "prao-occluded-re-id": Release(steps=350),
}


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[release] {message}", file=sys.stderr, flush=True)


def evaluate_release(name: str, data: str) -> dict[str, float]:
    """The metrics of the released weights ``name`` on the test split of ``data``, as the registry test measures
    them (seeded evaluation of ``zoo.load(name)``)."""
    import zoo
    from zoo.api import seeded

    loaded = zoo.load(name, accept_license=loaded_licence(name))
    with seeded(0):
        values = zoo.evaluate(loaded.model, zoo.make_data(loaded.model, data, "test"))
    return plain_metrics(values)


def loaded_licence(name: str) -> str:
    """The licence of a method (released weights of a non-commercial method need it accepted to load)."""
    from zoo import registry

    return registry.resolve(name).spec.license


def plain_metrics(values: Mapping[str, Any]) -> dict[str, float]:
    """Numeric metrics as floats (the rest dropped)."""
    out: dict[str, float] = {}
    for key, value in dict(values).items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def train(method: str, release: Release, out: Path) -> str:
    """Run ``zoo train`` for the release into ``out``; returns the command as recorded in ``config.json``."""
    import json

    from zoo.cli import main

    argv = ["train", method, "--variant", release.variant, "--data", release.data, "--seed", str(release.seed),
            "--out", str(out), "--no-progress"]
    if release.steps is not None:
        argv += ["--steps", str(release.steps)]
    log("zoo " + " ".join(argv))
    code = main(argv)
    if code != 0:
        raise SystemExit(f"zoo train exited {code}")
    return str(json.loads((out / "config.json").read_text())["training"]["command"])


def commit_of(folder: Path, repo: str, name: str) -> str:
    """The commit id importing ``folder`` into a new repo gives (checked on two fresh hubs)."""
    from zoo.weights.shipped import import_release

    ids = []
    for _ in range(2):
        with tempfile.TemporaryDirectory(prefix="zoo-release-hub-") as root:
            ids.append(import_release(Path(root), folder, repo, name))
    if ids[0] != ids[1]:
        raise SystemExit(f"importing {folder} into two fresh hubs gave two commit ids {ids}: not reproducible")
    return ids[0]


# ----------------------------------------------------------------------------------------------- registry.yaml


def record_yaml(record: Mapping[str, Any]) -> str:
    """One weight record as the YAML lines of a ``weights:`` list item (indented for an entry)."""
    import yaml

    text = yaml.safe_dump([dict(record)], sort_keys=False, width=110, allow_unicode=True)
    return "".join("  " + line + "\n" for line in text.splitlines())


def set_record(text: str, method: str, record: Mapping[str, Any]) -> str:
    """``registry.yaml`` text with ``record`` as the weight record of ``method`` for its variant and tag.

    Only the method's ``weights:`` field changes (other records of the entry, comments and every other entry are
    kept byte for byte).
    """
    import yaml

    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.fullmatch(rf"  name: {re.escape(method)}\s*", line)),
                 None)
    if start is None:
        raise SystemExit(f"registry.yaml has no entry named {method!r}")
    begin = start
    while begin > 0 and not lines[begin].startswith("- "):
        begin -= 1
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("- ")), len(lines))
    entry = yaml.safe_load("".join(lines[begin:end]))[0]
    kept = [w for w in entry.get("weights") or []
            if (w.get("variant"), w.get("tag")) != (record["variant"], record["tag"])]
    weights = kept + [dict(record)]
    weights.sort(key=lambda w: (w["variant"], w["tag"]))
    field = next((i for i in range(begin, end) if lines[i].startswith("  weights:")), None)
    block = "  weights:\n" + "".join(record_yaml(w) for w in weights)
    if field is None:
        return "".join(lines[:end]) + block + "".join(lines[end:])
    stop = field + 1
    while stop < end and (lines[stop].startswith("  - ") or lines[stop].startswith("    ")):
        stop += 1
    return "".join(lines[:field]) + block + "".join(lines[stop:])


def write_registry(method: str, record: Mapping[str, Any]) -> None:
    """Put ``record`` into ``registry.yaml`` atomically and check the catalogue still validates."""
    from zoo import catalogue
    from zoo.io import atomic_write_text

    path = REGISTRY.resolve()
    new = set_record(path.read_text(encoding="utf-8"), method, record)
    import yaml

    catalogue.parse_catalogue(yaml.safe_load(new), origin=str(path))  # refuse to write an invalid catalogue
    atomic_write_text(path, new)


def update_readme(repo: str, revision: str) -> bool:
    """Replace the revision printed after ``repo`` in the README (``zoo/sac-tiny.digits@<40 hex>``) by the new one;
    returns whether the README changed (tests/test_readme.py checks the README shows the recorded revisions)."""
    from zoo.io import atomic_write_text

    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    new = re.sub(rf"({re.escape(repo)}[@ ])[0-9a-f]{{40}}", rf"\g<1>{revision}", text)
    if new != text:
        atomic_write_text(path, new)
    return new != text


# ----------------------------------------------------------------------------------------------- one release


def release(method: str, recipe: Release, *, tag: str | None = None) -> dict[str, Any]:
    """Train, ship, pin and verify one release; returns its registry record."""
    import zoo
    from zoo import registry
    from zoo.weights import shipped

    resolved = registry.resolve(f"{method}-{recipe.variant}")
    method = resolved.spec.name
    tag = tag or recipe.data
    name = shipped.release_name(method, recipe.variant, tag)
    repo = shipped.repo_id(name)
    folder = shipped.SHIPPED_DIR / name
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"zoo-release-{name}-") as tmp:
        run = Path(tmp) / "run"
        command = train(method, recipe, run)
        loaded = zoo.load(str(run), accept_license=resolved.spec.license)
        import json

        training = json.loads((run / "config.json").read_text())["training"]
        from zoo.api import seeded

        with seeded(0):
            metrics = plain_metrics(zoo.evaluate(loaded.model, zoo.make_data(loaded.model, recipe.data, "test")))
        from zoo.io import atomic_directory
        from zoo.weights.integrity import hash_file

        # The new folder is staged beside the old one; its revision is derived and the method's record written
        # while it is staged, and only then is it swapped in: a failure at any step leaves the previous folder and
        # record in place (other methods' folders and records are never touched).
        with atomic_directory(folder) as staged:
            zoo.save(loaded.model, staged, metrics={recipe.data: metrics}, repo_id=repo, command=command,
                     training=training)
            revision = commit_of(staged, repo, name)
            weights = staged / shipped.WEIGHTS_FILE
            record = {
                "tag": tag,
                "variant": recipe.variant,
                "repo": repo,
                "revision": revision,
                "file": shipped.WEIGHTS_FILE,
                "sha256": hash_file(weights)["sha256"],
                "size": weights.stat().st_size,
                "license": resolved.spec.license,
                "metrics": {recipe.data: metrics},
                "command": command,
            }
            write_registry(method, record)
    if update_readme(repo, revision):
        log(f"README.md now shows {repo}@{revision}")
    again = evaluate_release(name, recipe.data)
    if again != metrics:
        raise SystemExit(f"{name}: loading the shipped weights gave {again}, not the recorded {metrics}")
    total = shipped.total_bytes()
    if total > shipped.BUDGET_BYTES:
        raise SystemExit(f"shipped weights now take {total} bytes, over the {shipped.BUDGET_BYTES} budget")
    log(f"{name}: {record['size']} bytes, revision {revision}, metrics {metrics}, "
        f"{time.perf_counter() - started:.0f} s; all shipped weights: {total / 1e6:.2f} MB")
    return record


def check() -> int:
    """Verify every shipped folder against its record: sha256, size, and the commit id an import gives."""
    from zoo.weights import shipped
    from zoo.weights.integrity import hash_file

    problems = 0
    for item in shipped.releases():
        weights = item.folder / item.record.file
        digest, size = hash_file(weights)["sha256"], weights.stat().st_size
        commit = commit_of(item.folder, item.record.repo, item.name)
        ok = (digest, size, commit) == (item.record.sha256, item.record.size, item.record.revision)
        problems += not ok
        print(f"{'ok ' if ok else 'BAD'} {item.name}: {size} bytes, revision {commit}"
              + ("" if ok else f" (recorded {item.record.size} bytes, {item.record.revision})"))
    print(f"{len(shipped.releases())} shipped, {shipped.total_bytes() / 1e6:.2f} MB in all")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and release (or check)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("methods", nargs="*", help="methods to release (default recipe per method)")
    parser.add_argument("--all", action="store_true", help="release every method of the recipe table")
    parser.add_argument("--check", action="store_true", help="verify the shipped folders against registry.yaml")
    parser.add_argument("--variant")
    parser.add_argument("--data", help="data source, also the release tag (default: the method's recipe)")
    parser.add_argument("--tag", help="release tag (default: the data source)")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    os.environ.pop("HF_ENDPOINT", None)  # verify against the shipped copy, as a fresh clone would load it
    if args.check:
        return check()
    methods = list(RECIPES) if args.all else args.methods
    if not methods:
        parser.error("name at least one method, or --all / --check")
    failed = []
    for method in methods:
        base = RECIPES.get(method, Release())
        recipe = Release(
            variant=args.variant or base.variant,
            data=args.data or base.data,
            steps=args.steps if args.steps is not None else base.steps,
            seed=args.seed if args.seed is not None else base.seed,
        )
        try:
            release(method, recipe, tag=args.tag)
        except Exception as exc:  # noqa: BLE001 - with --all, report and go on to the next method
            if not args.all:
                raise
            failed.append(method)
            log(f"{method} FAILED: {type(exc).__name__}: {exc}")
    if failed:
        log(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
