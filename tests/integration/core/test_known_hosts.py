"""The known host keys store on the test MongoDB: record, replace, keep on first use, forget."""

from __future__ import annotations

import pytest

from core.known_hosts import KnownHosts, fingerprint
from lab.ssh_server import generate_host_key
from migrations import runner


def key() -> str:
    return generate_host_key().get_base64()


def test_record_replace_keep_and_forget(mongo_db) -> None:  # type: ignore[no-untyped-def]
    runner.apply_mongo(mongo_db)  # the unique index on (environment, host, key type)
    store = KnownHosts(mongo_db)
    first, second = key(), key()
    assert store.record("a", "compute-1", "ssh-ed25519", first) == "added"
    assert store.record("a", "compute-1", "ssh-ed25519", first) == "unchanged"
    # Trust on first use never overwrites a known key.
    assert store.record("a", "compute-1", "ssh-ed25519", second, replace=False) == "kept"
    assert store.keys("a") == {"compute-1": {"ssh-ed25519": first}}
    assert store.record("a", "compute-1", "ssh-ed25519", second) == "replaced"
    assert store.record("a", "compute-2", "ssh-ed25519", first, replace=False) == "added"
    assert store.record("b", "compute-1", "ssh-ed25519", first) == "added"  # another environment
    assert store.keys("a") == {"compute-1": {"ssh-ed25519": second}, "compute-2": {"ssh-ed25519": first}}
    rows = store.list("a")
    assert [(r["host"], r["fingerprint"]) for r in rows] == [("compute-1", fingerprint(second)),
                                                             ("compute-2", fingerprint(first))]
    assert all(r["first_seen"] is not None for r in rows)
    assert mongo_db["known_hosts"].count_documents({"environment": "a"}) == 2
    assert store.forget("a", "compute-2") == 1 and store.forget("a") == 1
    assert store.keys("a") == {} and store.keys("b") == {"compute-1": {"ssh-ed25519": first}}


def test_a_malformed_key_is_refused(mongo_db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="not an ecdsa-sha2-nistp256 key"):
        KnownHosts(mongo_db).record("a", "compute-1", "ecdsa-sha2-nistp256", key())
    assert KnownHosts(mongo_db).keys("a") == {}
