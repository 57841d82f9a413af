"""Test-only numerics perturbation: every backend's raw output moved as another CPU would move it.

INT8 kernels give slightly different raw outputs on different CPUs (AVX2, AVX-512
VNNI/BF16, AMX): on an AMD EPYC one coco128 photo's confidences moved by up to 0.021 against
an Intel/AMX machine, and box edges by about a pixel. A test that passes on one CPU only
because a number happens to land on one side of a rounding or threshold edge fails on the
next. Setting ``VIDTRACK_TEST_PERTURB=SEED`` (an integer) makes every detector backend's raw
output move by that much, seeded:

- each class score by up to ``CONF_STEP`` (0.02) either way, scaled down linearly below
  ``SCORE_FLOOR`` so that background anchors stay background (a real kernel moves a near-zero
  sigmoid by almost nothing; below ``SCORE_CUT`` not at all), then clipped to [0, 1];
- each box edge by up to ``EDGE_PX`` (1 pixel of model input) either way.

The noise is a function of the seed and of a hash of the model input (one image of the
input tensor), so within one run the same image gives the same output, as on one real CPU:
two code paths that feed the model the same input still agree, and a test that compares
them stays meaningful. A new seed is a new "CPU".

Where it acts (one function, :func:`perturb_output`, called where raw outputs are decoded):
the direct OpenVINO and ONNX Runtime backends (:func:`vidtrack.detection.yolo_io.predictions_to_detections`
and ``OpenVINODetector.raw_output``), the torchvision backend (its models do their own NMS:
their final boxes, :func:`perturb_final`), and everything that runs through Ultralytics'
``AutoBackend`` (``UltralyticsDetector``, and ``YOLO(...).predict``/``val`` in tests) once
:func:`hook_ultralytics` has been called. The tiling detector runs its inner backend on each
tile, so it is perturbed per tile. The variable is read on every call (nothing happens at
import time); unset or empty, every function here returns its input untouched.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

#: The environment variable holding the seed (an integer); unset or empty: no perturbation.
ENV = "VIDTRACK_TEST_PERTURB"
#: Largest change of a class score: what was seen between an Intel/AMX and an AMD EPYC CPU
#: on the project's INT8 YOLO11n (0.780 -> 0.759 on a coco128 photo).
CONF_STEP = 0.02
#: Scores below this move proportionally less (a score of 0.005 by at most 0.002).
SCORE_FLOOR = 0.05
#: Largest move of one box edge, in model-input pixels.
EDGE_PX = 1.0


def perturb_seed() -> int | None:
    """The seed from ``VIDTRACK_TEST_PERTURB``, or None when it is unset or empty.

    Raises:
        ValueError: the variable holds something other than an integer.
    """
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{ENV}={value!r} is not an integer seed (set e.g. {ENV}=1, or unset it)") from None


#: Scores below this do not move at all (they would move by less than 0.00004).
SCORE_CUT = 1e-4


def input_key(image_input: np.ndarray) -> int:
    """A 64-bit key of one image's model input (its bytes, shape and dtype): two CRC-32s.

    CRC-32 rather than a cryptographic hash: a 640x384 float input takes ~1 ms, not ~10.
    """
    import zlib

    data = np.ascontiguousarray(image_input)
    low = zlib.crc32(data.data)
    high = zlib.crc32(str((data.shape, data.dtype.str)).encode(), low)
    return (high << 32) | low


_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _uniform(index: np.ndarray, key: int) -> np.ndarray:
    """Uniform noise in [-1, 1), one value per integer in ``index``, a function of (key, index) only
    (SplitMix64), so a cell gets the same value whichever other cells are drawn."""
    with np.errstate(over="ignore"):
        z = index.astype(np.uint64) * _M1 + np.uint64(key & 0xFFFFFFFFFFFFFFFF)
        z = (z ^ (z >> np.uint64(30))) * _M2
        z = (z ^ (z >> np.uint64(27))) * _M3
        z ^= z >> np.uint64(31)
    return ((z >> np.uint64(40)).astype(np.float32) * np.float32(2.0**-23) - 1).astype(np.float32)


def _keys(seed: int, image_input: np.ndarray) -> tuple[int, int]:
    """(edge key, score key) for one image under ``seed``."""
    base = (input_key(image_input) ^ (seed * 0xD1B54A32D192ED03)) & 0xFFFFFFFFFFFFFFFF
    return base, base ^ 0x5851F42D4C957F2D


def _move_scores(scores: np.ndarray, key: int) -> None:
    """Move ``scores`` (any shape, float32, in place) by up to CONF_STEP, less below SCORE_FLOOR."""
    flat = scores.reshape(-1)
    cells = np.flatnonzero(flat > SCORE_CUT)
    if not cells.size:
        return
    values = flat[cells]
    step = _uniform(cells, key) * np.float32(CONF_STEP) * np.minimum(np.float32(1), values / np.float32(SCORE_FLOOR))
    flat[cells] = np.clip(values + step, 0.0, 1.0)


def _perturb_one(prediction: np.ndarray, keys: tuple[int, int]) -> np.ndarray:
    """One image's raw output, moved: ``(4 + nc, N)`` anchors or ``(N, 6)`` end-to-end rows."""
    edge_key, score_key = keys
    out = np.array(prediction, dtype=np.float32, copy=True)
    if out.ndim == 2 and out.shape[-1] == 6:  # end-to-end rows: x1, y1, x2, y2, score, class
        out[:, :4] += _uniform(np.arange(out.shape[0] * 4), edge_key).reshape(-1, 4) * np.float32(EDGE_PX)
        _move_scores(out[:, 4], score_key)
        return out
    if out.ndim != 2 or out.shape[0] < 5:
        raise ValueError(f"expected one image's (4 + classes, anchors) output, got shape {prediction.shape}")
    edges = _uniform(np.arange(4 * out.shape[1]), edge_key).reshape(4, -1) * np.float32(EDGE_PX)  # x1, y1, x2, y2
    out[0] += (edges[0] + edges[2]) / 2
    out[1] += (edges[1] + edges[3]) / 2
    out[2] = np.maximum(out[2] + edges[2] - edges[0], 0.0)
    out[3] = np.maximum(out[3] + edges[3] - edges[1], 0.0)
    _move_scores(out[4:], score_key)
    return out


def perturb_output(raw: np.ndarray, model_input: np.ndarray) -> np.ndarray:
    """``raw`` moved by the seeded noise when ``VIDTRACK_TEST_PERTURB`` is set; else ``raw`` itself.

    Args:
        raw: the model's output for ``model_input``: ``(B, 4 + nc, N)`` / ``(B, N, 6)``, or one
            image's ``(4 + nc, N)`` / ``(N, 6)``. Never changed in place (it may be a view
            into an inference request).
        model_input: the tensor the model ran on, ``(B, 3, H, W)`` or one image's ``(3, H, W)``.

    Returns:
        A new float32 array of ``raw``'s shape (or ``raw`` when the pass is off).

    Raises:
        ValueError: the seed is not an integer, or the shapes do not match.
    """
    seed = perturb_seed()
    if seed is None:
        return raw
    raw = np.asarray(raw)
    model_input = np.asarray(model_input)
    if model_input.ndim == 3:
        return _perturb_one(raw, _keys(seed, model_input))
    if model_input.ndim != 4 or raw.ndim != 3 or raw.shape[0] != model_input.shape[0]:
        raise ValueError(f"raw output {raw.shape} does not match model input {model_input.shape}")
    return np.stack([_perturb_one(raw[b], _keys(seed, model_input[b])) for b in range(raw.shape[0])])


def perturb_final(xyxy: np.ndarray, scores: np.ndarray, model_input: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For models that do their own NMS (torchvision): final ``xyxy`` (N, 4) and ``scores`` (N,)
    moved as end-to-end rows are (edges ±``EDGE_PX`` image px, scores ±``CONF_STEP``), keyed
    on ``model_input`` (the image the model ran on, H x W x C). Those models clip their boxes to
    the image, on every CPU, so the moved boxes are clipped to it too. Returns the inputs
    themselves when off."""
    seed = perturb_seed()
    if seed is None:
        return xyxy, scores
    rows = np.zeros((len(scores), 6), np.float32)
    rows[:, :4], rows[:, 4] = np.asarray(xyxy, np.float32).reshape(-1, 4), scores
    image = np.asarray(model_input)
    moved = _perturb_one(rows, _keys(seed, image))
    height, width = image.shape[:2]
    moved[:, [0, 2]] = np.clip(moved[:, [0, 2]], 0, width)
    moved[:, [1, 3]] = np.clip(moved[:, [1, 3]], 0, height)
    return moved[:, :4], moved[:, 4]


#: The test suite sets this to a file: each test that runs a real model appends its id there
#: (from pytest's ``PYTEST_CURRENT_TEST``, which subprocesses inherit), so ``tests/conftest.py``
#: can check that every such test is marked ``realdata`` (and so runs under the numerics pass).
MODEL_LOG_ENV = "VIDTRACK_TEST_MODEL_LOG"
_last_noted = ""


def note_model_use() -> None:
    """Append the running test's id to ``$VIDTRACK_TEST_MODEL_LOG`` (once per test and process).

    Called where a real backend's output is decoded; a no-op outside the test suite."""
    global _last_noted
    log = os.environ.get(MODEL_LOG_ENV)
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    if not log or not test or test == _last_noted:
        return
    _last_noted = test
    try:
        with open(log, "a", encoding="utf-8") as out:
            out.write(test + "\n")
    except OSError:
        pass  # a test bookkeeping aid only: never fail a run for it


_hooked = False
_hook_lock = threading.Lock()
_inside = threading.local()


def hook_ultralytics() -> None:
    """Perturb the raw output of every Ultralytics ``AutoBackend`` (predict, val, any format).

    Idempotent; does nothing (and imports nothing) while ``VIDTRACK_TEST_PERTURB`` is unset.
    The wrapped ``forward`` still checks the variable on every call.
    """
    global _hooked
    if perturb_seed() is None or _hooked:
        return
    with _hook_lock:
        if _hooked:
            return
        from ultralytics.nn.autobackend import AutoBackend

        original = AutoBackend.forward

        def forward(self: Any, im: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(_inside, "active", False):  # AutoBackend splits big batches by calling itself
                return original(self, im, *args, **kwargs)
            _inside.active = True
            try:
                out = original(self, im, *args, **kwargs)
            finally:
                _inside.active = False
            return _perturb_torch(out, im)

        forward.__wrapped__ = original  # type: ignore[attr-defined]
        AutoBackend.forward = forward
        _hooked = True


def _perturb_torch(out: Any, im: Any) -> Any:
    """AutoBackend's output (a tensor, or a list/tuple whose first item is the predictions), moved."""
    if perturb_seed() is None:
        return out
    import torch

    first = out[0] if isinstance(out, (list, tuple)) else out
    if not isinstance(first, torch.Tensor) or first.ndim != 3 or first.shape[0] != im.shape[0]:
        return out  # not a detection output (e.g. embeddings): leave it alone
    model_input = im.detach().float().cpu().numpy()
    moved = perturb_output(first.detach().float().cpu().numpy(), model_input)
    tensor = torch.as_tensor(moved, device=first.device).to(first.dtype)
    if isinstance(out, (list, tuple)):
        return type(out)([tensor, *out[1:]]) if isinstance(out, tuple) else [tensor, *out[1:]]
    return tensor
