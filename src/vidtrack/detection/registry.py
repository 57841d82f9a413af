"""The detector registry: backend name -> loader, and :func:`load_detector`, which picks one.

A backend is one file that declares itself with :func:`backend` (as Frigate's detector
plug-ins and roboflow ``trackers``' trackers do) and one line in :data:`BUILTIN_PLUGINS`.
Other packages add backends through the ``vidtrack.detectors`` entry point group
(``[project.entry-points."vidtrack.detectors"] mine = "my_package.vidtrack_backend"``): the
module is imported on first use and declares itself the same way. Nothing here is imported
until a model is loaded, so ``import vidtrack`` stays instant.

How ``--model``/``--backend`` pick a backend:

1. a model spec with a registered prefix (``torchvision:NAME[:PATH]``) goes to its backend;
2. ``--backend NAME`` names one;
3. ``--backend auto``: the first backend whose ``claims`` says yes (an OpenVINO export folder,
   an RT-DETR checkpoint, a ``.pt`` on a CPU: exported to OpenVINO once, cached, see
   :mod:`vidtrack.detection.export`), else Ultralytics.
"""

from __future__ import annotations

import importlib
import logging
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vidtrack.config import DetectorConfig
from vidtrack.detection.base import MODEL_FILE_SUFFIXES, Detector, looks_like_path
from vidtrack.errors import ModelError, OptionError, VidtrackError, exception_cause, path_error, short_path
from vidtrack.paths import check_readable, stat_mode

#: The built-in backends' modules, imported on first use; each declares itself with :func:`backend`.
BUILTIN_PLUGINS = (
    "vidtrack.detection.openvino",
    "vidtrack.detection.onnx",
    "vidtrack.detection.ultralytics",
    "vidtrack.detection.torchvision",
    "vidtrack.detection.export",
)
#: The entry point group through which other packages add backends.
ENTRY_POINT_GROUP = "vidtrack.detectors"
#: The backend ``--backend auto`` falls back to.
DEFAULT_BACKEND = "ultralytics"

Loader = Callable[[DetectorConfig], Detector]


@dataclass(frozen=True)
class Backend:
    """One registered backend.

    Attributes:
        name: what ``--backend`` calls it.
        load: builds a detector from the run's settings (raises ModelError/OptionError).
        claims: for ``--backend auto``: True when this backend should run the model at
            ``path`` with these settings (an OpenVINO export folder; a ``.pt`` on a CPU).
        prefix: model specs that start with it (``"torchvision:"``) always go to this backend,
            and are not checked as paths.
    """

    name: str
    load: Loader
    claims: Callable[[DetectorConfig, Path], bool] | None = None
    prefix: str | None = None


_REGISTRY: dict[str, Backend] = {}
_loaded = False


def backend(name: str, *, claims: Callable[[DetectorConfig, Path], bool] | None = None, prefix: str | None = None) -> Callable[[Loader], Loader]:
    """Declare the decorated function as the loader of backend ``name`` (one line per plug-in)."""

    def register(load: Loader) -> Loader:
        _REGISTRY[name] = Backend(name, load, claims, prefix)
        return load

    return register


def backends() -> dict[str, Backend]:
    """Every backend, by name: the built-in plug-ins and the entry point group's (imported once)."""
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN_PLUGINS:
            importlib.import_module(module)
        from importlib.metadata import entry_points

        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                entry.load()
            except Exception as exc:  # a broken third-party plug-in must not stop the built-in ones
                logging.getLogger("vidtrack").warning("detector plug-in %s not loaded: %s", entry.value, exception_cause(exc))
    return _REGISTRY


def get_backend(name: str) -> Backend:
    """The backend called ``name``.

    Raises:
        OptionError: no such backend (names the known ones).
    """
    known = backends()
    if name not in known:
        raise OptionError(f"--backend {name!r} is unknown", f"use auto, {', '.join(sorted(known))}")
    return known[name]


def load_detector(config: DetectorConfig) -> Detector:
    """Load the model named by ``config.model`` with the backend the rules above pick.

    Raises:
        ModelError: no model at the path, an unusable path (any OS error), not a model, or
            not downloadable (one line + fix); also *any* other failure while loading
            (backends raise TypeError, RuntimeError, ... for a file that is not a model).
        OptionError: ``config.classes`` names a class the model does not have, or
            ``config.backend`` names no backend.

    With ``config.tiles`` or ``config.tile_regions`` set, the backend is wrapped in a
    :class:`~vidtrack.detection.tiling.TiledDetector` (see :mod:`vidtrack.detection.tiling`).
    """
    from vidtrack.detection.tiling import inner_config, wrap_for_tiles

    tiled = config.tiles != "off" or bool(config.tile_regions)
    try:
        inner = _load(inner_config(config) if tiled else config)
        return wrap_for_tiles(inner, config) if tiled else inner
    except VidtrackError:
        raise
    except OSError as exc:
        raise path_error(ModelError, "read model", config.model, exc) from exc
    except Exception as exc:  # every backend has its own exception types for a bad file
        raise ModelError(
            f"{short_path(config.model)} is not a model vidtrack can load ({exception_cause(exc)})",
            "pass --model with a .pt/.onnx file or an exported model folder, or set VIDTRACK_MODEL",
        ) from exc


def _load(config: DetectorConfig) -> Detector:
    known = backends()
    if config.backend != "auto":
        get_backend(config.backend)
    model = config.model
    for entry in known.values():
        if entry.prefix and model.startswith(entry.prefix):
            return entry.load(config)
    path = Path(model).expanduser()
    mode = stat_mode(path) if looks_like_path(model) else None
    if looks_like_path(model):
        if mode is None:
            raise ModelError(
                f"no model at {short_path(model)}", "pass --model PATH to an existing model or set VIDTRACK_MODEL"
            )
        check_readable(path, ModelError, "read model")
        if stat.S_ISREG(mode) and path.suffix.lower() not in MODEL_FILE_SUFFIXES:
            raise ModelError(
                f"{short_path(model)} is not a model file ({path.suffix or 'no suffix'})",
                f"pass --model with a {', '.join(MODEL_FILE_SUFFIXES[:5])}... file or an exported model folder",
            )
    if config.backend != "auto":
        return known[config.backend].load(config)
    # In BUILTIN_PLUGINS' order: an OpenVINO export folder runs directly (tested box-for-box
    # against Ultralytics on coco128); an RT-DETR checkpoint through ultralytics.RTDETR; a .pt
    # on a CPU through its cached OpenVINO export. ONNX files go through Ultralytics unless
    # --backend onnx asks for the direct path (only tested on synthetic models so far).
    for entry in known.values():
        if entry.claims is not None and entry.claims(config, path):
            return entry.load(config)
    return known[DEFAULT_BACKEND].load(config)
