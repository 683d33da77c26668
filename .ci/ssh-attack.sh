#!/usr/bin/env bash
# Slow attacks on ucmsh serve, bounded in count and time (SECURITY.md):
#  1. a pre-authentication flood: 200 sockets from 127.0.0.2 held open
#     (silent, stalled after the version string, stalled at the password)
#     while the admin at 127.0.0.1 logs in 20 times, each within 2 s;
#  2. 32 parallel password guesses from 127.0.0.2: no more passwords
#     checked than the budget, the guesser told why, the admin unaffected.
# First the sshd package's attack tests (several rounds, with the race
# detector), then the same attacks on the ucmsh binary with its flags.
#
# Self-contained: installs what it needs from Debian (as root), serves on
# loopback only. Run from anywhere: bash .ci/ssh-attack.sh
set -euo pipefail
cd "$(dirname "$0")/.."

. .ci/lib.sh

missing=()
[ -x "$PY" ] || missing+=(python3)
"$PY" -c 'import paramiko' >/dev/null 2>&1 || missing+=(python3-paramiko)
apt_install "${missing[@]}"

echo "== sshd attack tests (3 rounds, race detector)"
timeout 900 go test -race -count=3 -run 'Flood|PerSourceCap|VersionDeadline|Parallel|SuccessDoesNot|KeyboardInteractive' ./sshd

echo "== the same attacks on ucmsh serve"
go build -o "$work/bin/" ./cmd/ucmsh
state="$work/state"
password='attack-Passw0rd'
echo "$password" | "$work/bin/ucmsh" useradd --state "$state" admin
port=$(free_port)
"$work/bin/ucmsh" serve --state "$state" --listen "127.0.0.1:$port" \
  --max-startups 10:30:100 --per-source-startups 8 --version-timeout 10s \
  --max-failures 5 --failure-window 1m --lockout 1m \
  >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
wait_serving 200

cat >"$work/attack.py" <<'PYTHON'
"""Floods and guesses against ucmsh serve; every loop is bounded."""
import os
import re
import socket
import sys
import threading
import time

import logging

import paramiko

# Refused connections are the point here: no tracebacks for them.
logging.getLogger("paramiko").setLevel(logging.CRITICAL + 1)

PORT = int(os.environ["UCMSH_PORT"])
PASSWORD = os.environ["UCMSH_PASSWORD"]
LOG = os.environ["UCMSH_LOG"]
SERVER = ("127.0.0.1", PORT)
ATTACKER = "127.0.0.2"


def sock_from(addr):
    s = socket.socket()
    s.settimeout(10)
    s.bind((addr, 0))
    s.connect(SERVER)
    return s


def login(addr="127.0.0.1", password=PASSWORD):
    """A password login and one command; returns the seconds it took."""
    start = time.time()
    t = paramiko.Transport(sock_from(addr))
    try:
        t.start_client(timeout=10)
        t.auth_password("admin", password)
        chan = t.open_session(timeout=10)
        chan.exec_command("show license UDI")
        out = chan.makefile().read().decode()
        assert out.startswith("UDI: PID:UCM"), out
    finally:
        t.close()
    return time.time() - start


def flood():
    held = []
    for _ in range(150):  # silent
        held.append(sock_from(ATTACKER))
    for _ in range(25):  # a version string, then nothing
        s = sock_from(ATTACKER)
        s.sendall(b"SSH-2.0-flood\r\n")
        held.append(s)
    stalled = []
    for _ in range(25):  # key exchange done, then silent before authenticating
        try:
            t = paramiko.Transport(sock_from(ATTACKER))
            t.start_client(timeout=10)
            stalled.append(t)
        except Exception:
            pass  # refused: the per-source cap
    fast = 0
    times = []
    for _ in range(20):
        try:
            took = login()
        except Exception as e:
            took = 99
            print("admin login failed:", e)
        times.append(round(took, 2))
        fast += took <= 2
    for s in held:
        s.close()
    for t in stalled:
        t.close()
    print("flood: the admin logged in within 2 s %d times out of 20 %s" % (fast, times))
    assert fast >= 19, times


def guesses():
    told = []
    lock = threading.Lock()

    def guess(i):
        try:
            t = paramiko.Transport(sock_from(ATTACKER))
            t.start_client(timeout=20)
            try:
                t.auth_password("admin", "guess-%d" % i)
            except paramiko.AuthenticationException:
                pass
            # (get_banner() answers None once the server hung up.)
            banner = (t.auth_handler and t.auth_handler.banner) or b""
            with lock:
                told.append(b"too many authentication failures from 127.0.0.2; try again in" in banner)
            t.close()
        except (paramiko.SSHException, OSError, EOFError):
            pass  # refused before the version exchange (a line says why)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(32)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    checked = len(re.findall(r'msg="ssh authentication failed" user=admin addr=127\.0\.0\.2 method=password', open(LOG).read()))
    print("guesses: 32 at once, %d passwords checked, %d guessers told why in a banner" % (checked, sum(told)))
    assert checked <= 5, checked
    assert sum(told) >= 1, told
    # Even the right password is refused now, with a banner saying why.
    t = paramiko.Transport(sock_from(ATTACKER))
    try:
        t.start_client(timeout=10)
        try:
            t.auth_password("admin", PASSWORD)
            raise AssertionError("a locked-out address logged in")
        except (paramiko.AuthenticationException, paramiko.SSHException):
            pass
        line = ((t.auth_handler and t.auth_handler.banner) or b"").decode()
    finally:
        t.close()
    print("a guesser reads:", line.strip())
    assert re.match(r"too many authentication failures from 127\.0\.0\.2; try again in \d+ s\r\n", line), line
    login()  # the admin at 127.0.0.1 is not blocked


def main():
    failed = 0
    for test in (flood, guesses):
        start = time.time()
        try:
            test()
            print("--- PASS: %s (%.2fs)" % (test.__name__, time.time() - start), flush=True)
        except Exception:
            import traceback
            traceback.print_exc()
            failed += 1
            print("--- FAIL: %s (%.2fs)" % (test.__name__, time.time() - start), flush=True)
    refusals = len(re.findall(r'msg="ssh connections refused"', open(LOG).read()))
    print("refusal log lines: %d" % refusals)
    return 1 if failed else 0


sys.exit(main())
PYTHON

status=0
UCMSH_PORT="$port" UCMSH_PASSWORD="$password" UCMSH_LOG="$work/serve.log" \
  timeout 300 "$PY" "$work/attack.py" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log"
  tail -n 100 "$work/serve.log"
fi
exit "$status"
