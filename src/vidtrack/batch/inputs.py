"""Which files a batch processes, and where each one's outputs go.

INPUTS are files, folders (searched recursively for videos) and glob patterns. Each input
gets a relative path that its outputs mirror under OUT_DIR:

- a file named directly: its name (``cams/a.mp4`` -> ``a.mp4``);
- a file found in a folder: its path inside that folder (``cams/`` holding ``north/a.mp4``
  -> ``north/a.mp4``);
- a file matched by a glob: its path below the pattern's fixed leading folders
  (``cams/*/a.mp4`` -> ``north/a.mp4``).

Outputs are named from that path without its extension: ``OUT_DIR/north/a.mp4``,
``a.jsonl``, ``a.summary.json``, ``a.events.jsonl``. Nothing here reads a video or imports
anything heavy.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Sequence

from vidtrack.errors import SourceError, VidtrackError

#: File name extensions taken as videos when a folder or glob is searched (lower case).
#: A file named directly is always taken, whatever its extension.
VIDEO_SUFFIXES = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts",
        ".flv", ".wmv", ".3gp", ".ogv", ".mjpeg", ".mjpg", ".h264", ".264", ".h265", ".hevc",
    }
)

#: Output kind -> file name suffix appended to the input's relative path without extension.
#: The keys are the ``vidtrack run`` option names that write them.
OUTPUT_SUFFIXES: dict[str, str] = {
    "output": ".mp4",
    "jsonl": ".jsonl",
    "summary": ".summary.json",
    "events": ".events.jsonl",
    "heatmap": ".heatmap.png",  # only with `vidtrack batch --heatmaps`
    "snapshots": ".snapshots",  # a folder, only with `vidtrack batch --snapshots`
    "clips": ".clips",  # a folder, only with `vidtrack batch --clips`
}

#: Output kinds that are folders of files (published, sized and removed as a whole).
FOLDER_OUTPUTS = frozenset({"snapshots", "clips"})

#: Prefix of outputs still being written; a batch removes leftovers of killed runs at start.
PARTIAL_PREFIX = ".partial-"


class BatchInputError(VidtrackError):
    """The batch's inputs or OUT_DIR are unusable (no videos, OUT_DIR inside an input...)."""


@dataclass(frozen=True)
class BatchInput:
    """One video of the batch.

    Attributes:
        source: absolute path of the input file.
        rel: its relative path mirrored under OUT_DIR (POSIX form, keeps the extension);
            also the file's key in the manifest and the report.
    """

    source: Path
    rel: PurePosixPath

    def output_base(self, out_dir: Path) -> Path:
        """``OUT_DIR/<rel without extension>``: add an :data:`OUTPUT_SUFFIXES` suffix for a file."""
        return out_dir.joinpath(*self.rel.parent.parts, self.rel.stem)

    def output_path(self, out_dir: Path, kind: str) -> Path:
        """Final path of output ``kind`` (a key of :data:`OUTPUT_SUFFIXES`)."""
        base = self.output_base(out_dir)
        return base.with_name(base.name + OUTPUT_SUFFIXES[kind])

    def partial_path(self, out_dir: Path, kind: str, run_id: str) -> Path:
        """Where output ``kind`` is written until it is complete (hidden, unique to the run)."""
        final = self.output_path(out_dir, kind)
        return final.with_name(f"{PARTIAL_PREFIX}{run_id}-{final.name}")


def is_video_name(path: Path) -> bool:
    """True when ``path``'s extension is one of :data:`VIDEO_SUFFIXES`."""
    return path.suffix.lower() in VIDEO_SUFFIXES


def _has_magic(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _glob_base(pattern: str) -> Path:
    """The pattern's leading folders without wildcards: ``cams/*/a.mp4`` -> ``cams``."""
    parts: list[str] = []
    for part in Path(pattern).parts:
        if _has_magic(part):
            break
        parts.append(part)
    else:  # no wildcard at all: the file's own folder
        parts = parts[:-1]
    return Path(*parts) if parts else Path(".")


def _videos_in(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root, name)
            if is_video_name(path) and not name.startswith(PARTIAL_PREFIX):
                found.append(path)
    return found


def discover(inputs: Sequence[str | os.PathLike[str]]) -> tuple[list[BatchInput], list[Path]]:
    """Expand INPUTS into the batch's videos, in a stable order.

    Returns:
        (videos, folders): the videos with their mirrored relative paths, and the folders
        searched (folder inputs and the bases of recursive ``**`` globs), which OUT_DIR
        must not be inside.

    Raises:
        BatchInputError: an input that does not exist, a folder without videos, a pattern
            matching nothing, or two inputs whose outputs would have the same name.
    """
    if not inputs:
        raise BatchInputError("no inputs given", "give video files, folders or glob patterns")
    found: list[BatchInput] = []
    folders: list[Path] = []
    for spec in inputs:
        text = str(spec)
        path = Path(text).expanduser()
        if path.is_dir():
            videos = _videos_in(path)
            if not videos:
                raise BatchInputError(
                    f"no videos in folder {text}",
                    f"give a folder holding video files ({', '.join(sorted(VIDEO_SUFFIXES)[:6])}, ...)",
                )
            folders.append(path.resolve())
            found.extend(BatchInput(v.resolve(), PurePosixPath(v.relative_to(path).as_posix())) for v in videos)
        elif path.is_file():
            found.append(BatchInput(path.resolve(), PurePosixPath(path.name)))
        elif _has_magic(text):
            base = _glob_base(text)
            matches = sorted(glob.glob(text, recursive=True))
            videos = []
            for match in map(Path, matches):
                if match.is_dir():
                    videos.extend(_videos_in(match))
                elif match.is_file() and is_video_name(match):
                    videos.append(match)
            if not videos:
                raise BatchInputError(f"no videos match {text}", "check the pattern, e.g. 'cams/**/*.mp4' (quoted)")
            if "**" in text:
                folders.append(base.resolve())
            found.extend(BatchInput(v.resolve(), PurePosixPath(v.relative_to(base).as_posix())) for v in videos)
        else:
            raise SourceError(f"no such file or folder: {text}", "check the path, or quote a glob pattern")
    return _unique(found), folders


def _unique(items: Iterable[BatchInput]) -> list[BatchInput]:
    """Drop repeats of the same file; refuse two files that would write the same outputs."""
    by_source: dict[Path, BatchInput] = {}
    by_base: dict[PurePosixPath, BatchInput] = {}
    for item in items:
        if item.source in by_source:
            continue
        base = item.rel.with_suffix("")
        other = by_base.get(base)
        if other is not None:
            raise BatchInputError(
                f"{other.source} and {item.source} would both write outputs named {base}",
                "rename one of them or process them into different OUT_DIRs",
            )
        by_source[item.source] = item
        by_base[base] = item
    return list(by_source.values())


def check_out_dir(out_dir: Path, videos: Sequence[BatchInput], folders: Sequence[Path]) -> Path:
    """Check OUT_DIR against the inputs before anything is written; returns it resolved.

    Raises:
        BatchInputError: OUT_DIR is a file, lies inside an input folder (its outputs would
            become inputs of the next run), or holds one of the inputs.
    """
    resolved = out_dir.expanduser().resolve()
    if resolved.exists() and not resolved.is_dir():
        raise BatchInputError(f"OUT_DIR {out_dir} is a file", "give a folder (it is created if missing)")
    for folder in folders:
        if resolved == folder or folder in resolved.parents:
            raise BatchInputError(
                f"OUT_DIR {out_dir} is inside the input folder {folder}",
                f"choose an OUT_DIR outside the inputs, e.g. {folder.parent / (folder.name + '-tracked')}",
            )
    for video in videos:
        if resolved in video.source.parents:
            raise BatchInputError(
                f"input {video.source} is inside OUT_DIR {out_dir}", "choose an OUT_DIR that holds no inputs"
            )
    return resolved
