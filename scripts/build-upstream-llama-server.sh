#!/usr/bin/env bash
# Build upstream llama.cpp's llama-server from source, without a git remote: the llama-cpp-python
# sdist on PyPI carries llama.cpp's full source under vendor/llama.cpp.
#
#   scripts/build-upstream-llama-server.sh [BUILD_DIR]   # prints the binary's path
#
# GGML_NATIVE=OFF matters on machines whose CPU advertises AMX: a native build can die with
# SIGILL in sandboxes that do not allow those instructions.
set -euo pipefail
BUILD_DIR=${1:-build/upstream-llama}
PYTHON=${PYTHON:-python3}
mkdir -p "$BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
BINARY="$BUILD_DIR/src/vendor/llama.cpp/build/bin/llama-server"
if [ -x "$BINARY" ]; then echo "$BINARY"; exit 0; fi

command -v cmake >/dev/null || { echo "cmake is required (apt-get install cmake)" >&2; exit 1; }
if [ ! -d "$BUILD_DIR/src" ]; then
  "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: llama-cpp-python -d "$BUILD_DIR" >&2
  mkdir -p "$BUILD_DIR/src"
  tar -xzf "$BUILD_DIR"/llama_cpp_python-*.tar.gz -C "$BUILD_DIR/src" --strip-components=1
fi
cd "$BUILD_DIR/src/vendor/llama.cpp"
cmake -B build -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=OFF -DCMAKE_BUILD_TYPE=Release >&2
cmake --build build --target llama-server -j"$(nproc)" >&2
echo "$BINARY"
