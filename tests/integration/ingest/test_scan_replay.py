"""`calipso scan replay`: a lab scan's kept outputs, re-parsed by today's code, give back the documents
the scan stored; an output changed after the fact shows as the documents it changes; retention and
the cap hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from bson.binary import Binary
from conftest import ServedLab

from ingest.recording import SCAN_OUTPUTS, ReplayError
from ingest.replay import replay_scan
from ingest.run import scan_environment

CALIPSO = str(Path(sys.executable).with_name("calipso"))


def replay_command(lab: ServedLab, db, scan_id: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([CALIPSO, "scan", "replay", scan_id, "--format", "json"],
                          env=lab.command_environment(db.name), capture_output=True, text=True, timeout=120)


def test_a_scan_replays_to_the_documents_it_stored_and_a_changed_output_shows_what_it_changes(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, env_name: str) -> None:
    environment = served_lab.enrol(mongo_db, env_name).decrypt(env_name)
    scan = scan_environment(mongo_db, environment)
    assert scan.status == "completed", scan.errors
    parts = {d["part"] for d in mongo_db[SCAN_OUTPUTS].find({"scan_id": scan.scan_id})}
    assert {"openstack", "_meta", "controller-1", "compute-1", "compute-2"} <= parts

    done = replay_command(served_lab, mongo_db, scan.scan_id)
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["identical"] and answer["differences"] == []
    assert answer["objects"] == sum(v for k, v in scan.counts.items() if k != "links")
    assert answer["links"] == scan.counts["links"]

    # As if the host had printed something else: compute-1's NIC eth1 with an MTU 100 smaller.
    doc = mongo_db[SCAN_OUTPUTS].find_one({"_id": f"{scan.scan_id}/compute-1"})
    commands = json.loads(zlib.decompress(doc["data"]))
    mtus = []
    for entry in commands:
        try:
            devices = json.loads(entry[2])
        except ValueError:
            continue
        for device in devices if isinstance(devices, list) else []:
            if isinstance(device, dict) and device.get("ifname") == "eth1" and "mtu" in device:
                mtus.append(device["mtu"])
                device["mtu"] -= 100
                entry[2] = json.dumps(devices)
    assert mtus, "no JSON `ip link` output of compute-1 names eth1"
    mongo_db[SCAN_OUTPUTS].update_one({"_id": doc["_id"]},
                                      {"$set": {"data": Binary(zlib.compress(json.dumps(commands).encode()))}})
    done = replay_command(served_lab, mongo_db, scan.scan_id)
    assert done.returncode == 1, done.stdout + done.stderr
    differences = json.loads(done.stdout)["differences"]
    assert {(d["kind"], d["key"], d["change"]) for d in differences} == {("object", "compute-1/eth1", "changed")}
    assert differences[0]["fields"]["mtu"] == [mtus[0], mtus[0] - 100]


def test_outputs_are_kept_for_the_last_scans_only_and_a_scan_over_the_cap_cannot_be_replayed(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, env_name: str) -> None:
    from core.environments import ScanOutputsSection

    environment = served_lab.enrol(mongo_db, env_name, scan_outputs=ScanOutputsSection(keep=1)).decrypt(env_name)
    first = scan_environment(mongo_db, environment)
    second = scan_environment(mongo_db, environment)
    assert mongo_db[SCAN_OUTPUTS].count_documents({"scan_id": first.scan_id}) == 0
    assert mongo_db[SCAN_OUTPUTS].count_documents({"scan_id": second.scan_id}) > 0
    with pytest.raises(ReplayError, match=first.scan_id):
        replay_scan(mongo_db, environment, first.scan_id)
    unknown = replay_command(served_lab, mongo_db, first.scan_id)
    assert unknown.returncode == 1 and "kept no outputs" in unknown.stderr and "Traceback" not in unknown.stderr

    # 1 MB is the smallest cap; a scan whose outputs do not fit is kept in part and refused for replay.
    mongo_db[SCAN_OUTPUTS].delete_many({})
    environment.scan_outputs = ScanOutputsSection(keep=2, max_mb=1)
    from ingest.recording import ScanRecorder
    from ingest.transport import CommandResult
    recorder = ScanRecorder()
    recorder.openstack = {"region": "RegionOne"}
    recorder.record_command("compute-1", "noise", CommandResult(0, os.urandom(1_200_000).hex(), ""))
    assert recorder.save(mongo_db, env_name, "capped-scan", None, keep=2, max_bytes=1024 * 1024) is False
    with pytest.raises(ReplayError, match="cut short"):
        replay_scan(mongo_db, environment, "capped-scan")
