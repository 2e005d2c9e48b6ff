import os
from pathlib import Path

import pytest

from lab.cloud.source import FileWorldSource, StaticWorldSource
from lab.generate import generate_world
from lab.world import WorldError, save_world


def test_static_source_returns_its_world() -> None:
    world = generate_world(2, 1, 1)
    assert StaticWorldSource(world)() is world


def test_file_source_returns_the_same_world_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    world = generate_world(2, 1, 1)
    save_world(world, path)
    source = FileWorldSource(path)
    first = source()
    assert source() is first
    world.instances[0].name = "renamed"
    save_world(world, path)
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse-grained file systems
    second = source()
    assert second is not first
    assert second.instances[0].name == "renamed"


def test_file_source_keeps_the_last_good_world_when_the_file_breaks(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    save_world(generate_world(2, 1, 1), path)
    source = FileWorldSource(path)
    good = source()
    path.write_text("hosts: [unclosed")
    assert source() is good
    path.unlink()
    assert source() is good


def test_file_source_raises_when_it_never_loaded(tmp_path: Path) -> None:
    with pytest.raises(WorldError):
        FileWorldSource(tmp_path / "missing.yaml")()
    (tmp_path / "bad.yaml").write_text("name: x\n")
    with pytest.raises(WorldError):
        FileWorldSource(tmp_path / "bad.yaml")()
