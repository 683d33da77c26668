#!/usr/bin/env bash
# SSH interoperability of ucmsh serve with the clients admins and their
# automation use: the OpenSSH client (interactive through a pty, exec, a
# piped script, password, keyboard-interactive and key logins, RSA host key
# algorithms, ControlMaster multiplexing, --strict refusing commands),
# paramiko (a cisco_vos_cli-style client: one character at a time or all at
# once, a long reservation code installed from one line, Continue (y/n)?,
# exec with exit status, auth_interactive, an RSA host key), asyncssh
# (sessions reused on one connection) and netmiko (send_command through a
# device type whose prompt is admin:).
#
# Self-contained: installs what it needs from Debian (as root), serves on
# 127.0.0.1 only, and is bounded in time. Run from anywhere:
#   bash .ci/ssh-interop.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
PY=/usr/bin/python3 # Debian's python, where python3-paramiko installs

missing=()
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
[ -x "$PY" ] || missing+=(python3)
"$PY" -c 'import paramiko' >/dev/null 2>&1 || missing+=(python3-paramiko)
"$PY" -c 'import netmiko' >/dev/null 2>&1 || missing+=(python3-netmiko)
"$PY" -c 'import asyncssh' >/dev/null 2>&1 || missing+=(python3-asyncssh)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
ssh -V
"$PY" -W ignore -c 'import paramiko, netmiko, asyncssh; print("paramiko", paramiko.__version__, "netmiko", netmiko.__version__, "asyncssh", asyncssh.__version__)'

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

echo "== OpenSSH client against ucmsh serve (go test)"
UCMSH_REQUIRE_SSH=1 timeout 600 go test -count=1 -run 'TestOpenSSH' -v ./cmd/ucmsh

echo "== paramiko and netmiko against ucmsh serve"
go build -o "$work/bin/" ./cmd/ucmsh ./cmd/cssm
export XDG_STATE_HOME="$work/state" # ucmsh and cssm share a lab root
state="$XDG_STATE_HOME/ucmsh/node"
password='interop-Passw0rd'
echo "$password" | "$work/bin/ucmsh" useradd --state "$state" admin
ssh-keygen -q -t ed25519 -N '' -C interop -f "$work/id_ed25519"
install -m 600 "$work/id_ed25519.pub" "$state/ssh/authorized_keys"

# Licences for a reservation, in cssm's store.
"$work/bin/cssm" account create --smart Lab --virtual Default >/dev/null
for tier in Enhanced Basic Essential; do
  "$work/bin/cssm" license add --virtual Default --tier "$tier" --count 20 >/dev/null
done

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$work/bin/ucmsh" serve --state "$state" --listen "127.0.0.1:$port" >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q 'serving' "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
cat "$work/serve.out"

cat >"$work/interop.py" <<'PYTHON'
"""paramiko and netmiko against ucmsh serve."""
import base64
import json
import os
import re
import subprocess
import sys
import time
import traceback

import paramiko

PORT = int(os.environ["UCMSH_PORT"])
HOST = "127.0.0.1"
PASSWORD = os.environ["UCMSH_PASSWORD"]
KEY_FILE = os.environ["UCMSH_KEY"]
HOST_KEY_PUB = os.environ["UCMSH_HOST_KEY_PUB"]
HOST_KEY_RSA_PUB = os.environ["UCMSH_HOST_KEY_RSA_PUB"]
CSSM = os.environ["UCMSH_CSSM"]
PROMPT = "admin:"


def client(password=True):
    """A paramiko client that checks the server's host key."""
    c = paramiko.SSHClient()
    kind, b64 = open(HOST_KEY_PUB).read().split()[:2]
    c.get_host_keys().add("[%s]:%d" % (HOST, PORT), kind, paramiko.Ed25519Key(data=base64.b64decode(b64)))
    c.set_missing_host_key_policy(paramiko.RejectPolicy())
    if password:
        c.connect(HOST, PORT, username="admin", password=PASSWORD, look_for_keys=False, allow_agent=False, timeout=10)
    else:
        c.connect(HOST, PORT, username="automation", key_filename=KEY_FILE, look_for_keys=False, allow_agent=False, timeout=10)
    return c


def read_until(chan, ending, timeout=20.0):
    """Read until the output ends with ending (the last thing written)."""
    out = ""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if chan.recv_ready():
            out += chan.recv(65536).decode("utf-8", "replace")
            if out.endswith(ending):
                # Nothing may follow it.
                time.sleep(0.3)
                if not chan.recv_ready():
                    return out
        elif chan.closed or chan.exit_status_ready():
            break
        else:
            time.sleep(0.01)
    raise AssertionError("no %r at the end of the output: %r" % (ending, out[-500:]))


def expect(cond, what, got):
    if not cond:
        raise AssertionError("%s; got %r" % (what, got[-1500:] if isinstance(got, str) else got))


def shell(c, width=80, height=24):
    chan = c.invoke_shell(term="vt100", width=width, height=height)
    banner = read_until(chan, PROMPT)
    expect(banner.startswith("Command Line Interface is starting up, please wait ...\r\n"), "banner", banner)
    expect("\r\n\r\nadmin:" in banner, "the prompt after the banner", banner)
    return chan


def command(chan, line, ending=PROMPT):
    """Send a line all at once and read the answer up to the next prompt."""
    chan.send(line + "\n")
    return read_until(chan, ending)


def test_paramiko_shell():
    c = client(password=True)
    try:
        chan = shell(c)
        out = command(chan, "set cli pagination off")
        expect(out == "set cli pagination off\r\nAutomatic pagination is turned off\r\nadmin:", "clean echo and answer", out)
        # One character at a time.
        for ch in "show license UDI\n":
            chan.send(ch)
            time.sleep(0.005)
        out = read_until(chan, PROMPT)
        expect(re.match(r"^show license UDI\r\nUDI: PID:UCM,SN:\w+,UUID:\w+\r\nadmin:$", out), "char-at-a-time echo", out)
        # Several lines at once, ahead of the prompts.
        chan.send("show version active\nshow cli pagination\n")
        out = read_until(chan, "Automatic Pagination : Off.\r\nadmin:")
        expect("show version active\r\nActive Master Version: " in out and "\r\nadmin:show cli pagination\r\n" in out, "type-ahead", out)
        # A failure.
        out = command(chan, "show licence")
        expect(out.startswith("show licence\r\nNo valid command entered") and out.endswith("\r\nExecuted command unsuccessfully\r\nadmin:"), "failure", out)
        # A bare Enter draws the prompt again on a new line, as the VOS mock device records it.
        out = command(chan, "")
        expect(out == "\r\n\radmin:", "bare Enter", out)
        # Control-C abandons the line.
        chan.send("show lic\x03")
        out = read_until(chan, PROMPT)
        expect(out == "show lic\r\nControl-C pressed\r\nadmin:", "Control-C", out)
        expect("\x1b" not in out, "no escape sequences", out)
        # quit ends the session and the connection.
        chan.send("quit\n")
        deadline = time.time() + 10
        while not chan.exit_status_ready() and time.time() < deadline:
            time.sleep(0.05)
        expect(chan.recv_exit_status() == 0, "exit status 0 after quit", chan.recv_exit_status())
        while c.get_transport().is_active() and time.time() < deadline:
            time.sleep(0.05)
        expect(not c.get_transport().is_active(), "the connection closed after quit", "still open")
    finally:
        c.close()


def test_paramiko_reservation():
    """The whole SLR flow from a script, the code sent on one long line."""
    c = client(password=False)
    try:
        chan = shell(c)
        command(chan, "set cli pagination off")
        out = command(chan, "license smart reservation enable")
        expect("Executed command unsuccessfully" not in out, "reservation enable", out)
        out = command(chan, "license smart reservation request")
        m = re.search(r"P:UCM,S:\w+,U:[\w-]+", out)
        expect(m, "a request code", out)
        code = subprocess.run(
            [CSSM, "reservation", "create", "--virtual", "Default", "--request-code", m.group(0),
             "--license", "Enhanced=5", "--license", "Basic=3", "--license", "Essential=2"],
            check=True, capture_output=True, text=True, timeout=60).stdout.strip()
        expect(len(code) > 500 and "\n" not in code, "an authorization code", code)
        line = 'license smart reservation install "%s"' % code
        out = command(chan, line)
        first = out.split("\r\n", 1)[0]
        expect(first == line, "the %d-byte command echoed intact on one line" % len(line), first)
        expect("Authorization code installed successfully." in out, "installed", out)
        out = command(chan, "show license status")
        expect("Status: AUTHORIZED - RESERVED" in out or "RESERVED" in out, "reserved status", out)
        # Continue (y/n)? is the last thing written; answer a key at a time.
        out = command(chan, "license smart reservation return", ending="Continue (y/n)?")
        chan.send("y")
        time.sleep(0.05)
        chan.send("\r")
        out = read_until(chan, PROMPT)
        expect(out.startswith("y\r\n") and "Executed command unsuccessfully" not in out, "the return code", out)
        chan.send("quit\n")
    finally:
        c.close()


def test_paramiko_exec():
    c = client(password=False)
    try:
        for cmd, status in (("show license UDI", 0), ("show licence", 1), ("show license status --json", 0)):
            stdin, stdout, stderr = c.exec_command(cmd, timeout=20)
            out = stdout.read().decode()
            err = stderr.read().decode()
            got = stdout.channel.recv_exit_status()
            expect(got == status, "%s: exit status %d" % (cmd, status), (got, out, err))
            if cmd.endswith("--json"):
                json.loads(out)
            if status:
                # A failure goes to the exec channel's standard error.
                expect(out == "" and err.endswith("Executed command unsuccessfully\n"), "failure message on stderr", (out, err))
        # A question over exec reads its answer from standard input.
        stdin, stdout, stderr = c.exec_command("license smart reservation return", timeout=20)
        stdin.write("n\n")
        stdin.channel.shutdown_write()
        out = stdout.read().decode()
        expect("Continue (y/n)?\n" in out, "the question over exec", out)
        # Port forwarding and sftp are refused.
        try:
            c.get_transport().open_channel("direct-tcpip", (HOST, PORT), (HOST, 0), timeout=10)
            raise AssertionError("port forwarding was allowed")
        except paramiko.ChannelException:
            pass
        try:
            c.open_sftp()
            raise AssertionError("sftp was offered")
        except paramiko.SSHException:
            pass
    finally:
        c.close()


def test_paramiko_wrong_password():
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        c.connect(HOST, PORT, username="admin", password="not-the-password", look_for_keys=False, allow_agent=False, timeout=10)
        raise AssertionError("a wrong password logged in")
    except paramiko.AuthenticationException:
        pass
    finally:
        c.close()


def test_netmiko():
    from netmiko.terminal_server import TerminalServerSSH

    class CiscoVosSSH(TerminalServerSSH):
        """The CUCM platform CLI: prompt admin:, paging off with set cli pagination off."""

        def session_preparation(self):
            self._test_channel_read(pattern=r"admin:")
            self.set_base_prompt(pri_prompt_terminator=":", alt_prompt_terminator=":")
            self.disable_paging(command="set cli pagination off")

    conn = CiscoVosSSH(device_type="terminal_server", host=HOST, port=PORT, username="admin",
                       password=PASSWORD, use_keys=False, allow_agent=False, timeout=20)
    try:
        expect(conn.find_prompt() == "admin:", "find_prompt", conn.find_prompt())
        out = conn.send_command("show license UDI")
        expect(re.match(r"^UDI: PID:UCM,SN:\w+,UUID:\w+$", out.strip()), "send_command output", out)
        out = conn.send_command("show license all")
        expect("Smart Licensing Status" in out and "Smart Agent for Licensing" in out and "Press <enter>" not in out, "a long report, unpaged", out)
        out = conn.send_command("show cli pagination")
        expect(out.strip() == "Automatic Pagination : Off.", "pagination off", out)
        out = conn.send_command("show licence")
        expect("Executed command unsuccessfully" in out, "failure", out)
        out = conn.send_command("license smart reservation return", expect_string=r"Continue \(y/n\)\?")
        out = conn.send_command("n", expect_string=r"admin:")
        expect("Executed command unsuccessfully" not in out or "return" in out.lower(), "answered no", out)
    finally:
        conn.disconnect()


def transport(key_types=None):
    """A paramiko transport, its host key checked against the state folder."""
    t = paramiko.Transport((HOST, PORT))
    if key_types:
        t.get_security_options().key_types = key_types
    t.start_client(timeout=10)
    key = t.get_remote_server_key()
    pub = HOST_KEY_RSA_PUB if key.get_name() == "ssh-rsa" else HOST_KEY_PUB
    expect(key.get_base64() == open(pub).read().split()[1], "the host key from " + pub, key.get_base64())
    return t


def run_exec(t, cmd):
    chan = t.open_session(timeout=10)
    chan.exec_command(cmd)
    out = b""
    while True:
        data = chan.recv(65536)
        if not data:
            break
        out += data
    return out.decode(), chan.recv_exit_status()


def test_paramiko_keyboard_interactive():
    """auth_interactive: one Password: question, echo off."""
    asked = []

    def answer(password):
        def handler(title, instructions, prompts):
            asked.extend(prompts)
            return [password for _ in prompts]
        return handler

    t = transport()
    try:
        t.auth_interactive("admin", answer(PASSWORD))
        expect(asked == [("Password: ", False)], "one Password: question without echo", asked)
        out, status = run_exec(t, "show myself")
        expect(status == 0 and "account name    : admin" in out, "a session after keyboard-interactive", out)
    finally:
        t.close()
    t = transport()
    try:
        t.auth_interactive("admin", answer("not-the-password"))
        raise AssertionError("a wrong keyboard-interactive answer logged in")
    except paramiko.AuthenticationException:
        pass
    finally:
        t.close()


def test_paramiko_rsa_host_key():
    """A client that knows only RSA (SHA-2 signatures) gets the RSA host key."""
    for algo in ("rsa-sha2-512", "rsa-sha2-256"):
        t = transport(key_types=[algo])
        try:
            expect(t.get_remote_server_key().get_name() == "ssh-rsa", "an RSA host key for " + algo, t.get_remote_server_key().get_name())
            expect(t.host_key_type == algo, "signature " + algo, t.host_key_type)
            t.auth_password("admin", PASSWORD)
            out, status = run_exec(t, "show license UDI")
            expect(status == 0 and out.startswith("UDI: PID:UCM"), "exec over an RSA host key", out)
        finally:
            t.close()


def test_asyncssh_sessions_reused():
    """asyncssh keeps one connection for several sessions: a script that
    ends, one that quits, then exec requests, with pauses between."""
    import asyncio
    import warnings
    warnings.simplefilter("ignore")
    import asyncssh

    async def go():
        async with asyncssh.connect(HOST, PORT, username="admin", password=PASSWORD, known_hosts=None,
                                    client_keys=None, agent_path=None) as conn:
            r = await asyncio.wait_for(conn.run(input="show license UDI\n"), 20)
            expect("admin:\nUDI: PID:UCM" in r.stdout and r.exit_status == 0, "a script session", r.stdout)
            r = await asyncio.wait_for(conn.run(input="show version active\nquit\n"), 20)
            expect("Active Master Version:" in r.stdout, "a session that quits", r.stdout)
            await asyncio.sleep(0.5)  # longer than the old 250 ms grace
            r = await asyncio.wait_for(conn.run("show license UDI"), 20)
            expect(r.stdout.startswith("UDI: PID:UCM") and r.exit_status == 0, "exec on the same connection", r.stdout)
            r = await asyncio.wait_for(conn.run(input="show myself\n"), 20)
            expect("account name    : admin" in r.stdout, "another script on the same connection", r.stdout)

    asyncio.run(go())


def main():
    tests = [test_paramiko_shell, test_paramiko_reservation, test_paramiko_exec, test_paramiko_wrong_password,
             test_paramiko_keyboard_interactive, test_paramiko_rsa_host_key, test_asyncssh_sessions_reused, test_netmiko]
    passed = failed = 0
    for t in tests:
        start = time.time()
        try:
            t()
            passed += 1
            print("--- PASS: %s (%.2fs)" % (t.__name__, time.time() - start), flush=True)
        except Exception:
            failed += 1
            print("--- FAIL: %s (%.2fs)" % (t.__name__, time.time() - start), flush=True)
            traceback.print_exc()
    print("interop: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
PYTHON

status=0
UCMSH_PORT="$port" UCMSH_PASSWORD="$password" UCMSH_KEY="$work/id_ed25519" \
  UCMSH_HOST_KEY_PUB="$state/ssh/host_key.pub" UCMSH_HOST_KEY_RSA_PUB="$state/ssh/host_key_rsa.pub" UCMSH_CSSM="$work/bin/cssm" \
  timeout 300 "$PY" "$work/interop.py" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log"
  cat "$work/serve.log"
fi
exit "$status"
