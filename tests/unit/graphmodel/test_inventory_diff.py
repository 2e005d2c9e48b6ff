from graphmodel.inventory import content, diff_documents, link_key, object_key


def test_bookkeeping_fields_are_not_content() -> None:
    doc = {"_id": 1, "environment": "e", "id": "x", "name": "a", "last_seen": 1, "first_seen": 0, "scan_id": "s"}
    assert content(doc) == {"id": "x", "name": "a"}


def test_diff_splits_new_changed_and_unchanged() -> None:
    stored = {"a": {"id": "a", "name": "one", "last_seen": 1}, "b": {"id": "b", "name": "two", "scan_id": "s1"}}
    incoming = [{"id": "a", "name": "one"}, {"id": "b", "name": "TWO"}, {"id": "c", "name": "three"}]
    diff = diff_documents(stored, incoming, object_key)
    assert [d["id"] for d in diff.new] == ["c"]
    assert [(old["name"], new["name"]) for old, new in diff.changed] == [("two", "TWO")]
    assert [d["id"] for d in diff.unchanged] == ["a"]


def test_a_removed_attribute_is_a_change() -> None:
    stored = {"a": {"id": "a", "name": "one", "mtu": 1500}}
    diff = diff_documents(stored, [{"id": "a", "name": "one"}], object_key)
    assert len(diff.changed) == 1


def test_link_key_is_type_source_target() -> None:
    assert link_key({"link_type": "instance-vnic", "source_id": "i", "target_id": "v"}) == "instance-vnic|i|v"


def test_a_rescan_keeps_the_monitoring_status() -> None:
    from graphmodel.inventory import keep_monitoring_status

    stored = {"id": "h/eth0", "mtu": 1500, "status": "critical", "status_text": "eth0 has no carrier",
              "status_since": "2026-12-02T10:00:00Z"}
    rescanned = {"id": "h/eth0", "mtu": 9000}
    assert keep_monitoring_status(rescanned, stored) == {**rescanned, "status": "critical",
                                                         "status_text": "eth0 has no carrier",
                                                         "status_since": "2026-12-02T10:00:00Z"}
    port = {"id": "p1", "status": "DOWN"}  # a Neutron port's own status, not monitoring's
    assert keep_monitoring_status(port, {"id": "p1", "status": "ACTIVE"}) == port
    assert keep_monitoring_status(rescanned, None) == rescanned
    newer = {**rescanned, "status": "ok", "status_text": "ok", "status_since": "2026-12-02T11:00:00Z"}
    assert keep_monitoring_status(newer, stored) == newer
