#!/usr/bin/env bash
# Make sure a Docker engine answers: install docker.io and start dockerd when it does not.
# Idempotent: does nothing when `docker info` already answers.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io (about a minute)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y docker.io >/tmp/codegen-apt-docker.log 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get install -y docker.io >/tmp/codegen-apt-docker.log 2>&1; } \
    || { echo "ensure-docker: apt-get install docker.io failed, see /tmp/codegen-apt-docker.log" >&2; exit 3; }
fi
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
