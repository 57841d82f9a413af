"""The test-only numerics pass (VIDTRACK_TEST_PERTURB): seeded, bounded, keyed on the model input."""

from __future__ import annotations

import numpy as np
import pytest

from vidtrack.detection.perturb import CONF_STEP, EDGE_PX, ENV, perturb_output


def raw_and_input(rng: np.random.Generator, anchors: int = 500) -> tuple[np.ndarray, np.ndarray]:
    raw = np.zeros((1, 84, anchors), np.float32)
    raw[0, :2] = rng.uniform(50, 600, (2, anchors))
    raw[0, 2:4] = rng.uniform(5, 200, (2, anchors))
    raw[0, 4:] = rng.uniform(0, 1, (80, anchors)) ** 8  # mostly background, some confident
    return raw, rng.uniform(0, 1, (1, 3, 64, 96)).astype(np.float32)


def edges(raw: np.ndarray) -> np.ndarray:
    cx, cy, w, h = raw[0, :4]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def test_off_returns_the_raw_output_itself(monkeypatch, rng):
    monkeypatch.delenv(ENV, raising=False)
    raw, blob = raw_and_input(rng)
    assert perturb_output(raw, blob) is raw
    monkeypatch.setenv(ENV, "")
    assert perturb_output(raw, blob) is raw


def test_bounded_seeded_and_a_function_of_the_input(monkeypatch, rng):
    raw, blob = raw_and_input(rng)
    before = raw.copy()
    monkeypatch.setenv(ENV, "7")
    moved = perturb_output(raw, blob)
    np.testing.assert_array_equal(raw, before)  # never in place (raw may be a request's buffer)
    assert moved.shape == raw.shape and moved.dtype == np.float32
    score_moves = np.abs(moved[0, 4:] - raw[0, 4:])
    assert score_moves.max() <= CONF_STEP + 1e-6 and score_moves[raw[0, 4:] > 0.2].min() >= 0
    assert (score_moves[raw[0, 4:] > 0.2] > 0.002).mean() > 0.8  # confident scores really move
    assert np.abs(moved[0, 4:] - raw[0, 4:])[raw[0, 4:] < 0.001].max() <= 0.001  # background stays background
    edge_moves = np.abs(edges(moved) - edges(raw))
    assert edge_moves.max() <= EDGE_PX + 1e-3 and edge_moves.mean() > 0.2
    np.testing.assert_array_equal(perturb_output(raw, blob.copy()), moved)  # same input: same output
    other = blob.copy()
    other[0, 0, 0, 0] += 0.5
    assert not np.array_equal(perturb_output(raw, other), moved)  # another image: other noise
    monkeypatch.setenv(ENV, "8")
    assert not np.array_equal(perturb_output(raw, blob), moved)  # another seed: another "CPU"


def test_a_batch_is_perturbed_image_by_image_as_singles_are(monkeypatch, rng):
    monkeypatch.setenv(ENV, "3")
    (a, blob_a), (b, blob_b) = raw_and_input(rng), raw_and_input(rng)
    batch = perturb_output(np.concatenate([a, b]), np.concatenate([blob_a, blob_b]))
    np.testing.assert_array_equal(batch[1], perturb_output(b, blob_b)[0])
    np.testing.assert_array_equal(batch[0], perturb_output(a[0], blob_a[0]))


def test_end_to_end_rows_and_a_bad_seed(monkeypatch, rng):
    monkeypatch.setenv(ENV, "1")
    rows = np.array([[10, 10, 50, 60, 0.9, 0], [0, 0, 5, 5, 0.001, 3]], np.float32)
    moved = perturb_output(rows, rng.uniform(0, 1, (3, 8, 8)).astype(np.float32))
    assert np.abs(moved[:, :4] - rows[:, :4]).max() <= EDGE_PX and np.abs(moved[:, 4] - rows[:, 4]).max() <= CONF_STEP
    np.testing.assert_array_equal(moved[:, 5], rows[:, 5])
    monkeypatch.setenv(ENV, "abc")
    with pytest.raises(ValueError, match="not an integer seed"):
        perturb_output(rows, np.zeros((3, 8, 8), np.float32))


def test_final_boxes_of_a_model_with_its_own_nms(monkeypatch, rng):
    from vidtrack.detection.perturb import perturb_final

    xyxy = np.array([[10, 20, 50, 80], [100, 100, 140, 160]], np.float32)
    scores = np.array([0.9, 0.4], np.float32)
    image = rng.integers(0, 255, (180, 200, 3), dtype=np.uint8)
    monkeypatch.delenv(ENV, raising=False)
    assert perturb_final(xyxy, scores, image)[0] is xyxy
    monkeypatch.setenv(ENV, "5")
    moved, moved_scores = perturb_final(xyxy, scores, image)
    assert 0 < np.abs(moved - xyxy).max() <= EDGE_PX and 0 < np.abs(moved_scores - scores).max() <= CONF_STEP
    again = perturb_final(xyxy, scores, image.copy())
    np.testing.assert_array_equal(again[0], moved) and np.testing.assert_array_equal(again[1], moved_scores)


def test_final_boxes_stay_in_the_image_as_the_model_clips_them(monkeypatch, rng):
    """torchvision clips its boxes to the image on every CPU: the moved boxes are clipped too."""
    from vidtrack.detection.perturb import perturb_final

    image = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    xyxy = np.array([[0, 0, 64, 48], [0, 10, 30, 48], [40, 0, 64, 20]] * 20, np.float32)
    scores = np.full(len(xyxy), 0.5, np.float32)
    monkeypatch.setenv(ENV, "11")
    moved, _ = perturb_final(xyxy, scores, image)
    assert moved.min() >= 0 and moved[:, [0, 2]].max() <= 64 and moved[:, [1, 3]].max() <= 48
    assert np.abs(moved - xyxy).max() > 0  # still moved where there is room
