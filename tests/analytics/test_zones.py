"""Zones on synthetic tracks: concave shapes, entry inertia, exit grace, dwell from timestamps, loiter."""

from __future__ import annotations

import pytest

from vidtrack.analytics import Polygon, Scene, ZoneConfig
from vidtrack.errors import OptionError

from scenes import Script, Walker, straight, times

# A U-shaped (concave) zone: two arms 100..200 and 400..500 wide, joined at the bottom (y 400..450).
U = Polygon([(100, 100), (200, 100), (200, 400), (400, 400), (400, 100), (500, 100), (500, 450), (100, 450)])


def visits(events, kind):
    return [e for e in events if e.type == kind]


def test_concave_zone_entry_exit_and_exact_dwell():
    # Walks down the notch between the arms (outside the U, inside its convex hull)...
    notch = straight(1, (300, 120), (300, 380), range(0, 27))
    # ...and another walks down the left arm from outside (y 50) to y 300 and out again to the left.
    path = {f: (145.0, 55.0 + 10 * f) for f in range(0, 26)}  # y 55..305; inside from y=105 (f=5)
    path.update({f: (145.0 - 10 * (f - 25), 305.0) for f in range(26, 40)})  # x 135..5: last inside x=105 (f=29)
    arm = Walker({f: 2 for f in range(40)}, path)
    scene = Scene(zones=[("U", U, None)], zone_config=ZoneConfig(entry_frames=3, exit_grace_s=1.0))
    events = Script([notch, arm], times(60)).run(scene)
    zone = scene.zones[0]
    assert [e.track_id for e in visits(events, "enter")] == [2]
    exit_ = visits(events, "exit")
    assert len(exit_) == 1 and exit_[0].track_id == 2
    # Inside from frame 5 to frame 29: 2.4 s between the two frames' timestamps.
    assert exit_[0].dwell_s == pytest.approx(2.4)
    # The exit is decided once more than 1 s has passed since the last observation inside (2.9 s -> 4.0 s).
    assert exit_[0].frame == 40
    assert zone.summary()["visits"] == 1 and zone.summary()["entries"] == 1
    assert zone.occupancy == {}


def test_occupancy_counts_objects_inside_now():
    a = straight(1, (150, 200), (150, 210), range(0, 10))
    b = straight(2, (450, 200), (450, 210), range(0, 10))
    c = straight(3, (300, 200), (300, 210), range(0, 10))  # in the notch
    scene = Scene(zones=[("U", U, None)])
    Script([a, b, c], times(10)).run(ScenePeek(scene))
    assert ScenePeek.seen == {"person": 2}


class ScenePeek:
    """A Scene wrapper recording the occupancy after the last frame (before finish closes visits)."""

    seen: dict = {}

    def __init__(self, scene: Scene) -> None:
        self.scene = scene

    def update_observations(self, obs):
        events = self.scene.update_observations(obs)
        ScenePeek.seen = self.scene.zones[0].occupancy
        return events

    def finish(self):
        return self.scene.finish()


def test_one_jumping_box_is_not_an_entry():
    path = {f: (300.0, 300.0) for f in range(20)}  # in the notch: outside
    path[7] = (150.0, 300.0)  # one frame inside the left arm
    path[8] = (150.0, 300.0)  # two frames: still short of entry_frames=3
    scene = Scene(zones=[("U", U, None)], zone_config=ZoneConfig(entry_frames=3))
    events = Script([Walker({f: 1 for f in range(20)}, path)], times(20)).run(scene)
    assert events == []


def test_short_occlusion_inside_is_not_an_exit():
    path = {f: (150.0, 200.0 + f) for f in range(40)}
    ids = {f: 1 for f in range(40) if not 15 <= f < 22}  # unseen for 0.7 s < 1.0 s grace
    scene = Scene(zones=[("U", U, None)], zone_config=ZoneConfig(entry_frames=1, exit_grace_s=1.0))
    events = Script([Walker(ids, path)], times(40)).run(scene)
    assert [e.type for e in events] == ["enter", "exit"]  # the exit is the end of the stream
    assert events[-1].dwell_s == pytest.approx(3.9)
    # A longer vanishing inside (1.5 s: detector flicker) is still one visit (issue 24):
    # a visitor never seen leaving keeps the visit for VANISHED_GRACE_S.
    ids = {f: 1 for f in range(40) if not 15 <= f < 30}
    scene = Scene(zones=[("U", U, None)], zone_config=ZoneConfig(entry_frames=1, exit_grace_s=1.0))
    events = Script([Walker(ids, path)], times(40)).run(scene)
    assert [e.type for e in events] == ["enter", "exit"]
    # Longer than that (3.5 s unseen) it is an exit and a new visit.
    path = {f: (150.0, 200.0 + f) for f in range(60)}
    ids = {f: 1 for f in range(60) if not 15 <= f < 50}
    scene = Scene(zones=[("U", U, None)], zone_config=ZoneConfig(entry_frames=1, exit_grace_s=1.0))
    events = Script([Walker(ids, path)], times(60)).run(scene)
    assert [e.type for e in events] == ["enter", "exit", "enter", "exit"]
    assert [e.dwell_s for e in visits(events, "exit")] == pytest.approx([1.4, 0.9])


def test_id_switch_inside_a_zone_is_one_visit():
    path = {f: (150.0, 200.0 + 2 * f) for f in range(40)}
    ids = {f: (1 if f < 20 else 2) for f in range(40) if f not in (20, 21, 22)}
    scene = Scene(zones=[("U", U, None)], zone_config=ZoneConfig(entry_frames=2))
    events = Script([Walker(ids, path)], times(40)).run(scene)
    assert [(e.type, e.track_id) for e in events] == [("enter", 1), ("exit", 2)]
    assert events[-1].dwell_s == pytest.approx(3.9)


def test_dwell_uses_presentation_times_of_a_variable_frame_rate():
    stamps = [0.0, 0.04, 0.1, 0.5, 0.52, 1.7, 1.75, 3.0, 3.01, 3.2]
    walker = Walker({f: 1 for f in range(10)}, {f: (150.0, 300.0) for f in range(10)})
    scene = Scene(zones=[("U", U, None)], zone_config=ZoneConfig(entry_frames=2, exit_grace_s=5.0))
    events = Script([walker], stamps).run(scene)
    enter, exit_ = events
    assert (enter.type, enter.t, enter.frame) == ("enter", 0.04, 1)  # decided at the 2nd frame inside
    assert exit_.dwell_s == pytest.approx(3.2)


def test_loiter_fires_once_per_visit():
    walker = Walker({f: 1 for f in range(100)}, {f: (150.0, 300.0) for f in range(100)})
    scene = Scene(zones=[("U", U, 2.5)], zone_config=ZoneConfig(entry_frames=1))
    events = Script([walker], times(100)).run(scene)
    loiter = visits(events, "loiter")
    assert len(loiter) == 1 and loiter[0].dwell_s == pytest.approx(2.5) and loiter[0].frame == 25


@pytest.mark.parametrize(
    "points, message",
    [
        ([(0, 0), (10, 0)], "fewer than 3"),
        ([(0, 0), (10, 0), (20, 0)], "no area"),
        ([(0, 0), (10, 10), (10, 0), (0, 10)], "self-intersecting"),
    ],
)
def test_bad_polygons_are_errors(points, message):
    with pytest.raises(OptionError, match=message):
        Polygon(points)


def test_concave_containment_is_not_the_convex_hull():
    inside = U.contains([[150, 300], [450, 300], [300, 420], [300, 300], [50, 300]]).tolist()
    assert inside == [True, True, True, False, False]
