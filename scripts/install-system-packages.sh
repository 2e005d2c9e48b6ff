#!/usr/bin/env bash
# Installs the Debian packages Calipso's local stack and lab use, if any are missing.
# Safe to run again: it does nothing when everything is installed.
set -euo pipefail

packages=(
  rabbitmq-server   # the message bus (AMQP) the listener consumes
  slapd ldap-utils  # OpenLDAP, for API logins
  openssh-client    # the ssh client the lab's SSH tests also drive
  # the real lab (lab/real/): namespaces, veths, bridges, VXLAN, taps, and Open vSwitch in userspace
  # (its own ovsdb-server and ovs-vswitchd per lab host; the system service is never started)
  iproute2 bridge-utils ethtool util-linux mount procps bash iputils-ping
  openvswitch-common openvswitch-switch
  collectd-core     # real collectd in a real lab host (interface, connectivity, ovs_events, write_http to the intake)
  libyajl2 libmnl0 libcurl3-gnutls liboping0  # the libraries of those plugins and ping (collectd-core only suggests them)
  chromium          # headless Chromium prints the HTML reports to PDF (calipso report ... -o x.pdf)
  poppler-utils     # pdftotext/pdftoppm: the report tests read the PDFs back
  postgresql-15     # FerretDB's storage, the default backend (CALIPSO_FERRETDB_BACKEND=postgresql; the stack runs its own cluster)
)
# The web UI is built by npm (ui/); the UI tests drive the chromium above through Playwright.
# Debian's node and npm only where none is installed (a NodeSource nodejs already holds npm).
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo "$0" "$@"; fi
  echo "Calipso needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
# Keep the packages' own services from starting: Calipso runs its own instances on loopback,
# and a system RabbitMQ would take port 5672.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=yes
fi
trap '[ -n "$created_policy" ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
