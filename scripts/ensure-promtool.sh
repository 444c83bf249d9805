#!/usr/bin/env bash
# Makes sure `promtool` is on PATH: the alert-rule tests (test/integration-kit/observability.test.ts) run
# `promtool check rules` / `promtool test rules` on docs/alerts.yml and fail without it.
# promtool ships in Debian's `prometheus` package (Debian 12: 2.42). Installs it only when it is missing;
# needs root or sudo and apt-get (Debian/Ubuntu). The package's Prometheus server is not started.
# Used by .ci/run; developers: `bash scripts/ensure-promtool.sh`.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-promtool: promtool is missing and this is not a Debian/Ubuntu system (no apt-get);" >&2
  echo "ensure-promtool: install Prometheus's promtool (package 'prometheus' on most distributions) and put it on PATH" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "ensure-promtool: promtool is missing; run as root: apt-get update && apt-get install -y --no-install-recommends prometheus" >&2
    exit 1
  fi
fi

# Only promtool is wanted: keep the package's maintainer scripts from starting the server (invoke-rc.d and
# deb-systemd-invoke honour policy-rc.d; 101 = action forbidden). A policy already in place is left alone.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
fi

start=$(date +%s)
echo "ensure-promtool: installing the Debian package 'prometheus' (for promtool)"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# on a systemd host the package enables its server for the next boot: it was not wanted
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  "${SUDO[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
if ! command -v promtool >/dev/null 2>&1; then
  echo "ensure-promtool: 'prometheus' was installed but promtool is still not on PATH" >&2
  exit 1
fi
echo "ensure-promtool: $(promtool --version 2>&1 | head -n 1) installed in $(( $(date +%s) - start )) s"
