import pytest

from lab.generate import generate_world
from lab.world import WorldError, load_world, parse_world, save_world


def small_spec() -> dict:
    return generate_world(3, 1, 1, "ovs", "vxlan", seed=3).model_dump(mode="json")


def test_a_generated_world_round_trips_through_yaml(tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 2, "lxb", "vlan", seed=5)
    save_world(world, tmp_path / "world.yaml")
    assert load_world(tmp_path / "world.yaml") == world


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s["instances"][0].update(host="nowhere"), "instances: instance vm-1: unknown host 'nowhere'"),
    (lambda s: s["ports"][0].update(network_id="missing"), "unknown network_id 'missing'"),
    (lambda s: s["ports"][0].update(mac_address="FA:16:3E:00:00:01"), "ports.0.mac_address: not a lower-case MAC"),
    (lambda s: s["networks"][0].update(segmentation_id=None), "a vxlan network needs segmentation_id"),
    (lambda s: s["networks"][0]["subnets"][0].update(cidr="10.0.0.300/24"), "not a CIDR"),
    (lambda s: s.update(mechanism_driver="linuxbridge"), "mechanism_driver: Input should be"),
    (lambda s: s["hosts"][0].update(colour="blue"), "hosts.0.colour: Extra inputs are not permitted"),
    (lambda s: s["hosts"][1]["bonds"][0]["members"].append("eth9"), "bond bond0 member 'eth9' is not one of its NICs"),
    (lambda s: s["instances"].append(dict(s["instances"][0])), "duplicate instance"),
])
def test_an_inconsistent_spec_is_rejected_naming_the_field(change, message: str) -> None:  # type: ignore[no-untyped-def]
    spec = small_spec()
    change(spec)
    with pytest.raises(WorldError) as error:
        parse_world(spec, "hand.yaml")
    assert "hand.yaml is not a valid world spec" in str(error.value)
    assert message.split(": ", 1)[-1] in str(error.value)


def test_a_file_that_is_not_yaml_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.yaml"
    path.write_text("hosts: [unclosed\n")
    with pytest.raises(WorldError, match="broken.yaml is not valid YAML"):
        load_world(path)
