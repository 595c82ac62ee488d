"""AIOZ-GDANCE dataset tools: statistics and splits (``zoo data stats gdance DIR``, ``zoo data split gdance DIR``).

Reads the release layout that :mod:`zoo.dance.aioz` loads (``motions_smpl/<name>.pkl`` with ``smpl_poses
[N, T, 72]`` and ``root_trans [N, T, 3]``, ``musics/<name>.wav``) plus, optionally:

- split files: ``splits/<split>.txt`` or ``<split>_split_sequence_names.txt`` (one sequence name per line);
- per-sequence labels: ``metadata.csv`` (header with ``name`` (or ``sequence``), ``style``, ``genre``) or
  ``metadata.json`` (``{name: {"style": ..., "genre": ...}}``). The public release ships no labels; sequences
  without them count as ``unknown``.

Statistics per split and in total: sequences, frames, hours (frames / FPS), dancers per group (min, mean, max and
histogram), dance styles and music genres (counts), and sequences whose motion or music file is missing.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.dance import FPS
from zoo.errors import DataError, InputError

UNKNOWN = "unknown"
#: Fractions of the published split (80/10/10 by video, spec §2.3).
DEFAULT_RATIOS: tuple[float, float, float] = (0.8, 0.1, 0.1)
SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class SequenceInfo:
    """What the statistics need from one sequence."""

    name: str
    dancers: int
    frames: int
    style: str = UNKNOWN
    genre: str = UNKNOWN
    has_music: bool = True


@dataclass(frozen=True)
class SplitStats:
    """Statistics of a set of sequences."""

    sequences: int
    frames: int
    hours: float
    dancers_min: int
    dancers_mean: float
    dancers_max: int
    dancers_hist: dict[int, int]
    styles: dict[str, int]
    genres: dict[str, int]


@dataclass(frozen=True)
class DatasetStats:
    """Statistics of an AIOZ-GDANCE folder: per split, in total, and what is missing."""

    root: str
    fps: int
    splits: dict[str, SplitStats]
    total: SplitStats
    missing_motion: list[str] = field(default_factory=list)
    missing_music: list[str] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for ``--json``)."""
        return asdict(self)


def motion_dir(root: Path) -> Path:
    """``ROOT/motions_smpl``, or a :class:`DataError` saying the folder is not an AIOZ-GDANCE release."""
    folder = root / "motions_smpl"
    if not folder.is_dir():
        raise DataError(f"{str(root)!r} is not an AIOZ-GDANCE folder: missing 'motions_smpl/'")
    return folder


def sequence_shape(path: Path) -> tuple[int, int]:
    """``(dancers, frames)`` of one sequence pickle (read with the loader's safe unpickler)."""
    from zoo.dance.aioz import load_sequence

    poses, _ = load_sequence(path)
    return int(poses.shape[0]), int(poses.shape[1])


def read_metadata(root: Path) -> dict[str, tuple[str, str]]:
    """``{name: (style, genre)}`` from ``metadata.csv`` or ``metadata.json`` (empty when neither exists)."""
    csv_path, json_path = root / "metadata.csv", root / "metadata.json"
    labels: dict[str, tuple[str, str]] = {}
    if csv_path.is_file():
        with open(csv_path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = set(reader.fieldnames or ())
            key = "name" if "name" in fields else "sequence" if "sequence" in fields else None
            if key is None:
                raise DataError(f"{str(csv_path)!r} needs a 'name' (or 'sequence') column; has {sorted(fields)}")
            for row in reader:
                labels[row[key].strip()] = ((row.get("style") or UNKNOWN).strip() or UNKNOWN,
                                            (row.get("genre") or UNKNOWN).strip() or UNKNOWN)
    elif json_path.is_file():
        try:
            data = json.loads(json_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{str(json_path)!r} is not valid JSON ({exc})") from exc
        if not isinstance(data, Mapping):
            raise DataError(f"{str(json_path)!r} must map sequence names to {{'style': ..., 'genre': ...}}")
        for name, row in data.items():
            row = row if isinstance(row, Mapping) else {}
            labels[str(name)] = (str(row.get("style") or UNKNOWN), str(row.get("genre") or UNKNOWN))
    return labels


def find_splits(root: Path) -> dict[str, list[str]]:
    """Every split file of the folder: ``{split: [names]}`` (``splits/*.txt`` and ``*_split_sequence_names.txt``)."""
    files: dict[str, Path] = {}
    if (root / "splits").is_dir():
        files.update({p.stem: p for p in sorted((root / "splits").glob("*.txt"))})
    for p in sorted(root.glob("*_split_sequence_names.txt")):
        files.setdefault(p.name[: -len("_split_sequence_names.txt")], p)
    return {split: [ln.strip() for ln in p.read_text().splitlines() if ln.strip()] for split, p in files.items()}


def summarise(infos: Sequence[SequenceInfo], fps: int = FPS) -> SplitStats:
    """:class:`SplitStats` of a list of sequences."""
    dancers = [i.dancers for i in infos]
    frames = sum(i.frames for i in infos)
    return SplitStats(
        sequences=len(infos), frames=frames, hours=frames / fps / 3600.0,
        dancers_min=min(dancers, default=0), dancers_mean=float(np.mean(dancers)) if dancers else 0.0,
        dancers_max=max(dancers, default=0), dancers_hist=dict(sorted(Counter(dancers).items())),
        styles=dict(Counter(i.style for i in infos).most_common()),
        genres=dict(Counter(i.genre for i in infos).most_common()),
    )


def gdance_stats(root: str | Path, fps: int = FPS) -> DatasetStats:
    """Statistics of the AIOZ-GDANCE folder ``root`` (see the module docstring)."""
    if fps <= 0:
        raise InputError(f"fps must be positive, got {fps}")
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"AIOZ-GDANCE folder {str(base)!r} does not exist")
    motions = motion_dir(base)
    labels = read_metadata(base)
    infos: dict[str, SequenceInfo] = {}
    for path in sorted(motions.glob("*.pkl")):
        dancers, frames = sequence_shape(path)
        style, genre = labels.get(path.stem, (UNKNOWN, UNKNOWN))
        infos[path.stem] = SequenceInfo(path.stem, dancers, frames, style, genre,
                                        has_music=(base / "musics" / f"{path.stem}.wav").is_file())
    if not infos:
        raise DataError(f"no sequences (*.pkl) under {str(motions)!r}")
    splits = find_splits(base)
    missing_motion = sorted({n for names in splits.values() for n in names if n not in infos})
    assigned = {n for names in splits.values() for n in names}
    per_split = {split: summarise([infos[n] for n in names if n in infos], fps) for split, names in splits.items()}
    return DatasetStats(
        root=str(base), fps=fps, splits=per_split, total=summarise(list(infos.values()), fps),
        missing_motion=missing_motion, missing_music=sorted(n for n, i in infos.items() if not i.has_music),
        unassigned=sorted(set(infos) - assigned) if splits else [],
    )


def _counts(counter: Mapping[Any, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counter.items()) or "-"


def format_stats(stats: DatasetStats) -> str:
    """A plain-text report: one table (splits x numbers), then dancers, styles and genres per split."""
    rows = {**stats.splits, "total": stats.total}
    header = ["split", "sequences", "frames", "hours", "dancers min/mean/max"]
    body = [[name, str(s.sequences), str(s.frames), f"{s.hours:.3f}",
             f"{s.dancers_min}/{s.dancers_mean:.2f}/{s.dancers_max}"] for name, s in rows.items()]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    out = [f"AIOZ-GDANCE statistics of {stats.root} ({stats.fps} FPS)", line(header),
           line(["-" * w for w in widths]), *(line(r) for r in body), ""]
    for name, s in rows.items():
        out.append(f"[{name}] dancers per group: {_counts(s.dancers_hist)}")
        out.append(f"[{name}] styles: {_counts(s.styles)}")
        out.append(f"[{name}] genres: {_counts(s.genres)}")
    for label, names in (("listed in a split but no motion file", stats.missing_motion),
                         ("no music file", stats.missing_music), ("in no split", stats.unassigned)):
        if names:
            out.append(f"{len(names)} sequence(s) {label}: {', '.join(names[:10])}" + (" ..." if len(names) > 10 else ""))
    return "\n".join(out)


def video_of(name: str, separator: str | None) -> str:
    """The video a sequence belongs to: the name up to the last ``separator`` (the name itself when None)."""
    if not separator or separator not in name:
        return name
    return name.rsplit(separator, 1)[0]


def make_splits(names: Iterable[str], ratios: Sequence[float] = DEFAULT_RATIOS, seed: int = 0,
                video_separator: str | None = None) -> dict[str, list[str]]:
    """A seeded train/val/test split BY VIDEO (all sequences of one video land in one split), with sizes as
    close to ``ratios`` (counted in videos) as rounding allows; every split is non-empty when there are enough
    videos."""
    r = np.asarray(ratios, dtype=np.float64)
    if r.shape != (len(SPLITS),) or (r < 0).any() or not np.isclose(r.sum(), 1.0):
        raise InputError(f"ratios must be {len(SPLITS)} non-negative numbers summing to 1, got {list(ratios)}")
    names = sorted(set(names))
    videos = sorted({video_of(n, video_separator) for n in names})
    if not videos:
        raise DataError("no sequences to split")
    order = np.random.default_rng(seed).permutation(len(videos))
    counts = np.floor(r * len(videos)).astype(int)
    for i in np.argsort(-(r * len(videos) - counts))[: len(videos) - counts.sum()]:
        counts[i] += 1  # largest remainders first
    bounds = np.concatenate([[0], np.cumsum(counts)])
    owner = {videos[order[j]]: SPLITS[k] for k in range(len(SPLITS)) for j in range(bounds[k], bounds[k + 1])}
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    for n in names:
        out[owner[video_of(n, video_separator)]].append(n)
    return out


def write_splits(root: str | Path, splits: Mapping[str, Sequence[str]], overwrite: bool = False) -> list[Path]:
    """Write ``ROOT/splits/<split>.txt`` atomically (refusing to replace existing files unless ``overwrite``)."""
    from zoo.io import atomic_write_text

    folder = Path(root) / "splits"
    targets = {s: folder / f"{s}.txt" for s in splits}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not overwrite:
        raise DataError(f"split files already exist: {', '.join(existing)} (pass --force to replace them)")
    folder.mkdir(parents=True, exist_ok=True)
    for split, path in targets.items():
        atomic_write_text(path, "".join(f"{n}\n" for n in splits[split]))
    return list(targets.values())
