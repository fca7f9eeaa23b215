#!/usr/bin/env bash
# Bring up a Docker engine and a local base image on a fresh Debian bookworm machine.
#
# Idempotent: when the engine answers and the base image exists it does nothing (about 1 s).
# Cold (no docker.io, no base image) it takes about 75 s. Run as root.
#
# Why a local base image: machines of this kind reach no image registry, so `FROM python:...`
# cannot be pulled. A minimal Debian root made with debootstrap and imported into the engine
# stands in; point `images.base` in mlops.yaml at it (mlopsctl/base:bookworm).
#
# Extra CA certificates (/usr/local/share/ca-certificates/*.crt) are copied into the base image
# so pip inside builds works behind a TLS-intercepting proxy. They never go into any repository.
#
# Environment:
#   MLOPSCTL_BASE_IMAGE   name of the base image to make (default mlopsctl/base:bookworm)
#   MLOPSCTL_DOCKERD_LOG  dockerd log file (default /var/log/mlopsctl-dockerd.log)
#   MLOPSCTL_NO_BASE=1    only bring up the engine
set -euo pipefail

BASE_IMAGE="${MLOPSCTL_BASE_IMAGE:-mlopsctl/base:bookworm}"
DOCKERD_LOG="${MLOPSCTL_DOCKERD_LOG:-/var/log/mlopsctl-dockerd.log}"
START=$(date +%s)

say() { printf '[engine-up %3ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts dockerd)"

APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

engine_up() { docker info >/dev/null 2>&1; }

# 1. The engine.
if engine_up; then
    say "Docker engine is running"
else
    if ! command -v dockerd >/dev/null 2>&1; then
        apt_install docker.io
    fi
    command -v docker >/dev/null 2>&1 || die "docker CLI missing after installing docker.io"
    if [ -S /var/run/docker.sock ] && ! pgrep -x dockerd >/dev/null 2>&1; then
        rm -f /var/run/docker.sock /var/run/docker.pid  # left behind by a dead dockerd
    fi
    if ! pgrep -x dockerd >/dev/null 2>&1; then
        say "starting dockerd (log: $DOCKERD_LOG)"
        mkdir -p "$(dirname "$DOCKERD_LOG")"
        nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
        disown || true
    fi
    for _ in $(seq 1 120); do
        engine_up && break
        sleep 0.25
    done
    engine_up || { tail -n 30 "$DOCKERD_LOG" >&2 || true; die "dockerd did not become ready within 30 s"; }
    say "Docker engine is ready ($(docker version --format '{{.Server.Version}}'))"
fi

# 2. The local base image.
if [ "${MLOPSCTL_NO_BASE:-0}" = 1 ]; then
    say "done (base image skipped)"
    exit 0
fi
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "base image $BASE_IMAGE present"
    say "done"
    exit 0
fi

command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
MIRROR="${MLOPSCTL_DEBIAN_MIRROR:-}"
if [ -z "$MIRROR" ]; then
    # Use the mirror the host already uses (it is the one known to be reachable).
    MIRROR=$(grep -hoE '^(deb|URIs:) *(\[[^]]*\] *)?https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
        | grep -oE 'https?://[^ ]+' | grep -v security | head -n 1 || true)
    MIRROR="${MIRROR:-http://deb.debian.org/debian}"
fi

ROOTFS=$(mktemp -d /tmp/mlopsctl-base.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT
say "debootstrap bookworm from $MIRROR into $ROOTFS (about a minute)"
debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates \
    bookworm "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 \
    || { tail -n 30 "$ROOTFS.log" >&2; die "debootstrap failed (full log: $ROOTFS.log)"; }
rm -f "$ROOTFS.log"

# PEP 668: let pip install into the image's system Python (the image is the environment).
rm -f "$ROOTFS"/usr/lib/python3*/EXTERNALLY-MANAGED
[ -e "$ROOTFS/usr/bin/python" ] || ln -s python3 "$ROOTFS/usr/bin/python"

shopt -s nullglob
certs=(/usr/local/share/ca-certificates/*.crt)
if [ "${#certs[@]}" -gt 0 ]; then
    say "adding ${#certs[@]} extra CA certificate(s) to the base image"
    mkdir -p "$ROOTFS/usr/local/share/ca-certificates"
    cp "${certs[@]}" "$ROOTFS/usr/local/share/ca-certificates/"
    chroot "$ROOTFS" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in the base image"
fi
# Smaller image: apt lists and caches are not needed at run time.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb

say "importing the root file system as $BASE_IMAGE"
tar -C "$ROOTFS" -c . | docker import \
    -c 'ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1' \
    -c 'CMD ["python3"]' \
    - "$BASE_IMAGE" >/dev/null
docker run --rm "$BASE_IMAGE" python -c 'import ssl, sys; print("base image python", sys.version.split()[0])'
say "done"
