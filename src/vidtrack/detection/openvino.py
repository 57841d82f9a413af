"""Ultralytics-exported OpenVINO models run through the OpenVINO runtime directly.

No torch, no ultralytics: pre- and post-processing come from :mod:`yolo_io` and give the
same boxes as ``ultralytics.YOLO(folder).predict``. Several infer requests can run at once
from different threads (``max_in_flight``), so the pipeline keeps more than one frame in
the model. Compiled models are cached on disk (OpenVINO ``CACHE_DIR``), which cuts the
start-up compile from about a second to a fraction of one.
"""

from __future__ import annotations

import queue
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from vidtrack.config import DetectorConfig
from vidtrack.detection.base import resolve_classes
from vidtrack.detection.perturb import note_model_use, perturb_output
from vidtrack.detection.registry import backend
from vidtrack.detection.yolo_io import (
    ExportInfo,
    InputBuffer,
    Letterbox,
    add_stage_times,
    parse_export_info,
    plan_letterbox,
    predictions_to_detections,
)
from vidtrack.errors import ModelError, exception_cause

if TYPE_CHECKING:
    import supervision as sv

#: Throughput keeps one single-threaded stream per request: best when several frames are in
#: flight and other stages share the cores. LATENCY runs one request on all cores: best for
#: one frame at a time.
DEFAULT_HINT = "THROUGHPUT"

#: Input shapes of a dynamic-shape export compiled as static models before falling back to
#: the dynamic-shape model. 0: always run the model as exported, as Ultralytics does.
#: Static compiles give INT8 numerics that differ from the dynamic compile on some CPUs (an
#: AMD EPYC with AVX-512 VNNI/BF16: 6 boxes instead of Ultralytics' 7 on a coco128 photo,
#: confidences moved by up to 0.02), and they do not pay for it:
#: ``python benchmarks/static_shapes.py`` measured static/dynamic model throughput at
#: 0.97x-1.06x (oneDNN capped to AVX512_CORE_VNNI and to AVX512_CORE_BF16, 2-core Xeon,
#: 2 requests in flight, 1080p frames), i.e. no gain beyond noise. Fixed-shape exports have
#: one static shape anyway.
STATIC_SHAPES = 0


def default_cache_dir() -> Path:
    """Where compiled models are cached: ``$XDG_CACHE_HOME/vidtrack/openvino`` or ``~/.cache/...``."""
    from vidtrack.detection.export import cache_root

    return cache_root() / "openvino"


def find_model_xml(model: str | Path) -> Path:
    """The ``.xml`` of an OpenVINO model given its folder or the file itself."""
    path = Path(model).expanduser()
    if path.is_file() and path.suffix.lower() == ".xml":
        return path
    if path.is_dir():
        xmls = sorted(path.glob("*.xml"))
        if xmls:
            return xmls[0]
        raise ModelError(
            f"{path} holds no OpenVINO model (.xml)",
            "pass the folder written by `yolo export format=openvino` (it holds NAME.xml and NAME.bin)",
        )
    raise ModelError(f"no OpenVINO model at {path}", "pass --model with an exported *_openvino_model folder")


def read_export_info(xml: Path, num_outputs: int | None) -> ExportInfo:
    """Class names and shapes from the ``metadata.yaml`` Ultralytics writes beside the model.

    Without one, classes are named ``class0``, ``class1``, ... from the output width.
    """
    meta_path = xml.parent / "metadata.yaml"
    if not meta_path.exists():
        if not num_outputs or num_outputs <= 4:
            raise ModelError(
                f"{xml.parent} has no metadata.yaml and its output does not tell the classes",
                "export the model with Ultralytics (`yolo export format=openvino`)",
            )
        names = {i: f"class{i}" for i in range(num_outputs - 4)}
        return ExportInfo(names=names, imgsz=(640, 640), stride=32, dynamic=False, end2end=False)
    import yaml

    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
        if not isinstance(meta, dict):
            raise ValueError("not a mapping")
        return parse_export_info(meta, str(meta_path))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ModelError(
            f"{meta_path} is unreadable ({exc})", "re-export the model with `yolo export format=openvino`"
        ) from exc


def _ov_device(device: str | None) -> str:
    """Map vidtrack/Ultralytics device names to OpenVINO's (``cpu`` -> ``CPU``, ``intel:gpu`` -> ``GPU``)."""
    if not device or device.lower() == "cpu":
        return "CPU"
    if device.lower().startswith("intel:"):
        return device.partition(":")[2].upper() or "CPU"
    return device.upper()


def _dynamic_int8_unsafe(model: Any) -> bool:
    """True on CPUs with AMX-INT8, where OpenVINO's CPU plugin crashes on dynamic-shape INT8 models.

    Ultralytics then runs such models at a fixed square input, so do we (same boxes).
    """
    cpuinfo = Path("/proc/cpuinfo")
    try:
        if not cpuinfo.exists() or "amx_int8" not in cpuinfo.read_text():
            return False
    except OSError:
        return False
    return any(op.get_type_name() == "FakeQuantize" for op in model.get_ops())


class _Engine:
    """A compiled model and a pool of infer requests, each with its own input buffer."""

    def __init__(self, compiled: Any, requests: int) -> None:
        self.compiled = compiled
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        self._size = requests
        for _ in range(requests):
            self._free.put((compiled.create_infer_request(), InputBuffer()))

    def prime(self, input_hw: tuple[int, int], batch: int = 1) -> None:
        """Run every request once, one after the other, on a blank input.

        The first inference in a process initialises OpenVINO's numpy bindings (a C++
        static that imports numpy). Two threads doing their first inference at the same
        moment can deadlock there (seen here: both requests hung for good), so the first
        one happens here, on one thread, before the pipeline's workers start.
        """
        blank = np.zeros((batch, 3, *input_hw), np.float32)
        requests = [self._free.get() for _ in range(self._size)]
        try:
            for request, _ in requests:
                request.infer({0: blank})
        finally:
            for item in requests:
                self._free.put(item)

    @contextmanager
    def request(self) -> Iterator[tuple[Any, InputBuffer]]:
        """Borrow a free request (blocks while all are busy)."""
        item = self._free.get()
        try:
            yield item
        finally:
            self._free.put(item)


class OpenVINODetector:
    """YOLO detection with an Ultralytics OpenVINO export, thread-safe up to ``max_in_flight``."""

    def __init__(
        self,
        config: DetectorConfig,
        *,
        requests: int = 2,  # frames in flight; more than the core count only adds latency
        performance_hint: str = DEFAULT_HINT,
        cache_dir: Path | None = None,  # None: default_cache_dir(); caching cuts compile time ~4x
        use_cache: bool = True,
        static_shapes: int = STATIC_SHAPES,
    ) -> None:
        self.config = config
        self.xml = find_model_xml(config.model)
        try:
            import openvino as ov
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelError(
                f"the openvino package is needed for model {config.model}", "pip install vidtrack (openvino is one of its dependencies)"
            ) from exc
        self._ov = ov
        self._core = ov.Core()
        bin_path = self.xml.with_suffix(".bin")
        try:
            self._model = self._core.read_model(str(self.xml), str(bin_path) if bin_path.exists() else "")
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses with long C++ traces
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise ModelError(
                f"{self.xml} is not a readable OpenVINO model ({first})",
                "re-export it with `yolo export format=openvino` or pass another --model",
            ) from exc
        if len(self._model.inputs) != 1:
            raise ModelError(f"{self.xml} has {len(self._model.inputs)} inputs", "pass a YOLO detection model")
        out_shape = self._model.outputs[0].get_partial_shape()
        channels = out_shape[1].get_length() if out_shape.rank.get_length() == 3 and out_shape[1].is_static else None
        self.info = read_export_info(self.xml, channels)
        self.class_names: dict[int, str] = dict(self.info.names)
        self.class_ids = resolve_classes(config.classes, self.class_names)

        in_shape = self._model.inputs[0].get_partial_shape()
        graph_dynamic = in_shape.is_dynamic
        if graph_dynamic and _dynamic_int8_unsafe(self._model):
            # As Ultralytics does there: a square letterbox for every image (few recompiles) and a
            # static compile per input shape met (raw_output may still ask for other shapes).
            self._fixed_hw: tuple[int, int] | None = None
            self._minimal_rect = False
            self._static_shapes = 1 << 30  # never compile the dynamic model there
        elif graph_dynamic:
            self._fixed_hw = None
            self._minimal_rect = self.info.dynamic  # what Ultralytics' predictor does
            self._static_shapes = static_shapes
        else:
            self._fixed_hw = (in_shape[2].get_length(), in_shape[3].get_length())
            self._minimal_rect = False
            self._static_shapes = 1
        self._target_hw = self._fixed_hw or (config.imgsz, config.imgsz)
        #: Most images one ``detect_many`` call sends to the model at once: a model exported
        #: with a dynamic batch axis takes any batch (each batch size is compiled once, as a
        #: static shape); a fixed batch-1 export takes one image per call.
        self.max_batch = 64 if in_shape[0].is_dynamic else max(1, in_shape[0].get_length())

        self.max_in_flight = max(1, int(requests))
        self._compile_config: dict[str, Any] = {
            "PERFORMANCE_HINT": performance_hint,
            "PERFORMANCE_HINT_NUM_REQUESTS": self.max_in_flight,
        }
        self._device = _ov_device(config.device)
        if use_cache:
            cache = cache_dir or default_cache_dir()
            try:
                cache.mkdir(parents=True, exist_ok=True)
                self._compile_config["CACHE_DIR"] = str(cache)
            except OSError:
                pass  # read-only home: run without the cache, only start-up is slower
        self._engines: dict[tuple[int, int] | None, _Engine] = {}
        self._batch_engines: dict[tuple[int, int, int], _Engine] = {}  # (batch, h, w), batch > 1
        self._compile_lock = threading.Lock()

    # -- compilation -------------------------------------------------------------------

    def _engine_for(self, input_hw: tuple[int, int]) -> _Engine:
        engine = self._engines.get(input_hw)
        if engine is not None:
            return engine
        with self._compile_lock:
            engine = self._engines.get(input_hw)
            if engine is not None:
                return engine
            static = [k for k in self._engines if k is not None]
            key: tuple[int, int] | None = input_hw if len(static) < self._static_shapes else None
            engine = self._engines.get(key)
            if engine is None:
                engine = self._compile(key)
                engine.prime(input_hw)
                self._engines[key] = engine
            if key is None:
                self._engines[input_hw] = engine
            return engine

    def _batch_engine_for(self, input_hw: tuple[int, int], batch: int) -> _Engine:
        """The engine for ``batch`` images of ``input_hw`` in one call (static shape, compiled once)."""
        key = (batch, *input_hw)
        engine = self._batch_engines.get(key)
        if engine is not None:
            return engine
        with self._compile_lock:
            engine = self._batch_engines.get(key)
            if engine is None:
                engine = self._compile(input_hw, batch)
                engine.prime(input_hw, batch)
                self._batch_engines[key] = engine
            return engine

    def _compile(self, input_hw: tuple[int, int] | None, batch: int = 1) -> _Engine:
        """Compile for one static input shape, or the model as it is when ``input_hw`` is None."""
        model = self._model.clone() if input_hw is not None else self._model
        try:
            if input_hw is not None and self._model.inputs[0].get_partial_shape().is_dynamic:
                model.reshape([batch, 3, *input_hw])
            compiled = self._core.compile_model(model, self._device, self._compile_config)
        except Exception as exc:
            raise self._compile_error(exc, input_hw) from exc
        return _Engine(compiled, self.max_in_flight)

    def _compile_error(self, exc: BaseException, input_hw: tuple[int, int] | None) -> ModelError:
        """A ModelError that names the real cause of a failed compile, and the matching fix.

        OpenVINO's message is a stack of ``Exception from file:line:`` lines with the
        cause at the end (``std::bad_alloc``, ``Device with "GPU" name is not registered``).
        """
        cause = exception_cause(exc, with_type=False)
        size = f" at input {input_hw[1]}x{input_hw[0]}" if input_hw else ""
        if "bad_alloc" in cause or "memory" in cause.lower():
            return ModelError(
                f"not enough memory to compile {self.xml.name}{size} ({cause})",
                f"lower --imgsz (now {self.config.imgsz}; 640 suits most videos)",
            )
        if self.config.device and self._device != "CPU":
            return ModelError(
                f"OpenVINO could not compile {self.xml.name} for device {self._device} ({cause})",
                "check --device (e.g. cpu, intel:gpu) or leave it out",
            )
        return ModelError(
            f"OpenVINO could not compile {self.xml}{size} ({cause})",
            "re-export the model with `yolo export format=openvino`",
        )

    def warmup(self, image_hw: tuple[int, int], batch: int = 1) -> None:
        """Compile for frames of ``image_hw`` (``batch`` at a time) now rather than on the first call."""
        input_hw = self.letterbox_for(image_hw).input_hw
        if batch > 1 and self.max_batch > 1:
            self._batch_engine_for(input_hw, min(batch, self.max_batch))
        else:
            self._engine_for(input_hw)

    # -- inference ---------------------------------------------------------------------

    @property
    def model_input(self) -> int:
        """The longer side, in pixels, of the input images are letterboxed to (640 for YOLO11n)."""
        return max(self._target_hw)

    def letterbox_for(self, image_hw: tuple[int, int]) -> Letterbox:
        """The input geometry ``detect`` uses for an image of ``image_hw`` (as ``predict`` does)."""
        return plan_letterbox(image_hw, self._target_hw, self.info.stride, self._minimal_rect)

    def raw_output(self, image: np.ndarray, box: Letterbox) -> np.ndarray:
        """The model's raw output (a copy) for ``image`` letterboxed as ``box``.

        For evaluation protocols that pre- or post-process differently from ``predict``
        (Ultralytics' validator); ``detect`` is the path the app uses.
        """
        if self._fixed_hw is not None and box.input_hw != self._fixed_hw:
            raise ValueError(f"this model takes {self._fixed_hw} inputs, not {box.input_hw}")
        with self._engine_for(box.input_hw).request() as (request, buffer):
            blob = buffer.fill(image, box)
            request.infer({0: blob}, share_inputs=True)
            note_model_use()
            return perturb_output(request.get_output_tensor(0).data, blob).copy()

    def detect(self, image: np.ndarray) -> "sv.Detections":
        """Detect objects in one BGR uint8 image (thread-safe)."""
        return self.detect_timed(image, None)

    def detect_timed(self, image: np.ndarray, timings: dict[str, float] | None) -> "sv.Detections":
        """``detect`` that also adds preprocess/infer/postprocess milliseconds to ``timings``."""
        cfg = self.config
        box = self.letterbox_for(image.shape[:2])
        engine = self._engine_for(box.input_hw)
        with engine.request() as (request, buffer):
            t1 = time.perf_counter()
            blob = buffer.fill(image, box)
            t2 = time.perf_counter()
            request.infer({0: blob}, share_inputs=True)
            t3 = time.perf_counter()
            raw = request.get_output_tensor(0).data  # a view into the request: decode before releasing it
            detections = predictions_to_detections(raw, box, cfg, self.class_ids, self.class_names, blob)
        add_stage_times(timings, (t1, t2, t3, time.perf_counter()))
        return detections

    def detect_many(self, images: Sequence[np.ndarray]) -> list["sv.Detections"]:
        """Detect in several BGR uint8 images with as few model calls as the model allows (thread-safe).

        Images whose letterboxed inputs have the same size go to the model as one batch
        (at most ``max_batch``); each result is what ``detect`` gives for that image
        alone, up to float rounding of the batched kernels. Returns one ``sv.Detections``
        per image, in order.
        """
        boxes = [self.letterbox_for(image.shape[:2]) for image in images]
        results: list[Any] = [None] * len(images)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, box in enumerate(boxes):
            groups.setdefault(box.input_hw, []).append(i)
        for input_hw, members in groups.items():
            for start in range(0, len(members), self.max_batch):
                chunk = members[start : start + self.max_batch]
                if len(chunk) == 1:
                    results[chunk[0]] = self.detect(images[chunk[0]])
                    continue
                if self._fixed_hw is not None and input_hw != self._fixed_hw:  # pragma: no cover - letterbox_for prevents it
                    raise ValueError(f"this model takes {self._fixed_hw} inputs, not {input_hw}")
                engine = self._batch_engine_for(input_hw, len(chunk))
                with engine.request() as (request, buffer):
                    blob = buffer.fill_many([images[i] for i in chunk], [boxes[i] for i in chunk])
                    request.infer({0: blob}, share_inputs=True)
                    raw = request.get_output_tensor(0).data  # a view: decode before releasing the request
                    for j, i in enumerate(chunk):
                        results[i] = predictions_to_detections(
                            raw[j], boxes[i], self.config, self.class_ids, self.class_names, blob[j]
                        )
        return results


def _is_openvino_export(config: DetectorConfig, path: Path) -> bool:
    """An exported OpenVINO folder (holds a ``.xml`` model): ``--backend auto`` runs it here."""
    return path.is_dir() and any(path.glob("*.xml"))


@backend("openvino", claims=_is_openvino_export)
def load_openvino(config: DetectorConfig) -> OpenVINODetector:
    """The ``openvino`` backend: an OpenVINO export folder (or ``.xml``) run directly, no torch."""
    return OpenVINODetector(config)
