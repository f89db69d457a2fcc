#!/usr/bin/env bash
# Give the suite a container engine with a Docker-compatible API, and print how to reach it:
#
#     eval "$(scripts/container-engine.sh)"      # sets DOCKER_HOST
#
# 1. $DOCKER_HOST answers /_ping: use it.  2. /var/run/docker.sock answers: use it.
# 3. Otherwise (this workplace, CI): install Debian's podman and runc, configure podman for a
#    sandbox without systemd (runc, no default ulimits), start `podman system service` on a
#    private socket, wait until it answers, and print `export DOCKER_HOST=unix:///...`.
# Idempotent: a second run finds the service answering and only prints the line.
# Progress goes to stderr; stdout carries the export line only.
#
# Environment: ATLAS_PODMAN_SOCKET (default /run/atlas-podman/podman.sock),
#              ATLAS_ENGINE_TIMEOUT (seconds to wait for the socket, default 60).
set -euo pipefail

SOCKET=${ATLAS_PODMAN_SOCKET:-/run/atlas-podman/podman.sock}
TIMEOUT=${ATLAS_ENGINE_TIMEOUT:-60}
CONF=/etc/containers/containers.conf
MARK="# written by atlas scripts/container-engine.sh"

log() { echo "container-engine: $*" >&2; }
die() { log "$*"; exit 1; }

# ping URL -> 0 when the Docker-compatible API at URL answers GET /_ping with 200.
ping_engine() {
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
from urllib.parse import urlparse
url = urlparse(sys.argv[1])
if url.scheme == "unix":
    sock = socket.socket(socket.AF_UNIX)
    address = url.path
elif url.scheme in ("tcp", "http"):
    sock = socket.socket(socket.AF_INET)
    address = (url.hostname, url.port or 2375)
else:
    sys.exit(2)  # https/ssh: cannot tell without the client's TLS setup; trust DOCKER_HOST
sock.settimeout(3)
sock.connect(address)
sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: engine\r\n\r\n")
status = sock.recv(64).split(b"\r\n", 1)[0]
sys.exit(0 if b" 200" in status else 1)
EOF
}

use() { log "using $1"; echo "export DOCKER_HOST=$1"; exit 0; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
    else die "need root to install and run podman (run as root, or give a DOCKER_HOST)"; fi
}

if [ -n "${DOCKER_HOST:-}" ]; then
    rc=0; ping_engine "$DOCKER_HOST" || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 2 ] && use "$DOCKER_HOST"
    log "DOCKER_HOST=$DOCKER_HOST does not answer; looking further"
fi
ping_engine unix:///var/run/docker.sock && use unix:///var/run/docker.sock
ping_engine "unix://$SOCKET" && use "unix://$SOCKET"

# ---- podman ------------------------------------------------------------------------------
# iptables and containernetworking-plugins come with podman: rootful podman's CNI bridge
# publishes ports on 127.0.0.1 with them (no slirp4netns/pasta needed as root). uidmap,
# fuse-overlayfs, slirp4netns only matter rootless, which this script does not do.
PACKAGES=(podman runc)
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
    log "installing ${PACKAGES[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_log=$(mktemp)
    apt_install() {
        as_root apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >>"$apt_log" 2>&1
    }
    if ! apt_install; then  # a fresh machine's package lists may be missing or stale
        as_root apt-get update -q >>"$apt_log" 2>&1 || true
        apt_install || { tail -30 "$apt_log" >&2; die "could not install ${PACKAGES[*]}"; }
    fi
    rm -f "$apt_log"
fi

# The sandbox has no systemd and refuses raising RLIMIT_NOFILE (podman's default ulimits);
# the notes saw runc work in this sandbox. Keep an existing foreign configuration, run ours beside it.
desired="$MARK
[containers]
default_ulimits = []

[engine]
runtime = \"runc\""
service_env=()
if [ ! -e "$CONF" ] || head -1 "$CONF" | grep -qF "$MARK"; then
    if [ "$(cat "$CONF" 2>/dev/null)" != "$desired" ]; then
        log "writing $CONF"
        as_root mkdir -p "$(dirname "$CONF")"
        printf '%s\n' "$desired" | as_root tee "$CONF" >/dev/null
    fi
else
    log "$CONF exists and is not ours: the service uses /etc/containers/atlas-containers.conf"
    printf '%s\n' "$desired" | as_root tee /etc/containers/atlas-containers.conf >/dev/null
    service_env=(env CONTAINERS_CONF=/etc/containers/atlas-containers.conf)
fi

as_root mkdir -p "$(dirname "$SOCKET")"
as_root rm -f "$SOCKET"
log "starting podman system service on unix://$SOCKET (log: ${SOCKET%.sock}.log)"
as_root setsid "${service_env[@]}" podman system service --time=0 "unix://$SOCKET" \
    </dev/null >"${SOCKET%.sock}.log" 2>&1 &
echo $! > "${SOCKET%.sock}.pid"

deadline=$(( $(date +%s) + TIMEOUT ))
until ping_engine "unix://$SOCKET"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        tail -20 "${SOCKET%.sock}.log" >&2 || true
        die "podman service did not answer on unix://$SOCKET within ${TIMEOUT}s"
    fi
    sleep 0.2
done
use "unix://$SOCKET"
