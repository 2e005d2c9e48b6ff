import base64
import hashlib

from stack.servers.slapd import SEED_USERS, seed_ldif, ssha


def check_ssha(hashed: str, password: str) -> bool:
    raw = base64.b64decode(hashed.removeprefix("{SSHA}"))
    digest, salt = raw[:20], raw[20:]
    return hashlib.sha1(password.encode() + salt).digest() == digest


def test_ssha_verifies_the_right_password_only() -> None:
    hashed = ssha("alice-pw")
    assert hashed.startswith("{SSHA}")
    assert check_ssha(hashed, "alice-pw")
    assert not check_ssha(hashed, "alice-pW")


def test_ssha_is_salted() -> None:
    assert ssha("same") != ssha("same")


def test_seed_has_every_user_and_group_membership() -> None:
    ldif = seed_ldif("dc=example,dc=org")
    entries = [entry for entry in ldif.split("\n\n") if entry.strip()]
    dns = [entry.splitlines()[0] for entry in entries]
    assert dns[0] == "dn: dc=example,dc=org"
    for user in SEED_USERS:
        assert f"dn: uid={user.uid},ou=people,dc=example,dc=org" in dns
        assert user.password not in ldif  # only hashes are stored
    admins = next(entry for entry in entries if entry.startswith("dn: cn=calipso-admins,"))
    assert "member: uid=admin,ou=people,dc=example,dc=org" in admins
    assert "uid=alice" not in admins
