#!/bin/sh
# Entrypoint of the ATLAS server images. It takes llama-server style arguments:
#
#     docker run IMAGE -m /models/test-model.gguf --atlas --port 8080 [options]
#
# and runs $ATLAS_SERVER_CMD (the reference server unless the image was built with another
# SERVER_CMD) with them, adding `--host 0.0.0.0` and `--atlas-memory-dir /atlas-memory` unless
# the arguments already say where. The server is exec'ed: it is PID 1 and gets SIGTERM itself,
# so a graceful shutdown (finish in-flight requests, save the memory, exit 0) is its own.
#
#     IMAGE healthcheck       exit 0 when GET /health on the server's port answers 200
#     IMAGE sh|bash|CMD ...   run that command instead (debugging)
set -eu

SERVER_CMD=${ATLAS_SERVER_CMD:-atlas-reference-server}
DEFAULT_HOST=${ATLAS_HOST:-0.0.0.0}
DEFAULT_MEMORY_DIR=${ATLAS_MEMORY_DIR:-/atlas-memory}
PORT_FILE=${ATLAS_PORT_FILE:-/tmp/atlas-server.port}

healthcheck() {
    port=8080
    [ -r "$PORT_FILE" ] && port=$(cat "$PORT_FILE")
    exec python3 -c '
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=4) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception as exc:
    print(exc, file=sys.stderr)
    sys.exit(1)
' "$port"
}

case "${1:-}" in
    healthcheck) healthcheck ;;
    -*|"") ;;                      # server flags (or none): fall through
    *) exec "$@" ;;                # any other command: run it as given
esac

has_host=0 has_dir=0 port=8080 prev=""
for arg in "$@"; do
    case "$arg" in
        --host|--host=*) has_host=1 ;;
        --atlas-memory-dir|--atlas-memory-dir=*) has_dir=1 ;;
        --port=*) port=${arg#--port=} ;;
    esac
    [ "$prev" = "--port" ] && port=$arg
    prev=$arg
done
echo "$port" > "$PORT_FILE" 2>/dev/null || true

[ "$has_host" = 1 ] || set -- "$@" --host "$DEFAULT_HOST"
[ "$has_dir" = 1 ] || set -- "$@" --atlas-memory-dir "$DEFAULT_MEMORY_DIR"

# SERVER_CMD may hold several words ("python3 -m atlas_reference"): split it on purpose.
# shellcheck disable=SC2086
exec $SERVER_CMD "$@"
