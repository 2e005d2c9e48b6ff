from ingest.records import MESSAGES, Message, ScanRecords, excerpt, record_message


def test_scan_lifecycle_counts_errors_and_duration(mongo_db) -> None:  # type: ignore[no-untyped-def]
    scans = ScanRecords(mongo_db)
    scan_id = scans.create("env1")
    assert scans.get(scan_id)["status"] == "pending"
    scans.start(scan_id)
    scans.add_error(scan_id, "compute-2: ssh refused (password=hunter2)")
    done = scans.finish(scan_id, "completed_with_errors", {"instance": 4})
    assert done["status"] == "completed_with_errors" and done["counts"] == {"instance": 4}
    assert done["duration_s"] >= 0
    assert "hunter2" not in done["errors"][0]
    assert [s["_id"] for s in scans.list("env1")] == [scan_id]


def test_only_a_going_scan_can_be_aborted(mongo_db) -> None:  # type: ignore[no-untyped-def]
    scans = ScanRecords(mongo_db)
    going, finished = scans.create("e"), scans.create("e")
    scans.start(finished)
    scans.finish(finished, "completed", {})
    assert scans.request_abort(going) and scans.abort_requested(going)
    assert not scans.request_abort(finished)


def test_messages_are_stored_without_credentials(mongo_db) -> None:  # type: ignore[no-untyped-def]
    record_message(mongo_db, Message("env1", "Calipso", "error", "cannot parse output token=abc123",
                                     related_object="compute-1", details={"excerpt": excerpt("x" * 1000)}))
    stored = mongo_db[MESSAGES].find_one({"environment": "env1"})
    assert "abc123" not in stored["message"]
    assert len(stored["details"]["excerpt"]) <= 301
    assert stored["level"] == "error" and stored["viewed"] is False


def test_a_message_quoting_a_nul_character_is_stored(mongo_db) -> None:  # type: ignore[no-untyped-def]
    # FerretDB on PostgreSQL refuses a NUL in a string (jsonb); a garbage bus message starts with one.
    record_message(mongo_db, Message("env1", "Calipso", "error", "bad \x00 body",
                                     details={"excerpt": "\x00this is not a notification"}))
    stored = mongo_db[MESSAGES].find_one({"environment": "env1"})
    assert stored["message"] == "bad \ufffd body" and stored["details"]["excerpt"].startswith("\ufffdthis")
