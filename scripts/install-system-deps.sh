#!/usr/bin/env bash
# Installs the Debian packages tailprobe's tests use: Go (pprof interop with net/http/pprof and
# `go tool pprof`), Chromium (the HTML report, tested in a real browser), nginx and wrk (the peers of
# the load-generator benchmarks), libfaketime (a service whose wall clock is off by a known amount,
# for explain's clock-offset test), chrony (a real NTP server on loopback for the shards' clock
# reference; the tests run chronyd -x, which never sets the clock). Idempotent: installs only what is missing.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
need=()
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || need+=(libfaketime)
[ -x /usr/sbin/chronyd ] || need+=(chrony)
if [ ${#need[@]} -eq 0 ]; then
  echo "install-system-deps: all present (go, chromium, nginx, wrk, libfaketime, chrony)"
  exit 0
fi
echo "install-system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
