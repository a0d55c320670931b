#!/usr/bin/env bash
# Make sure a Docker engine answers: install docker.io (and debootstrap, for registry-free
# images) and start dockerd when it does not.
# Idempotent: installs only what is missing, starts dockerd only when `docker info` fails.
set -euo pipefail
need=""
command -v debootstrap >/dev/null 2>&1 || need="$need debootstrap"
command -v dockerd >/dev/null 2>&1 || need="$need docker.io"
if [ -n "$need" ]; then
  echo "ensure-docker: installing$need (about a minute)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  apt-get install -y $need >/tmp/codegen-apt.log 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get install -y $need >/tmp/codegen-apt.log 2>&1; } \
    || { echo "ensure-docker: apt-get install$need failed, see /tmp/codegen-apt.log" >&2; exit 3; }
fi
if docker info >/dev/null 2>&1; then exit 0; fi
if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd (log: /var/log/dockerd.log)" >&2
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 0.5
done
echo "ensure-docker: dockerd did not answer within 30 s, see /var/log/dockerd.log" >&2
exit 3
