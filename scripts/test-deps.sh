#!/usr/bin/env bash
# Installs the services the tests need when they are missing: redis-server (distributed runs),
# openssl (a certificate for the rediss:// test) and chromium (the HTML report is checked in a
# real browser). `npm test` calls this first, so a
# fresh machine, CI, or a newcomer needs nothing by hand. Tests start and stop their own servers.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: missing ${missing[*]}; install them (Debian: apt-get install -y ${missing[*]}) and run again" >&2
  exit 1
fi
echo "test-deps: installing ${missing[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
