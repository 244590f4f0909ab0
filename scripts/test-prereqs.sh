#!/usr/bin/env bash
# Debian packages the test suite needs, installed when missing (as root; otherwise it prints
# the command to run). Used by `npm test` and by .ci/run, so a fresh machine needs nothing else.
#   dbus, dbus-user-session  a private session bus for the keychain tests
#   gnome-keyring            the Secret Service those tests talk to
#   libsecret-tools          secret-tool, reads keychain entries back independently
#   keyutils                 keyctl, reads kernel-keyring entries back independently
#   chromium                 the real browser for the SSO tests (driven by playwright-core)
#   ca-certificates, curl    TLS roots; curl for manual checks against the sandbox
set -euo pipefail
PACKAGES=(dbus dbus-user-session gnome-keyring libsecret-tools keyutils chromium ca-certificates curl)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "test-prereqs: not a Debian-based system; make sure these are installed: ${PACKAGES[*]}" >&2
  exit 0
fi
missing=()
for pkg in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$pkg")
  fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "test-prereqs: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "test-prereqs: installing Debian packages with sudo: ${missing[*]}"
  sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "test-prereqs: the tests need these Debian packages: ${missing[*]}" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
