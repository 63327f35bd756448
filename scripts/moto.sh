#!/usr/bin/env bash
# moto, the AWS API emulator used by the integration tests and the example.
#   scripts/moto.sh install   create the virtualenv and install moto[server] (idempotent)
#   scripts/moto.sh start     install, start moto_server on a free loopback port, print its URL;
#                             the PID is written to $MOTO_PID_FILE (default: a temp file)
#   scripts/moto.sh stop      stop the server started by `start`
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"

install() {
  if [ -x "$venv_dir/bin/moto_server" ] &&
     "$venv_dir/bin/python" -c "import moto,sys; sys.exit(moto.__version__ != '$moto_version')" 2>/dev/null; then
    return
  fi
  echo "scripts/moto.sh: installing moto[server]==$moto_version into $venv_dir" >&2
  python3 -m venv "$venv_dir"
  "$venv_dir/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version" >&2
}

free_port() {
  "$venv_dir/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  install
  local port pid url log
  port=$(free_port)
  url="http://127.0.0.1:$port"
  log=${MOTO_LOG:-$(mktemp -t moto.XXXXXX.log)}
  "$venv_dir/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  pid=$!
  echo "$pid" >"${MOTO_PID_FILE:-/tmp/driftgate-moto.pid}"
  # Wait until it answers (usually under a second), at most 30 s.
  for _ in $(seq 1 150); do
    if "$venv_dir/bin/python" -c "import urllib.request; urllib.request.urlopen('$url/moto-api/', timeout=1)" 2>/dev/null; then
      echo "$url"
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "scripts/moto.sh: moto_server exited; its log:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "scripts/moto.sh: moto_server did not answer on $url within 30 s; log: $log" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

stop() {
  local file=${MOTO_PID_FILE:-/tmp/driftgate-moto.pid}
  if [ -f "$file" ]; then
    kill "$(cat "$file")" 2>/dev/null || true
    rm -f "$file"
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/moto.sh install|start|stop" >&2; exit 64 ;;
esac
