"""Shared test helpers.

Real data lives in ``../shared`` beside the project root and is read in place. In CI
(``CI`` set) a missing file fails the test; on a developer machine without the data the
test is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
SHARED_MODEL = SHARED / "assets" / "models" / "yolo11n_int8_openvino_model"


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared; fails in CI and skips elsewhere when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"shared test data missing: {path}"
        if in_ci():
            pytest.fail(message + " (CI must have ../shared)")
        pytest.skip(message)
    return path


def video_path(name: str) -> Path:
    return shared_path("assets", "videos", name)


def model_path() -> str:
    """The real model: VIDTRACK_MODEL if set, else the shared OpenVINO model."""
    env = os.environ.get("VIDTRACK_MODEL")
    if env:
        path = Path(env)
        if not path.is_absolute():
            path = (PROJECT_ROOT / path).resolve()
        if path.exists():
            return str(path)
        if in_ci():
            pytest.fail(f"VIDTRACK_MODEL={env} does not exist")
    return str(shared_path("assets", "models", "yolo11n_int8_openvino_model"))


@pytest.fixture
def real_model() -> str:
    return model_path()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def make_clip(path: Path, frames: int = 30, size: tuple[int, int] = (160, 120), fps: float = 30.0) -> Path:
    """A tiny synthetic clip: a bright square moving over a dark gradient."""
    import cv2

    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(frames):
        image = np.zeros((height, width, 3), np.uint8)
        image[:] = np.linspace(0, 80, width, dtype=np.uint8)[None, :, None]
        x = 5 + (i * 3) % max(1, width - 30)
        image[40:70, x : x + 25] = (40, 200, 250)
        writer.write(image)
    writer.release()
    return path


@pytest.fixture
def tiny_clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "tiny.avi")


class SquareDetector:
    """A stand-in detector for pipeline tests: finds the bright square ``make_clip`` draws.

    ``delay`` slows it down to imitate a heavy model.
    """

    class_names = {0: "person", 1: "car"}
    max_in_flight = 1

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0

    def warmup(self, image_hw: tuple[int, int]) -> None:
        pass  # nothing to prepare

    def detect(self, image: np.ndarray):
        import time

        from vidtrack.detection.base import make_detections

        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        mask = (image[:, :, 2] > 200) & (image[:, :, 1] > 150)
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            return make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), self.class_names)
        box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], dtype=np.float32)
        return make_detections(box, np.array([0.9]), np.array([0]), self.class_names)


@pytest.fixture
def square_detector() -> SquareDetector:
    return SquareDetector()


#: Debian's chromium (CI installs it with apt); Playwright drives it, never downloads one.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required", "--disable-dev-shm-usage",
]


@pytest.fixture
def browser():
    """A headless Chromium driven by Playwright (fails in CI, skips elsewhere, when missing)."""
    if not Path(CHROMIUM).exists():
        if in_ci():
            pytest.fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def wait_until(page, expression: str, timeout: float = 15.0):
    """Evaluate ``expression`` in ``page`` until it is truthy; its value then.

    A polling loop over ``page.evaluate`` rather than ``page.wait_for_function``: the
    latter evaluates strings inside the page, which the pages' Content-Security-Policy
    (rightly) forbids.
    """
    import time

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = page.evaluate(expression)
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{expression!r} still not true after {timeout} s (last: {last!r})")


@pytest.fixture(scope="session")
def detection_service():
    """The real model loaded once for every server test (``vidtrack.web.service.DetectionService``)."""
    from vidtrack.config import DetectorConfig
    from vidtrack.web.service import DetectionService

    return DetectionService(DetectorConfig(model=model_path()))


# -- the real-data part of the suite, and the numerics pass ---------------------------------
#
# A test is "real data" when it reads ../shared (the real model, videos, images): it is marked
# ``realdata`` automatically, so `pytest -m realdata` runs exactly that part. .ci/run runs the
# suite with VIDTRACK_TEST_PERTURB=SEED (vidtrack.detection.perturb), a new seed each run: every
# backend's raw output moves as on another CPU, and a test that only held by luck of one CPU's
# numerics fails.

#: Names whose use means a test reads ../shared: the helpers above and the fixtures built on them.
SHARED_NAMES = frozenset({"shared_path", "video_path", "model_path", "SHARED", "SHARED_MODEL", "real_model",
                          "detection_service"})


def _reaches_shared(obj: object, seen: set[int]) -> bool:
    """True when a function (or a fixture's function) uses a SHARED_NAMES helper, directly or
    through the module-level functions it calls (followed through their globals)."""
    import types

    func = getattr(obj, "__wrapped__", obj)
    code = getattr(func, "__code__", None)
    if code is None or id(code) in seen:
        return False
    seen.add(id(code))
    namespace = getattr(func, "__globals__", {})
    stack = [code]
    while stack:
        current = stack.pop()
        if SHARED_NAMES & set(current.co_names) or SHARED_NAMES & set(current.co_varnames):
            return True
        if any(isinstance(c, str) and "/shared/" in c for c in current.co_consts):
            return True
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
        for name in current.co_names:
            target = namespace.get(name)
            if isinstance(target, (types.FunctionType, type)) and getattr(target, "__module__", "").split(".")[0] != "vidtrack":
                candidates = [target] if isinstance(target, types.FunctionType) else list(vars(target).values())
                if any(_reaches_shared(c, seen) for c in candidates if isinstance(c, types.FunctionType)):
                    return True
    return False


def uses_real_data(item: pytest.Item) -> bool:
    """Whether a collected test reads ../shared: marked so, or its function, one of its fixtures,
    or a test-module helper they call names a SHARED_NAMES helper."""
    if item.get_closest_marker("realdata"):
        return True
    if SHARED_NAMES & set(getattr(item, "fixturenames", ())):
        return True
    seen: set[int] = set()
    if _reaches_shared(getattr(item, "function", None), seen):
        return True
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        if any(_reaches_shared(d.func, seen) for d in defs):
            return True
    return False


#: A file naming (one node id a line) the tests that ran a model backend, written at the end of a
#: session when this variable names it (``make test`` does); ``ONLY_TESTS_ENV`` then runs just those:
#: ``make test-perturbed`` reruns them under the numerics pass. Tests that ran no model cannot see
#: the perturbation, so rerunning them would only cost time.
MODEL_TESTS_ENV = "VIDTRACK_MODEL_TESTS"
ONLY_TESTS_ENV = "VIDTRACK_ONLY_TESTS"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not item.get_closest_marker("realdata") and uses_real_data(item):
            item.add_marker(pytest.mark.realdata)
    only = os.environ.get(ONLY_TESTS_ENV)
    if only:
        wanted = set(Path(only).read_text(encoding="utf-8").split("\n")) - {""}
        dropped = [item for item in items if item.nodeid not in wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if item.nodeid in wanted]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Tests that run a real model note it in a log (vidtrack.detection.perturb.MODEL_LOG_ENV)."""
    import tempfile

    from vidtrack.detection.perturb import MODEL_LOG_ENV

    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: the controller owns the log
        return
    handle, name = tempfile.mkstemp(prefix="vidtrack-model-use-", suffix=".log")
    os.close(handle)
    os.environ[MODEL_LOG_ENV] = name


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A test that ran a model backend without being marked realdata would miss the numerics pass:
    name it so that it is marked (or the detection in uses_real_data is taught its way in)."""
    from vidtrack.detection.perturb import MODEL_LOG_ENV

    name = os.environ.pop(MODEL_LOG_ENV, None)
    if not name or hasattr(session.config, "workerinput"):
        return
    try:
        used = set(Path(name).read_text(encoding="utf-8").splitlines()) - {""}
        os.unlink(name)
    except OSError:
        return
    keep = os.environ.get(MODEL_TESTS_ENV)
    if keep:
        ran = sorted(item.nodeid for item in session.items if item.nodeid in used)
        Path(keep).write_text("".join(f"{nodeid}\n" for nodeid in ran), encoding="utf-8")
    unmarked = sorted(item.nodeid for item in session.items if item.nodeid in used and not item.get_closest_marker("realdata"))
    if unmarked:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (f"{len(unmarked)} test(s) ran a model backend but are not marked realdata (`-m realdata` "
                   f"misses them; the numerics pass still reruns them from {MODEL_TESTS_ENV}'s list): "
                   f"{', '.join(unmarked)}; if they use the real model, mark them @pytest.mark.realdata")
        if reporter is not None:
            reporter.write_line("")
            reporter.write_line("WARNING: " + message, yellow=True)
        # Reported, not failed: tests of synthetic models (ONNX files built in the test) run the
        # same backends, and only a person can tell them from real-data tests.


def pytest_report_header(config: pytest.Config) -> str | None:
    seed = os.environ.get("VIDTRACK_TEST_PERTURB", "").strip()
    if seed:
        return f"numerics pass: VIDTRACK_TEST_PERTURB={seed} (raw model outputs perturbed; rerun with the same value)"
    return None


@pytest.fixture(scope="session", autouse=True)
def _numerics_pass() -> None:
    """Under VIDTRACK_TEST_PERTURB, the tests' own ``ultralytics.YOLO`` references are perturbed
    too (as the app's backends are), so both sides of a comparison see the same 'CPU'."""
    from vidtrack.detection.perturb import hook_ultralytics, perturb_seed

    if perturb_seed() is not None:
        hook_ultralytics()


#: First lines of a plug-in check (``tests/plugins``) run by :func:`run_plugin_check`: the toy
#: plug-ins and these helpers on ``sys.path``, ``tmp`` a scratch folder.
PLUGIN_PRELUDE = """import json, sys
from pathlib import Path
sys.path[:0] = [sys.argv[1], sys.argv[2]]  # tests/plugins (the toy plug-ins), tests (conftest helpers)
tmp = Path(sys.argv[3])
"""


def run_plugin_check(script: str, tmp_path: Path) -> dict:
    """Run ``script`` after :data:`PLUGIN_PRELUDE` in a fresh interpreter and return the JSON it
    prints last. A plug-in must register before ``vidtrack.options`` builds its table (at
    import), so a registration is only seen in an interpreter of its own, and leaves this one
    untouched."""
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", PLUGIN_PRELUDE + script, str(PROJECT_ROOT / "tests" / "plugins"), str(PROJECT_ROOT / "tests"),
         str(tmp_path)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
