package main

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"

	"github.com/ucmsh/ucmsh/internal/termtest"
	"github.com/ucmsh/ucmsh/sshd"
)

// openssh runs the real OpenSSH client against a lab server: a key of its
// own, and the server's host key pinned in a known_hosts file.
type openssh struct {
	t    *testing.T
	bin  string
	args []string // options and destination, without the command
	dir  string
}

func newOpenSSH(t *testing.T, l *lab, user string) *openssh {
	t.Helper()
	bin, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("UCMSH_REQUIRE_SSH") != "" {
			t.Fatal("UCMSH_REQUIRE_SSH is set but there is no ssh client")
		}
		t.Skip("no OpenSSH client (ssh) on PATH")
	}
	dir := t.TempDir()
	block, err := ssh.MarshalPrivateKey(l.priv, "ucmsh test")
	if err != nil {
		t.Fatal(err)
	}
	id := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(id, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(l.addr)
	var known strings.Builder
	for _, name := range []string{sshd.HostKeyFile, sshd.HostKeyRSAFile} {
		pub, err := os.ReadFile(filepath.Join(l.state, "ssh", name+".pub"))
		if err != nil {
			t.Fatal(err)
		}
		known.WriteString("[" + host + "]:" + port + " " + string(pub))
	}
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(known.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return &openssh{t: t, bin: bin, dir: dir, args: []string{
		"-F", "/dev/null", "-p", port, "-i", id,
		"-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=" + kh, "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
		user + "@" + host,
	}}
}

// command builds an ssh command line: extra options, then the command.
func (o *openssh) command(opts []string, cmd ...string) *exec.Cmd {
	args := append(append(append([]string{}, opts...), o.args...), cmd...)
	c := exec.Command(o.bin, args...)
	c.Env = append(os.Environ(), "HOME="+o.dir)
	return c
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestOpenSSHExecAndScript(t *testing.T) {
	l := startServe(t)
	o := newOpenSSH(t, l, "admin")

	out, err := o.command(nil, "show", "license", "UDI").CombinedOutput()
	if exitCode(err) != 0 || !strings.HasPrefix(string(out), "UDI: PID:UCM,SN:") {
		t.Fatalf("exec: %v %q", err, out)
	}
	out, err = o.command(nil, "show licence").CombinedOutput()
	if exitCode(err) != 1 || !strings.HasSuffix(string(out), "Executed command unsuccessfully\n") {
		t.Fatalf("failing exec: %v %q", err, out)
	}
	out, err = o.command(nil, "show", "license", "summary", "--json").Output()
	if exitCode(err) != 0 || !json.Valid(out) {
		t.Fatalf("--json: %v %q", err, out)
	}

	// ssh host < script: no PTY, banner and prompts, no echo.
	c := o.command([]string{"-T"})
	c.Stdin = strings.NewReader("show license UDI\nset cli pagination off\n")
	out, err = c.Output()
	if exitCode(err) != 0 || !strings.Contains(string(out), "admin:\nUDI: PID:UCM") || !strings.HasSuffix(string(out), "Automatic pagination is turned off\nadmin:\n") {
		t.Fatalf("script: %v %q", err, out)
	}

	// The sftp subsystem is not offered.
	out, err = o.command([]string{"-s"}, "sftp").CombinedOutput()
	if exitCode(err) == 0 {
		t.Fatalf("sftp subsystem: %q", out)
	}
	// Nor port forwarding: ssh gives up when it cannot forward.
	out, err = o.command([]string{"-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9"}, "show version active").CombinedOutput()
	if exitCode(err) == 0 {
		t.Fatalf("remote forwarding: %q", out)
	}
}

func TestOpenSSHPassword(t *testing.T) {
	l := startServe(t)
	if err := sshd.AddUser(filepath.Join(l.state, "ssh"), "ops", []byte(labPassword), false); err != nil {
		t.Fatal(err)
	}
	o := newOpenSSH(t, l, "ops")
	askpass := filepath.Join(o.dir, "askpass")
	os.WriteFile(askpass, []byte("#!/bin/sh\necho '"+labPassword+"'\n"), 0o700)
	opts := []string{"-o", "BatchMode=no", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1"}
	c := o.command(opts, "show myself")
	c.Env = append(c.Env, "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
	out, err := c.CombinedOutput()
	if exitCode(err) != 0 || !strings.Contains(string(out), "account name    : ops") {
		t.Fatalf("password login: %v %q", err, out)
	}
	os.WriteFile(askpass, []byte("#!/bin/sh\necho 'not the password'\n"), 0o700)
	c = o.command(opts, "show myself")
	c.Env = append(c.Env, "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
	if out, err := c.CombinedOutput(); exitCode(err) != 255 || !strings.Contains(string(out), "Permission denied") {
		t.Fatalf("wrong password: %v %q", err, out)
	}
}

// An admin at a terminal: ssh -tt in a pseudo-terminal, as tmux would run it.
func TestOpenSSHInteractive(t *testing.T) {
	l := startServe(t)
	o := newOpenSSH(t, l, "admin")
	cmd := o.command([]string{"-tt"})
	c := ptyConsole(t, cmd, 12, 100)

	c.Expect("Welcome to the Platform Command Line Interface\r\n")
	c.Expect("8192 Mbytes RAM\r\n\r\nadmin:")
	c.Send("show license UD\t")
	c.Expect("show license UDI ")
	c.Send("\r")
	c.Expect("UDI: PID:UCM,SN:")
	c.Expect("admin:")
	c.Send("license smart \t")
	c.Expect("license smart \r\nregister*")
	c.Expect("admin:license smart ")
	c.Send("\x15show license all\r")
	c.Expect("show license all\r\n")
	first := c.Expect(pager)
	if n := strings.Count(first, "\r\n"); n != 11 {
		t.Fatalf("first page: %d lines:\n%q", n, first)
	}
	// The window shrinks: ssh tells the server, the next page follows.
	if err := pty.Setsize(c.f, &pty.Winsize{Rows: 6, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	c.Send(" ")
	if page := c.Expect(pager); strings.Count(page, "\r\n") != 5 {
		t.Fatalf("page after the window changed:\n%q", page)
	}
	c.Send("q")
	c.Expect("admin:")
	c.Send("show lic\x03")
	c.Expect("show lic\r\nControl-C pressed\r\nadmin:")
	c.Send("show licence\r")
	c.Expect("Executed command unsuccessfully\r\nadmin:")
	c.Send("quit\r")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ssh ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ssh did not end after quit")
	}
}

// askpass makes ssh answer its password question with pw.
func (o *openssh) askpass(c *exec.Cmd, pw string) {
	path := filepath.Join(o.dir, "askpass")
	os.WriteFile(path, []byte("#!/bin/sh\necho '"+pw+"'\n"), 0o700)
	c.Env = append(c.Env, "SSH_ASKPASS="+path, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0")
}

// Keyboard-interactive, as CUCM clients use it: one Password: question.
func TestOpenSSHKeyboardInteractive(t *testing.T) {
	l := startServe(t)
	if err := sshd.AddUser(filepath.Join(l.state, "ssh"), "ops", []byte(labPassword), false); err != nil {
		t.Fatal(err)
	}
	o := newOpenSSH(t, l, "ops")
	opts := []string{"-o", "BatchMode=no", "-o", "PubkeyAuthentication=no", "-o", "PasswordAuthentication=no",
		"-o", "PreferredAuthentications=keyboard-interactive", "-o", "NumberOfPasswordPrompts=1"}
	c := o.command(opts, "show myself")
	o.askpass(c, labPassword)
	out, err := c.CombinedOutput()
	if exitCode(err) != 0 || !strings.Contains(string(out), "account name    : ops") {
		t.Fatalf("keyboard-interactive login: %v %q", err, out)
	}
	if !strings.Contains(l.log.String(), "method=keyboard-interactive") {
		t.Fatalf("log:\n%s", l.log)
	}
	c = o.command(opts, "show myself")
	o.askpass(c, "not the password")
	if out, err := c.CombinedOutput(); exitCode(err) != 255 || !strings.Contains(string(out), "Permission denied") {
		t.Fatalf("wrong password: %v %q", err, out)
	}
}

// Clients that pin an RSA host key with SHA-2 signatures; SHA-1 and the
// group14-sha1 key exchange only with --legacy-algorithms.
func TestOpenSSHHostKeyAlgorithms(t *testing.T) {
	l := startServe(t)
	o := newOpenSSH(t, l, "admin")
	for _, algo := range []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-ed25519"} {
		out, err := o.command([]string{"-o", "HostKeyAlgorithms=" + algo}, "show license UDI").CombinedOutput()
		if exitCode(err) != 0 || !strings.HasPrefix(string(out), "UDI: PID:UCM") {
			t.Errorf("%s: %v %q", algo, err, out)
		}
	}
	legacy := [][]string{{"-o", "HostKeyAlgorithms=ssh-rsa"}, {"-o", "KexAlgorithms=diffie-hellman-group14-sha1"}}
	for _, opts := range legacy {
		if out, err := o.command(opts, "show license UDI").CombinedOutput(); exitCode(err) != 255 {
			t.Errorf("%v without --legacy-algorithms: %v %q", opts, err, out)
		}
	}
	ll := startServe(t, "--legacy-algorithms")
	lo := newOpenSSH(t, ll, "admin")
	for _, opts := range legacy {
		if out, err := lo.command(opts, "show license UDI").CombinedOutput(); exitCode(err) != 0 {
			t.Errorf("%v with --legacy-algorithms: %v %q", opts, err, out)
		}
	}
}

// --strict: "ssh host command" fails as against a real CUCM.
func TestOpenSSHStrictRefusesCommands(t *testing.T) {
	l := startServe(t, "--strict")
	o := newOpenSSH(t, l, "admin")
	out, err := o.command(nil, "show license status").CombinedOutput()
	if exitCode(err) != 255 || !strings.Contains(string(out), "exec request failed on channel 0") {
		t.Fatalf("exec in strict mode: %v %q", err, out)
	}
	c := o.command([]string{"-T"})
	c.Stdin = strings.NewReader("show license UDI\n")
	if out, err := c.Output(); exitCode(err) != 0 || !strings.Contains(string(out), "admin:\nUDI: PID:UCM") {
		t.Fatalf("a script in strict mode: %v %q", err, out)
	}
}

// OpenSSH ControlMaster: sessions multiplexed over one connection; one
// quitting leaves the others (and sessions opened right after) alone.
func TestOpenSSHControlMaster(t *testing.T) {
	l := startServe(t)
	o := newOpenSSH(t, l, "admin")
	sock := filepath.Join(o.dir, "mux")
	master := o.command([]string{"-M", "-S", sock, "-N", "-o", "ControlPersist=no"})
	if err := master.Start(); err != nil {
		t.Fatal(err)
	}
	masterDone := make(chan error, 1)
	go func() { masterDone <- master.Wait() }()
	t.Cleanup(func() { master.Process.Kill() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if o.command([]string{"-S", sock, "-O", "check"}).Run() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the master did not come up")
		}
	}
	mux := []string{"-S", sock, "-o", "ControlMaster=no", "-T"}
	script := func(input string) string {
		c := o.command(mux)
		c.Stdin = strings.NewReader(input)
		out, err := c.Output()
		if err != nil {
			t.Fatalf("a multiplexed script: %v %q", err, out)
		}
		return string(out)
	}
	// A session quits while it is the only one; the next opens at once.
	if out := script("show license UDI\nquit\n"); !strings.Contains(out, "UDI: PID:UCM") {
		t.Fatal(out)
	}
	held := o.command(mux)
	in, _ := held.StdinPipe()
	var out termtest.Buffer
	held.Stdout = &out
	if err := held.Start(); err != nil {
		t.Fatal(err)
	}
	// Another session comes and quits beside it.
	script("show myself\nquit\n")
	time.Sleep(3 * time.Second) // past the grace period after each quit
	io.WriteString(in, "show license UDI\n")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "UDI: PID:UCM"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the held session lost its connection: %q", out.String())
		}
	}
	io.WriteString(in, "quit\n")
	if err := held.Wait(); err != nil {
		t.Fatalf("the held session: %v", err)
	}
	// No session left: the connection closes, and the master with it.
	select {
	case <-masterDone:
	case <-time.After(15 * time.Second):
		t.Fatal("the master connection stayed open with no session")
	}
}
