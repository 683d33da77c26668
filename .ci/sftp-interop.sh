#!/usr/bin/env bash
# Interop: installfile.Fetch against OpenSSH's real sshd and sftp-server on
# 127.0.0.1. Installs Debian's openssh-server if needed (root, as in CI),
# starts sshd on a free loopback port with a temporary config, host key and
# client key, runs TestFetchInterop, and stops sshd. Leaves nothing behind
# but the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

SSHD=/usr/sbin/sshd
SFTP_SERVER=/usr/lib/openssh/sftp-server
if [ ! -x "$SSHD" ] || [ ! -x "$SFTP_SERVER" ]; then
  echo "== installing openssh-server"
  # Never let the package start a system sshd on port 22.
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    openssh-server openssh-sftp-server >/dev/null
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
fi

tmp=$(mktemp -d /tmp/ucmsh-sftp-interop.XXXXXX)
chmod 700 "$tmp"
sshd_pid=
made_run=
cleanup() {
  if [ -n "$sshd_pid" ] && kill -0 "$sshd_pid" 2>/dev/null; then
    kill "$sshd_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$sshd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$sshd_pid" 2>/dev/null || true
  fi
  [ -n "$made_run" ] && rmdir /run/sshd 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# sshd's privilege separation directory (the package's init script makes it).
if [ ! -d /run/sshd ]; then mkdir -m 755 /run/sshd; made_run=1; fi

ssh-keygen -q -t ed25519 -N '' -C ucmsh-interop-host -f "$tmp/host_key"
ssh-keygen -q -t ed25519 -N '' -C ucmsh-interop-client -f "$tmp/client_key"
cp "$tmp/client_key.pub" "$tmp/authorized_keys"

mkdir -p "$tmp/files/codes/dir"
printf 'code-from-openssh\n' >"$tmp/files/codes/auth.txt"
: >"$tmp/files/codes/empty.txt"
head -c 2000 /dev/zero | tr '\0' a >"$tmp/files/codes/big.txt"

free_port() { # a port nothing answers on
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port found" >&2; return 1
}

user=$(id -un)
start_sshd() {
  port=$(free_port)
  cat >"$tmp/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $tmp/host_key
PidFile none
AuthorizedKeysFile $tmp/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AllowUsers $user
AllowTcpForwarding no
X11Forwarding no
Subsystem sftp $SFTP_SERVER
ForceCommand $SFTP_SERVER
LoginGraceTime 20
LogLevel VERBOSE
EOF
  "$SSHD" -t -f "$tmp/sshd_config"
  "$SSHD" -D -e -f "$tmp/sshd_config" 2>>"$tmp/sshd.log" &
  sshd_pid=$!
  for _ in $(seq 50); do
    if ! kill -0 "$sshd_pid" 2>/dev/null; then sshd_pid=; return 1; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}
started=
for _ in 1 2 3; do
  if start_sshd; then started=1; break; fi
  [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null || true
  sshd_pid=
done
if [ -z "$started" ]; then
  echo "sshd did not start:"; cat "$tmp/sshd.log"; exit 1
fi
echo "== sshd $("$SSHD" -V 2>&1 | head -1) on 127.0.0.1:$port (pid $sshd_pid)"

echo "== go test (SFTP interop)"
status=0
UCMSH_SFTP_INTEROP="127.0.0.1:$port,$user,$tmp/client_key,$tmp/files,$tmp/host_key.pub" \
  timeout 50 go test ./installfile -run '^TestFetchInterop$' -count=1 -v || status=$?
if [ "$status" -ne 0 ]; then
  echo "== sshd log"; cat "$tmp/sshd.log"
fi
exit "$status"
