"""YOLO pre/post-processing against hand-computed values and against Ultralytics' own code.

Synthetic, seeded data only. The cross-checks import ultralytics/torch (dev dependencies)
because "the same as Ultralytics" is the contract of this module.
"""

from __future__ import annotations

import numpy as np
import pytest

from vidtrack.detection.yolo_io import (
    MAX_WH,
    InputBuffer,
    Letterbox,
    decode_predictions,
    letterbox_image,
    nms,
    parse_export_info,
    plan_letterbox,
    scale_to_source,
)


# -- letterbox ---------------------------------------------------------------------------


def test_1080p_frame_becomes_a_640x384_input_with_minimal_rect() -> None:
    box = plan_letterbox((1080, 1920), (640, 640), stride=32, minimal_rect=True)
    assert box.input_hw == (384, 640)
    assert box.resized_wh == (640, 360)
    assert (box.top, box.left) == (12, 0)


def test_fixed_square_input_pads_to_the_full_target() -> None:
    box = plan_letterbox((1080, 1920), (640, 640), stride=32, minimal_rect=False)
    assert box.input_hw == (640, 640)
    assert box.resized_wh == (640, 360)
    assert (box.top, box.left) == (140, 0)


def test_odd_padding_puts_the_extra_pixel_at_the_bottom() -> None:
    box = plan_letterbox((100, 205), (64, 64), stride=32, minimal_rect=False)
    # r = 64/205, resized 64x31 -> 33 rows of padding: 16 above, 17 below
    assert box.resized_wh == (64, 31)
    assert box.top == 16
    assert box.input_hw[0] - box.resized_wh[1] - box.top == 17


def test_small_images_are_scaled_up_and_thin_ones_keep_a_pixel() -> None:
    assert plan_letterbox((100, 100), (640, 640)).resized_wh == (640, 640)
    thin = plan_letterbox((1, 3000), (640, 640), minimal_rect=True)
    assert thin.resized_wh == (640, 1)
    assert thin.input_hw[1] == 640 and thin.input_hw[0] % 32 == 0


@pytest.mark.parametrize("minimal_rect", [True, False])
def test_letterbox_matches_ultralytics(minimal_rect: bool, rng: np.random.Generator) -> None:
    from ultralytics.data.augment import LetterBox

    for _ in range(25):
        h, w = (int(v) for v in rng.integers(8, 1400, size=2))
        image = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        expected = LetterBox((640, 640), auto=minimal_rect, stride=32)(image=image)
        box = plan_letterbox((h, w), (640, 640), stride=32, minimal_rect=minimal_rect)
        assert box.input_hw == expected.shape[:2], (h, w)
        np.testing.assert_array_equal(letterbox_image(image, box), expected)
        blob = InputBuffer().fill(image, box)
        np.testing.assert_array_equal(blob[0], expected[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) / 255)


def test_input_buffer_reuses_its_arrays_and_repaints_padding(rng: np.random.Generator) -> None:
    buffer = InputBuffer()
    wide = rng.integers(0, 256, size=(360, 1000, 3), dtype=np.uint8)
    tall = rng.integers(0, 256, size=(1000, 700, 3), dtype=np.uint8)
    box_wide = plan_letterbox(wide.shape[:2], (640, 640))
    box_tall = plan_letterbox(tall.shape[:2], (640, 640))
    first = buffer.fill(wide, box_wide)
    again = buffer.fill(wide, box_wide)
    assert again is first  # same frame size: no new allocation
    # a different layout in the same input size must not leave the old image in the padding
    blob = buffer.fill(tall, box_tall)
    assert blob is first
    expected = letterbox_image(tall, box_tall)[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) / 255
    np.testing.assert_array_equal(blob[0], expected)


def test_input_buffer_rejects_non_bgr_images() -> None:
    with pytest.raises(ValueError, match="uint8"):
        InputBuffer().fill(np.zeros((10, 10), np.uint8), plan_letterbox((10, 10), (32, 32)))
    with pytest.raises(ValueError, match="uint8"):
        InputBuffer().fill(np.zeros((10, 10, 3), np.float32), plan_letterbox((10, 10), (32, 32)))


# -- scaling back -------------------------------------------------------------------------


def test_boxes_map_back_to_the_source_image_and_are_clipped() -> None:
    box = Letterbox(source_hw=(1080, 1920), input_hw=(384, 640), resized_wh=(640, 360), top=12, left=0)
    xyxy = np.array([[0, 12, 640, 372], [320, 192, 330, 202], [-5, 0, 700, 400]], np.float32)
    out = scale_to_source(xyxy, box)
    np.testing.assert_allclose(out[0], [0, 0, 1920, 1080], atol=1e-3)
    np.testing.assert_allclose(out[1], [960, 540, 990, 570], atol=1e-3)
    np.testing.assert_allclose(out[2], [0, 0, 1920, 1080], atol=1e-3)  # clipped


def test_scaling_matches_ultralytics(rng: np.random.Generator) -> None:
    from ultralytics.utils.ops import scale_boxes

    for _ in range(20):
        h, w = (int(v) for v in rng.integers(20, 2000, size=2))
        box = plan_letterbox((h, w), (640, 640), minimal_rect=True)
        xyxy = rng.uniform(-20, 660, size=(30, 4)).astype(np.float32)
        xyxy[:, 2:] = xyxy[:, :2] + rng.uniform(0, 200, size=(30, 2)).astype(np.float32)
        expected = scale_boxes(box.input_hw, xyxy.copy(), (h, w))
        np.testing.assert_allclose(scale_to_source(xyxy.copy(), box), expected, rtol=1e-6, atol=1e-3)


# -- NMS and decoding ---------------------------------------------------------------------


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10.5]], np.float32)
    scores = np.array([0.8, 0.9, 0.5, 0.3], np.float32)
    np.testing.assert_array_equal(nms(boxes, scores, 0.5), [1, 2])
    # above the threshold only: IoU of box 0 and 1 is 81/119 = 0.68 -> kept at 0.7
    np.testing.assert_array_equal(nms(boxes, scores, 0.7), [1, 0, 2])
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5).size == 0


def test_nms_matches_torchvision(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    for _ in range(20):
        xy = rng.uniform(0, 300, size=(200, 2))
        wh = rng.uniform(1, 120, size=(200, 2))
        boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
        scores = rng.random(200).astype(np.float32)
        expected = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.45).numpy()
        np.testing.assert_array_equal(nms(boxes, scores, 0.45), expected)


def _synthetic_prediction(rng: np.random.Generator, anchors: int = 2000, classes: int = 6) -> np.ndarray:
    """A (1, 4 + nc, N) raw output: clustered boxes so that NMS has work to do."""
    centres = rng.uniform(50, 590, size=(12, 2))
    pick = rng.integers(0, len(centres), size=anchors)
    xy = centres[pick] + rng.normal(0, 6, size=(anchors, 2))
    wh = rng.uniform(10, 120, size=(anchors, 2))
    scores = rng.random((anchors, classes)) ** 4  # mostly low, a few high
    return np.concatenate([xy, wh, scores], 1).T[None].astype(np.float32)


@pytest.mark.parametrize(
    ("conf", "iou", "classes", "max_det"),
    [(0.25, 0.7, None, 300), (0.001, 0.5, None, 300), (0.3, 0.45, [1, 4], 300), (0.1, 0.7, None, 7)],
)
def test_decode_matches_ultralytics_nms(conf, iou, classes, max_det, rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    from ultralytics.utils.nms import non_max_suppression

    for _ in range(5):
        prediction = _synthetic_prediction(rng)
        expected = non_max_suppression(
            torch.from_numpy(prediction), conf, iou, classes=classes, max_det=max_det
        )[0].numpy()
        xyxy, confidence, class_id = decode_predictions(prediction, conf, iou, classes, max_det)
        assert len(xyxy) == len(expected) > 0
        np.testing.assert_allclose(xyxy, expected[:, :4], rtol=1e-6, atol=1e-4)
        np.testing.assert_array_equal(confidence, expected[:, 4])
        np.testing.assert_array_equal(class_id, expected[:, 5].astype(int))


def test_decode_filters_by_confidence_strictly_and_by_class() -> None:
    # three anchors: (cx, cy, w, h, score class0, score class1)
    prediction = np.array(
        [[10, 10, 4, 4, 0.25, 0.1], [100, 100, 10, 10, 0.2, 0.9], [200, 200, 8, 8, 0.6, 0.7]], np.float32
    ).T
    xyxy, conf, cls = decode_predictions(prediction, 0.25, 0.7)
    np.testing.assert_array_equal(cls, [1, 1])  # the 0.25 box is not above 0.25
    np.testing.assert_allclose(conf, [0.9, 0.7])
    np.testing.assert_allclose(xyxy[0], [95, 95, 105, 105])
    xyxy, conf, cls = decode_predictions(prediction, 0.25, 0.7, class_ids=[0])
    assert len(cls) == 0  # best class decides: no anchor's best class is 0 above the threshold
    assert xyxy.shape == (0, 4) and xyxy.dtype == np.float32


def test_same_box_of_two_classes_survives_class_aware_nms() -> None:
    prediction = np.array([[50, 50, 20, 20, 0.9, 0.0], [50, 50, 20, 20, 0.0, 0.8]], np.float32).T
    _, _, cls = decode_predictions(prediction, 0.25, 0.5)
    np.testing.assert_array_equal(cls, [0, 1])
    assert MAX_WH > 640  # the offset must separate classes beyond any input size


def test_decode_end_to_end_rows_only_filters() -> None:
    rows = np.array([[[0, 0, 10, 10, 0.9, 3], [5, 5, 15, 15, 0.2, 1], [1, 1, 9, 9, 0.5, 1]]], np.float32)
    xyxy, conf, cls = decode_predictions(rows, 0.25, 0.7)
    np.testing.assert_array_equal(cls, [3, 1])  # overlapping boxes stay: the model did its NMS
    xyxy, conf, cls = decode_predictions(rows, 0.25, 0.7, class_ids=[1], max_det=1)
    np.testing.assert_array_equal(cls, [1])
    np.testing.assert_allclose(xyxy, [[1, 1, 9, 9]])


def test_decode_rejects_a_batch_of_several_images() -> None:
    with pytest.raises(ValueError, match="batch"):
        decode_predictions(np.zeros((2, 84, 10), np.float32), 0.25, 0.7)


# -- export metadata ------------------------------------------------------------------------


def test_export_info_from_yaml_values_and_from_onnx_strings() -> None:
    yaml_style = {"names": {0: "person", 1: "car"}, "imgsz": [640, 640], "stride": 32, "args": {"dynamic": True}}
    info = parse_export_info(yaml_style, "metadata.yaml")
    assert info.names == {0: "person", 1: "car"} and info.dynamic and not info.end2end
    onnx_style = {"names": "{0: 'person', 1: 'traffic light'}", "imgsz": "[320, 480]", "stride": "32",
                  "args": "{'batch': 1, 'nms': True}"}
    info = parse_export_info(onnx_style, "m.onnx")
    assert info.names[1] == "traffic light" and info.imgsz == (320, 480) and info.end2end and not info.dynamic
    with pytest.raises(ValueError, match="no class names"):
        parse_export_info({"imgsz": [640, 640]}, "m.onnx")
