"""OpenLDAP slapd from Debian's package, on loopback, seeded with a small directory of users and groups."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from stack.process import port_open, run_checked
from stack.server import LocalServer, Tool

SCHEMAS = ("core", "cosine", "inetorgperson", "nis")


@dataclass(frozen=True)
class DirectoryUser:
    uid: str
    name: str
    password: str
    groups: tuple[str, ...]


#: The local directory's people. Demo credentials for a loopback-only server, never production.
SEED_USERS = (
    DirectoryUser("admin", "Calipso Administrator", "admin-pw", ("calipso-admins", "calipso-users")),
    DirectoryUser("alice", "Alice Analyst", "alice-pw", ("calipso-users",)),
    DirectoryUser("bob", "Bob Troubleshooter", "bob-pw", ("calipso-users",)),
)


def ssha(password: str) -> str:
    """An LDAP {SSHA} password hash (salted SHA-1, the scheme slapd checks by default)."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def seed_ldif(base_dn: str, users: tuple[DirectoryUser, ...] = SEED_USERS) -> str:
    """The LDIF that seeds an empty directory: the base entry, people, and groups of names."""
    dc = base_dn.split(",")[0].split("=", 1)[1]
    entries = [
        f"dn: {base_dn}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\n"
        f"o: Calipso\ndc: {dc}\n",
        f"dn: ou=people,{base_dn}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: ou=groups,{base_dn}\nobjectClass: organizationalUnit\nou: groups\n",
    ]
    for user in users:
        surname = user.name.split()[-1]
        entries.append(
            f"dn: uid={user.uid},ou=people,{base_dn}\nobjectClass: inetOrgPerson\nuid: {user.uid}\n"
            f"cn: {user.name}\nsn: {surname}\nmail: {user.uid}@calipso.test\n"
            f"userPassword: {ssha(user.password)}\n")
    for group in sorted({g for user in users for g in user.groups}):
        members = "".join(f"member: uid={u.uid},ou=people,{base_dn}\n" for u in users if group in u.groups)
        entries.append(f"dn: cn={group},ou=groups,{base_dn}\nobjectClass: groupOfNames\ncn: {group}\n{members}")
    return "\n".join(entries)


class SlapdServer(LocalServer):
    name = "slapd"
    tools = (Tool("slapd", "apt-get install slapd ldap-utils (run `make bootstrap`)"),
             Tool("slapadd", "apt-get install slapd"))

    def host(self) -> str:
        return self.settings.ldap_address[0]

    def ports(self) -> dict[str, int]:
        return {"ldap": self.settings.ldap_address[1]}

    @property
    def config_file(self):
        return self.data_dir / "slapd.conf"

    def prepare(self) -> None:
        settings = self.settings
        db_dir = self.data_dir / "db"
        db_dir.mkdir(parents=True, exist_ok=True)
        includes = "".join(f"include /etc/ldap/schema/{schema}.schema\n" for schema in SCHEMAS)
        self.config_file.write_text(
            f"{includes}modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
            f"pidfile {self.data_dir / 'slapd.pid'}\n"
            "database mdb\nmaxsize 104857600\n"
            f'suffix "{settings.ldap_base_dn}"\nrootdn "{settings.ldap_bind_dn}"\n'
            f"rootpw {ssha(settings.ldap_bind_password.get_secret_value())}\n"
            f"directory {db_dir}\n"
            "access to attrs=userPassword by anonymous auth by self write by * none\n"
            "access to * by * read\n")
        self.config_file.chmod(0o600)
        seeded = self.data_dir / "seeded"
        if not seeded.exists():
            ldif = self.data_dir / "seed.ldif"
            ldif.write_text(seed_ldif(settings.ldap_base_dn))
            run_checked(["slapadd", "-f", str(self.config_file), "-l", str(ldif)], "seeding the LDAP directory")
            seeded.touch()
        run_checked(["slaptest", "-u", "-f", str(self.config_file)], "checking the slapd configuration")

    def command(self) -> tuple[list[str], dict[str, str]]:
        host, port = self.settings.ldap_address
        # -d keeps slapd in the foreground, so our PID file and process group are its own.
        return ["slapd", "-f", str(self.config_file), "-h", f"ldap://{host}:{port}/", "-d", "0"], {}

    def is_ready(self) -> bool:
        return port_open(*self.settings.ldap_address)
