#!/usr/bin/env bash
# Build upstream llama.cpp's llama-server from source, without a git remote: every
# llama-cpp-python sdist on PyPI carries the llama.cpp of its release date, full source under
# vendor/llama.cpp, so a pinned sdist version builds that era's llama-server.
#
#   scripts/build-upstream-llama-server.sh [--version X.Y.Z] [BUILD_DIR]   # prints the binary
#
# --version   the llama-cpp-python sdist to build from (default: the current pin below, or
#             $LLAMA_CPP_PYTHON_VERSION)
# BUILD_DIR   default $UPSTREAM_LLAMA_BUILD_ROOT/upstream-llama-<version> (the root defaults
#             to build/); a folder already holding another version's build is refused rather
#             than silently reused
#
# GGML_NATIVE=OFF matters on machines whose CPU advertises AMX: a native build can die with
# SIGILL in sandboxes that do not allow those instructions.
set -euo pipefail
CURRENT_PIN=0.3.36
VERSION=${LLAMA_CPP_PYTHON_VERSION:-$CURRENT_PIN}
BUILD_DIR=
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION=$2; shift 2 ;;
    --version=*) VERSION=${1#--version=}; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) BUILD_DIR=$1; shift ;;
  esac
done
BUILD_DIR=${BUILD_DIR:-${UPSTREAM_LLAMA_BUILD_ROOT:-build}/upstream-llama-$VERSION}
PYTHON=${PYTHON:-python3}
mkdir -p "$BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
BINARY="$BUILD_DIR/src/vendor/llama.cpp/build/bin/llama-server"
if [ -f "$BUILD_DIR/VERSION" ] && [ "$(cat "$BUILD_DIR/VERSION")" != "$VERSION" ]; then
  echo "$BUILD_DIR holds llama-cpp-python $(cat "$BUILD_DIR/VERSION"), not $VERSION:" \
       "pick another folder" >&2
  exit 1
fi
if [ -x "$BINARY" ]; then echo "$BINARY"; exit 0; fi

command -v cmake >/dev/null || { echo "cmake is required (apt-get install cmake)" >&2; exit 1; }
if [ ! -d "$BUILD_DIR/src/vendor/llama.cpp" ]; then
  rm -rf "$BUILD_DIR/src" "$BUILD_DIR"/llama_cpp_python-*.tar.gz
  # the sdist only: its build tools may come as wheels (building those from source is slow)
  "$PYTHON" -m pip download --quiet --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python==$VERSION" -d "$BUILD_DIR" >&2
  mkdir -p "$BUILD_DIR/src"
  tar -xzf "$BUILD_DIR/llama_cpp_python-$VERSION.tar.gz" -C "$BUILD_DIR/src" --strip-components=1
  echo "$VERSION" > "$BUILD_DIR/VERSION"
fi
cd "$BUILD_DIR/src/vendor/llama.cpp"
cmake -B build -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=OFF -DCMAKE_BUILD_TYPE=Release >&2
cmake --build build --target llama-server -j"$(nproc)" >&2
echo "$BINARY"
