#!/usr/bin/env bash
# Build atlas-server-cpu:latest with the engine at $DOCKER_HOST, without a container registry.
#
#     eval "$(scripts/container-engine.sh)" && scripts/build-images.sh
#
# 1. base image  atlas-base:bookworm: debootstrap --variant=minbase of Debian bookworm with
#                python3, python3-venv, libgomp1, imported as an image (skipped if it exists).
#                With a registry, set ATLAS_BASE_IMAGE=python:3.11-slim-bookworm to skip it.
# 2. wheelhouse  build/wheelhouse: the server's runtime wheels and the project's own wheel,
#                for CPython 3.11 on manylinux x86_64 (the base image's Python).
# 3. model       build/models/test-model.gguf (atlas-reference-server --fetch-model).
# 4. image       a small build context (build/image-context: pyproject.toml, atlas_reference,
#                atlas_models, docker/, the wheelhouse, the model, build/server if present), then
#                `docker build -f docker/Dockerfile.cpu`; skipped when the image's label
#                org.atlas.inputs already holds the digest of that context.
# Each step prints its time. Environment: ATLAS_BASE_IMAGE, ATLAS_IMAGE (atlas-server-cpu:latest),
# DEBIAN_MIRROR (default: the Debian archive this machine's apt uses), PYTHON (.venv/bin/python),
# ATLAS_REBUILD_BASE=1, ATLAS_REBUILD_IMAGE=1 (build even when nothing changed).
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
BASE_IMAGE=${ATLAS_BASE_IMAGE:-atlas-base:bookworm}
IMAGE=${ATLAS_IMAGE:-atlas-server-cpu:latest}
apt_mirror() {  # the first Debian archive in this machine's apt sources (deb822 or one-line)
    { awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' \
          /etc/apt/sources.list.d/*.sources 2>/dev/null
      awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' \
          /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
    } | grep -v -e '-security' -e 'security\.' | grep '/debian/*$' | head -1 | sed 's:/*$::' || true
}
MIRROR=${DEBIAN_MIRROR:-$(apt_mirror)}
BUILD=$ROOT/build
WHEELS=$BUILD/wheelhouse
CONTEXT=$BUILD/image-context
# The base image's Python (bookworm: 3.11) decides which wheels the wheelhouse holds.
PY_VERSION=${ATLAS_IMAGE_PYTHON:-3.11}

log() { echo "build-images: $*" >&2; }
die() { log "$*"; exit 1; }
timed() {  # timed LABEL COMMAND...: run, then print how long it took
    local label=$1 start=$SECONDS; shift
    "$@"
    log "$label took $((SECONDS - start)) s"
}
containers() { "$PYTHON" -c "import sys; from atlas_suite import containers as c; $1" "${@:2}"; }

[ -x "$PYTHON" ] || die "no $PYTHON: run \`make setup\` first"
[ -n "${DOCKER_HOST:-}" ] || [ -S /var/run/docker.sock ] \
    || die "no engine: run \`eval \"\$(scripts/container-engine.sh)\"\` first"
containers 'ok, why = c.engine_available(); print(why, file=sys.stderr); sys.exit(0 if ok else 1)' \
    || die "the container engine does not answer"

base_image() {
    if [ "${ATLAS_REBUILD_BASE:-0}" != 1 ] \
        && containers 'sys.exit(0 if c.image_exists(sys.argv[1]) else 1)' "$BASE_IMAGE"; then
        log "base image $BASE_IMAGE exists: kept"
        return
    fi
    [ "$BASE_IMAGE" = atlas-base:bookworm ] \
        || die "base image $BASE_IMAGE is missing; pull it, or unset ATLAS_BASE_IMAGE"
    command -v debootstrap >/dev/null || {
        log "installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            debootstrap >&2 || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends debootstrap >&2; }
    }
    [ -n "$MIRROR" ] || die "no Debian archive in /etc/apt: set DEBIAN_MIRROR=URL of one"
    local rootfs=$BUILD/rootfs
    rm -rf "$rootfs" "$BUILD/rootfs.tar"
    mkdir -p "$BUILD"
    log "debootstrap bookworm from $MIRROR (log: $BUILD/debootstrap.log)"
    debootstrap --variant=minbase --include=python3,python3-venv,libgomp1 \
        bookworm "$rootfs" "$MIRROR" >"$BUILD/debootstrap.log" 2>&1 \
        || { tail -20 "$BUILD/debootstrap.log" >&2; die "debootstrap failed"; }
    # What an image does not need: package caches, documentation, translations.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
        "$rootfs"/usr/share/locale/*
    printf 'deb %s bookworm main\n' "$MIRROR" > "$rootfs/etc/apt/sources.list"
    tar -C "$rootfs" --numeric-owner -cf "$BUILD/rootfs.tar" .
    containers 'from pathlib import Path; c.import_rootfs(Path(sys.argv[1]), sys.argv[2])' \
        "$BUILD/rootfs.tar" "$BASE_IMAGE"
    rm -rf "$rootfs" "$BUILD/rootfs.tar"
}

wheelhouse() {
    rm -rf "$WHEELS"
    mkdir -p "$WHEELS"
    # Binary wheels for the image's interpreter, whatever Python runs this script.
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
        --python-version "$PY_VERSION" --implementation cp --platform manylinux2014_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
        --platform manylinux_2_27_x86_64 --platform linux_x86_64 \
        -r docker/requirements-server.txt -d "$WHEELS"
    "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps . -w "$WHEELS" \
        >"$BUILD/project-wheel.log" 2>&1 \
        || { tail -30 "$BUILD/project-wheel.log" >&2; die "building the project's wheel failed"; }
    log "wheelhouse: $(find "$WHEELS" -name '*.whl' | wc -l) wheels, $(du -sh "$WHEELS" | cut -f1)"
}

model() {
    local source
    source=$("$ROOT/.venv/bin/atlas-reference-server" --fetch-model)
    mkdir -p "$BUILD/models"
    ln -f "$source" "$BUILD/models/test-model.gguf" 2>/dev/null \
        || cp "$source" "$BUILD/models/test-model.gguf"
}

context() {  # the Dockerfile's view of the repository, without .venv, .git, reports
    rm -rf "$CONTEXT"
    mkdir -p "$CONTEXT/build"
    cp -a pyproject.toml atlas_reference atlas_models docker "$CONTEXT/"
    [ -f README.md ] && cp README.md "$CONTEXT/"
    find "$CONTEXT" -name __pycache__ -prune -exec rm -rf {} +
    cp -al "$WHEELS" "$CONTEXT/build/wheelhouse"
    cp -al "$BUILD/models" "$CONTEXT/build/models"
    [ -d "$BUILD/server" ] && cp -a "$BUILD/server" "$CONTEXT/build/server"
    return 0
}

inputs_digest() {  # what the image is made of; the project's wheel differs on every build
    {
        echo "$BASE_IMAGE"
        (cd "$CONTEXT" && find . -type f ! -name 'atlas_acceptance-*.whl' ! -name '*.gguf' \
            -print0 | sort -z | xargs -0 sha256sum)
        stat -L -c '%s %Y' "$CONTEXT/build/models/test-model.gguf"
    } | sha256sum | cut -c1-32
}

image() {
    local digest
    digest=$(inputs_digest)
    if [ "${ATLAS_REBUILD_IMAGE:-0}" != 1 ] && [ "$(containers \
        'print(c.image_label(sys.argv[1], c.INPUTS_LABEL) or "")' "$IMAGE")" = "$digest" ]
    then
        log "image $IMAGE is up to date (inputs $digest): kept"
        return
    fi
    containers '
from pathlib import Path
for line in c.build_image(Path(sys.argv[1]), "docker/Dockerfile.cpu", sys.argv[2],
                          {"BASE_IMAGE": sys.argv[3]}, {c.INPUTS_LABEL: sys.argv[4]})[-5:]:
    print(line, file=sys.stderr)
print(f"removed {c.prune_old_builds()} images of earlier builds", file=sys.stderr)' \
        "$CONTEXT" "$IMAGE" "$BASE_IMAGE" "$digest"
}

total=$SECONDS
timed "base image ($BASE_IMAGE)" base_image
timed "wheelhouse" wheelhouse
timed "model" model
timed "build context" context
timed "image build ($IMAGE)" image
log "done in $((SECONDS - total)) s: $IMAGE"
