# Shared set-up of the .ci scripts that serve ucmsh on loopback and drive it
# from Python. Source it after `cd` to the repository root:
#   . .ci/lib.sh
export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
PY=/usr/bin/python3 # Debian's python, where python3-paramiko installs

# apt_install PACKAGE...: installs the Debian packages named (as root), if any.
apt_install() {
  [ "$#" -gt 0 ] || return 0
  echo "== apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A work folder, removed on exit, with the server started in it
# (server_pid) stopped first.
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# free_port prints a free TCP port on 127.0.0.1.
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_serving TRIES: waits up to TRIES tenths of a second for the server
# to say `serving` in $work/serve.out, then shows what it said.
wait_serving() {
  for _ in $(seq "$1"); do
    grep -q 'serving' "$work/serve.out" 2>/dev/null && break
    sleep 0.1
  done
  cat "$work/serve.out"
}
