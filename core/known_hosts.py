"""Known SSH host keys per environment: the `known_hosts` collection.

One document per (environment, host, key type) with the key (base64, as known_hosts writes it),
its SHA256 fingerprint and when it was first seen. `host` is the host's name as the scanner
knows it (the host object's id), or `address` / `[address]:port` for a jump host. The SSH
transport checks every host key against these under the environment's `cli.host_key_policy`;
`calipso env trust` and `env add --from-lab` record them, and trust-on-first-use adds new ones.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from core.stores import MongoDatabase

KNOWN_HOSTS = "known_hosts"

#: The host key types OpenSSH and paramiko agree on.
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")


def fingerprint(key: str) -> str:
    """OpenSSH's SHA256 fingerprint (`SHA256:...`) of a public key given as base64."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(base64.b64decode(key)).digest()).decode().rstrip("=")


def check_key(key_type: str, key: str) -> None:
    """ValueError unless `key` is base64 of a public key blob of type `key_type`."""
    if key_type not in KEY_TYPES:
        raise ValueError(f"unsupported host key type {key_type!r} (expected one of {', '.join(KEY_TYPES)})")
    try:
        blob = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the {key_type} host key is not base64") from None
    # The blob starts with its own type name (uint32 length + name), as in RFC 4253 §6.6.
    name_length = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if blob[4:4 + name_length].decode(errors="replace") != key_type:
        raise ValueError(f"the host key is not an {key_type} key")


class KnownHosts:
    """The known host keys of every environment."""

    def __init__(self, database: MongoDatabase) -> None:
        self.collection = database[KNOWN_HOSTS]

    def keys(self, environment: str) -> dict[str, dict[str, str]]:
        """Host -> key type -> base64, as SSHConfig.known_host_keys takes them."""
        found: dict[str, dict[str, str]] = {}
        for document in self.collection.find({"environment": environment}, {"host": 1, "key_type": 1, "key": 1}):
            found.setdefault(document["host"], {})[document["key_type"]] = document["key"]
        return found

    def list(self, environment: str) -> list[dict[str, Any]]:
        """Every known key of the environment, by host and key type (no MongoDB ids)."""
        return list(self.collection.find({"environment": environment}, {"_id": 0}).sort([("host", 1),
                                                                                           ("key_type", 1)]))

    def record(self, environment: str, host: str, key_type: str, key: str, *, replace: bool = True) -> str:
        """Store `host`'s key of `key_type`: "added", "unchanged" or "replaced" (an earlier key of
        that type). With `replace=False` (trust on first use) an existing key is never overwritten
        and the answer is "kept"."""
        check_key(key_type, key)
        selector = {"environment": environment, "host": host, "key_type": key_type}
        now = datetime.now(UTC)
        fields = {"key": key, "fingerprint": fingerprint(key)}
        if not replace:
            try:
                result = self.collection.update_one(selector, {"$setOnInsert": {**fields, "first_seen": now}},
                                                    upsert=True)
            except DuplicateKeyError:  # another scan recorded it at the same moment
                return "kept"
            return "added" if result.upserted_id is not None else "kept"
        before = self.collection.find_one_and_update(
            selector, {"$set": {**fields, "recorded_at": now}, "$setOnInsert": {"first_seen": now}}, upsert=True)
        if before is None:
            return "added"
        if before["key"] == key:
            return "unchanged"
        # A new key is first seen now.
        self.collection.update_one(selector, {"$set": {"first_seen": now}})
        return "replaced"

    def forget(self, environment: str, host: str | None = None) -> int:
        """Remove the environment's known keys (of one host); how many were removed."""
        selector = {"environment": environment} | ({"host": host} if host is not None else {})
        return self.collection.delete_many(selector).deleted_count
