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


def test_every_declared_field_has_exactly_one_type() -> None:
    from graphmodel.schema import FIELD_TYPES, FIELD_TYPES_BY_KIND, LINK_FIELDS, LINK_TYPES, OBJECT_FIELDS, OBJECT_TYPES

    declared = {*OBJECT_FIELDS, *LINK_FIELDS, *(a for t in OBJECT_TYPES for a in t.attributes),
                *(a for t in LINK_TYPES for a in t.attributes)}
    assert sorted(declared - set(FIELD_TYPES)) == []  # a new attribute needs its type
    assert sorted(set(FIELD_TYPES) - declared) == []  # a type for nothing is a leftover
    assert sum(len(names) for names in FIELD_TYPES_BY_KIND.values()) == len(FIELD_TYPES)  # no name in two tables


def test_field_type_errors_names_the_field_its_value_and_the_declared_type() -> None:
    from datetime import UTC, datetime

    from graphmodel.schema import field_type_errors

    vf = {"id": "h/eth1/vf-0", "type": "vf", "name": "eth1 vf 0", "parent_id": "h/eth1/vfs", "parent_type": "folder",
          "vf_index": 0, "vlan": None, "spoofchk": True, "mac_address": "fa:16:3e:00:00:01",
          "status_since": datetime(2026, 12, 2, tzinfo=UTC)}
    assert field_type_errors(vf) == []  # None: not known
    assert field_type_errors({**vf, "vlan": "100"}) == ["vf: field 'vlan' is str ('100'), declared int"]
    assert field_type_errors({**vf, "vf_index": True}) == ["vf: field 'vf_index' is bool (True), declared int"]
    assert field_type_errors({**vf, "spoofchk": "on"}) == ["vf: field 'spoofchk' is str ('on'), declared bool"]
    assert field_type_errors({**vf, "status_since": "2026-12-02"}) == [
        "vf: field 'status_since' is str ('2026-12-02'), declared datetime"]
    host = {"id": "h", "type": "host", "name": "h", "parent_id": "az", "parent_type": "availability_zone",
            "host_type": ["Compute"], "services": []}
    assert field_type_errors(host) == []
    assert field_type_errors({**host, "host_type": ["Compute", 1]}) == [
        "host: field 'host_type' is list[int, str] (['Compute', 1]), declared list[str]"]
    assert field_type_errors({**host, "host_type": "Compute"}) == [
        "host: field 'host_type' is str ('Compute'), declared list[str]"]
    link = {"link_type": "vnic-vf", "source_id": "a", "target_id": "b", "state": "up", "provenance": "ip link",
            "vlan_tag": 100.0}
    assert field_type_errors(link) == ["vnic-vf: field 'vlan_tag' is float (100.0), declared int"]
