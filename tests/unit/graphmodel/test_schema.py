"""The schema as the contract: what a scanned document may hold (every variant is checked in
tests/integration/ingest/sources/test_host_transform_vs_truth.py)."""


def test_undeclared_fields_names_what_a_document_holds_beyond_or_lacks_of_its_type() -> None:
    from graphmodel.schema import undeclared_fields

    vnic = {"id": "h/fa:16:3e:00:00:01", "type": "vnic", "name": "tap1", "parent_id": "vm", "parent_type": "instance",
            "host": "h", "mac_address": "fa:16:3e:00:00:01", "mtu": 1450}
    assert undeclared_fields(vnic) == []
    assert undeclared_fields({**vnic, "colour": "red"}) == ["vnic: undeclared field 'colour'"]
    assert undeclared_fields({k: v for k, v in vnic.items() if k != "parent_id"}) == ["vnic: missing field 'parent_id'"]
    assert undeclared_fields({**vnic, "type": "gizmo"}) == ["object type 'gizmo' is not declared"]
    link = {"link_type": "vnic-vedge", "source_id": "a", "target_id": "b", "state": "up", "provenance": "ovsdb",
            "network": "n", "vlan_tag": 3}
    assert undeclared_fields(link) == []
    assert undeclared_fields({**link, "segmentation_id": 5}) == ["vnic-vedge: undeclared field 'segmentation_id'"]
