"""PyTorch ``.pt`` weights exported once to OpenVINO and cached: the default fast path on CPU.

``vidtrack run clip.mp4`` with a ``.pt`` model on a CPU exports the weights to an OpenVINO
model the first time (FP32 weights, dynamic input shape, no calibration data), keeps it
under the user cache and runs it through :class:`~vidtrack.detection.openvino.OpenVINODetector`
from then on. The cache key is the weights' SHA-256 and the Ultralytics and OpenVINO versions,
so new weights or a runtime upgrade export again and nothing stale is ever used.

Measured with ``benchmarks/pt_export.py`` (numbers in the README's *Models* section).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path
from dataclasses import replace
from typing import Any, Iterator

from vidtrack.config import DetectorConfig
from vidtrack.detection.registry import backend, get_backend
from vidtrack.detection.ultralytics import load_yolo
from vidtrack.errors import ModelError

log = logging.getLogger("vidtrack")


class ExportError(ModelError):
    """Loadable weights that Ultralytics could not export (the PyTorch path still works)."""


def cache_root() -> Path:
    """vidtrack's user cache: ``$XDG_CACHE_HOME/vidtrack``, else ``~/.cache/vidtrack``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vidtrack"


def weights_digest(path: Path) -> str:
    """SHA-256 of a weights file, hex (reads it in 1 MiB blocks; ~10 ms for yolo11n.pt)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def export_dir_for(weights: Path, root: Path | None = None) -> Path:
    """The cache folder the export of ``weights`` lives in (exists or not).

    Named ``<stem>-<sha256[:16]>-ul<ultralytics version>-ov<openvino version>``: the weights
    and both runtimes that shape the exported graph are part of the key.
    """
    key = f"{weights.stem}-{weights_digest(weights)[:16]}-ul{_version('ultralytics')}-ov{_version('openvino')}"
    return (root or cache_root() / "exports") / key


def has_model(folder: Path) -> bool:
    """True when ``folder`` holds a finished export (its ``.xml`` and ``metadata.yaml``)."""
    return folder.is_dir() and (folder / "metadata.yaml").is_file() and any(folder.glob("*.xml"))


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """An inter-process lock, so two runs starting together export once, not twice."""
    import fcntl

    with lock_path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def cached_openvino_export(weights: Path, root: Path | None = None) -> Path:
    """The OpenVINO export of ``weights`` (a ``.pt`` file), exporting it first if not cached.

    Returns the export folder (``NAME.xml``, ``NAME.bin``, ``metadata.yaml``), ready for
    ``OpenVINODetector``. The export is written to a temporary folder and renamed into place,
    so an interrupted export never leaves a half model in the cache. Logs one line (INFO,
    shown by the CLI) when it exports.

    Raises:
        ExportError: the cache cannot be written, or Ultralytics cannot export these weights;
            the caller may fall back to the PyTorch path.
        ModelError: the weights are not a model Ultralytics can load.
    """
    target = export_dir_for(weights, root)
    if has_model(target):
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _exclusive(target.parent / f".{target.name}.lock"):
            if has_model(target):  # another process finished it while we waited
                return target
            seconds = _export(weights, target)
    except OSError as exc:
        raise ExportError(
            f"cannot write the model cache {target.parent} ({exc})", "set XDG_CACHE_HOME to a writable folder"
        ) from exc
    log.info(
        "exported %s to OpenVINO for faster CPU inference in %.1f s (once; cached in %s; "
        "--backend ultralytics runs it through PyTorch)", weights.name, seconds, target,
    )
    return target


def _export(weights: Path, target: Path) -> float:
    """Export ``weights`` into ``target`` (which must not exist yet); returns the seconds taken."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as tmp:
        # Ultralytics writes the export beside the weights: work on a copy in the cache.
        copy = Path(tmp) / weights.name
        shutil.copyfile(weights, copy)
        try:
            model = load_yolo(str(copy))
        except ModelError as exc:  # name the user's file, not the copy
            raise ModelError(exc.problem.replace(str(copy), str(weights)), exc.fix) from exc
        ul_log = logging.getLogger("ultralytics")
        level = ul_log.level
        try:
            ul_log.setLevel(logging.WARNING)  # its exporter logs a dozen lines at INFO
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.jit.trace deprecation notices
                produced = Path(model.export(format="openvino", dynamic=True, verbose=False))  # FP32: the default
        except Exception as exc:  # Ultralytics raises many types from its exporters
            raise ExportError(
                f"{weights} could not be exported to OpenVINO ({type(exc).__name__}: {str(exc)[:120]})",
                "pass --backend ultralytics to run it through PyTorch",
            ) from exc
        finally:
            ul_log.setLevel(level)
        os.replace(produced, target)
    return time.perf_counter() - start


def export_applies(device: str | None) -> bool:
    """True when a ``.pt`` model on ``device`` should run through its OpenVINO export.

    CPU (``cpu``, or no device on a machine without a usable CUDA GPU) and OpenVINO devices
    (``intel:gpu``...) do; CUDA (``0``, ``cuda:0``, or no device with a GPU) and Apple's
    ``mps`` keep PyTorch. torch is imported to check CUDA only when an NVIDIA driver is
    present, so CPU machines start without it.
    """
    if device is not None:
        d = device.strip().lower()
        return d in ("cpu", "") or d.startswith("intel:")
    if not Path("/proc/driver/nvidia/version").exists():
        return True
    import torch

    return not torch.cuda.is_available()


def openvino_export_of(config: DetectorConfig) -> Path | None:
    """The cached OpenVINO export of the ``.pt`` model ``config.model`` (exported on first use).

    A bare name that is not on disk (``yolo11n.pt``) is downloaded by Ultralytics first.
    Returns None, after logging why, when the weights cannot be exported: the caller then
    runs them through PyTorch as before.
    """
    weights = Path(config.model).expanduser()
    if not weights.is_file():
        weights = Path(load_yolo(config.model).ckpt_path)
    try:
        return cached_openvino_export(weights)
    except ExportError as exc:
        log.warning("running %s through PyTorch: %s", weights.name, exc.one_line())
        return None


def _claims(config: DetectorConfig, path: Path) -> bool:
    """``--backend auto`` on a ``.pt`` model on a CPU (or an OpenVINO device)."""
    return path.suffix.lower() == ".pt" and export_applies(config.device)


@backend("openvino-export", claims=_claims)
def load_exported(config: DetectorConfig) -> Any:
    """A ``.pt`` model through its cached OpenVINO export; through PyTorch when it cannot be exported."""
    exported = openvino_export_of(config)
    if exported is None:
        return get_backend("ultralytics").load(config)
    return get_backend("openvino").load(replace(config, model=str(exported)))
