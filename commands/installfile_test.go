package commands

import (
	"bytes"
	"encoding/pem"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"github.com/ucmsh/ucmsh/internal/statedir"
	"github.com/ucmsh/ucmsh/internal/termtest"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sftpServer serves the file system over SFTP on 127.0.0.1 to user
// "admin" with password "s3cret", and to any user with one of keys.
func sftpServer(t *testing.T, keys ...ssh.PublicKey) (addr string, hostKey ssh.PublicKey) {
	t.Helper()
	signer, _ := termtest.SSHKey(t)
	cfg := &ssh.ServerConfig{PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
		if c.User() == "admin" && string(pw) == "s3cret" {
			return nil, nil
		}
		return nil, os.ErrPermission
	}, PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		for _, k := range keys {
			if bytes.Equal(k.Marshal(), key.Marshal()) {
				return nil, nil
			}
		}
		return nil, os.ErrPermission
	}}
	cfg.AddHostKey(signer)
	ln := termtest.Listen(t, "tcp", "127.0.0.1:0", func(nc net.Conn) {
		_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
		if err != nil {
			return
		}
		go ssh.DiscardRequests(reqs)
		for nch := range chans {
			ch, reqs, err := nch.Accept()
			if err != nil {
				return
			}
			go func() {
				for req := range reqs {
					req.Reply(req.Type == "subsystem" && string(req.Payload[4:]) == "sftp", nil)
				}
			}()
			srv, err := sftp.NewServer(ch)
			if err == nil {
				srv.Serve()
			}
			ch.Close()
		}
	})
	return ln.Addr().String(), signer.PublicKey()
}

// install-file fetches the code with CUCM's questions and installs it; an
// unknown server is trusted only when a person says so.
func TestInstallFile(t *testing.T) {
	s := newSLRNode(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "code.txt"), []byte(s.code(t, t0, enough, false)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ := sftpServer(t)
	url := "sftp://" + addr + dir + "/code.txt"
	runAs := func(interactive bool, line string, answers ...string) (string, Outcome) {
		term := &fakeTerm{answers: answers, interactive: interactive}
		res := s.at(t0.Add(time.Hour), labUsage).Execute(t.Context(), term, line)
		return term.String(), res
	}

	if out, res := runAs(true, "license smart reservation install-file "+url); res != Failed || !strings.Contains(out, "License reservation mode is not enabled") || strings.Contains(out, "User ID:") {
		t.Fatalf("no questions before the preconditions:\n%s", out)
	}
	s.do(t, 0, "license smart reservation enable")
	s.do(t, 0, "license smart reservation request")

	// A script cannot vouch for an unknown server.
	if out, res := runAs(false, "license smart reservation install-file "+url, "admin", "s3cret"); res != Failed || !strings.Contains(out, "Executed command unsuccessfully") {
		t.Fatalf("unknown host, not interactive:\n%s", out)
	}
	// A person can: User ID, Password, the host key, then it installs.
	out, res := runAs(true, "license smart reservation install-file "+url, "admin", "s3cret", "yes")
	if res != OK || !strings.Contains(out, "User ID:\nPassword:\n") || !strings.Contains(out, "Continue (y/n)?") ||
		!strings.Contains(out, "Authorization code installed successfully.\nPlease enter the confirmation code to CSSM account:") {
		t.Fatalf("interactive install-file:\n%s", out)
	}
	if info, err := os.Stat(statedir.Node(s.store.Dir()).KnownHosts()); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("known_hosts: %v %v", info, err)
	}
	// Known now: a script may fetch; a wrong password or a missing file is
	// one sentence.
	if out, res := runAs(false, "license smart reservation install-file sftp://admin@"+addr+dir+"/code.txt", "wrong"); res != Failed || strings.Contains(out, "Continue (y/n)?") {
		t.Fatalf("wrong password:\n%s", out)
	}
	if out, res := runAs(false, "license smart reservation install-file sftp://"+addr+dir+"/missing.txt", "admin", "s3cret"); res != Failed || strings.Count(out, "\n") > 4 {
		t.Fatalf("missing file:\n%s", out)
	}
	if out, res := runAs(false, "license smart reservation install-file ftp://"+addr+"/code.txt"); res != Failed || strings.Contains(out, "User ID:") {
		t.Fatalf("bad URL:\n%s", out)
	}
}

// installFileNode is a node with a request made and a code on an SFTP
// server that takes keys, the server's host key already trusted.
func installFileNode(t *testing.T, keys ...ssh.PublicKey) (s *slrNode, url string) {
	t.Helper()
	s = newSLRNode(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "code.txt"), []byte(s.code(t, t0, enough, false)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, hostKey := sftpServer(t, keys...)
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostKey) + "\n"
	if err := os.WriteFile(statedir.Node(s.store.Dir()).KnownHosts(), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	s.do(t, 0, "license smart reservation enable")
	s.do(t, 0, "license smart reservation request")
	return s, "sftp://alice@" + addr + dir + "/code.txt"
}

// Issue 10.12: the process's own agent and ~/.ssh keys are never offered
// unless the caller opts in (only the local console does); a session with
// nothing to type is refused.
func TestInstallFileNeverBorrowsTheProcessKeys(t *testing.T) {
	agentKey, agentPriv := termtest.SSHKey(t)
	fileKey, filePriv := termtest.SSHKey(t)
	s, url := installFileNode(t, agentKey.PublicKey(), fileKey.PublicKey())
	termtest.AsSSHUser(t, agentPriv, filePriv)

	out, res := run(s.at(t0.Add(time.Hour), labUsage), "license smart reservation install-file "+url)
	if res != Failed || strings.Contains(out, "installed successfully") || !strings.Contains(out, "Password:") {
		t.Fatalf("install-file logged in with the serving account's keys:\n%s", out)
	}

	// The local console opts in (cmd/ucmsh/main.go): its user's keys work.
	r := s.at(t0.Add(time.Hour), labUsage)
	r.Service.InstallFile.UserKeys = true
	if out, res := run(r, "license smart reservation install-file "+url); res != OK {
		t.Fatalf("local console with the user's agent:\n%s", out)
	}
}

// The node's own key (ssh/install_file_key) logs in, and the log names the
// server, the user and the key's fingerprint.
func TestInstallFileNodeKeyIsLogged(t *testing.T) {
	nodeKey, nodePriv := termtest.SSHKey(t)
	s, url := installFileNode(t, nodeKey.PublicKey())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")

	path := statedir.Node(s.store.Dir()).InstallFileKey()
	os.MkdirAll(filepath.Dir(path), 0o700)
	block, err := ssh.MarshalPrivateKey(nodePriv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o644); err != nil {
		t.Fatal(err)
	}
	// A key others can read is refused, as OpenSSH refuses it.
	if out, res := run(s.at(t0.Add(time.Hour), labUsage), "license smart reservation install-file "+url); res != Failed || !strings.Contains(out, "chmod 600 "+path) {
		t.Fatalf("unprotected node key:\n%s", out)
	}
	os.Chmod(path, 0o600)

	var log bytes.Buffer
	r := s.at(t0.Add(time.Hour), labUsage)
	r.Service.InstallFile.Log = slog.New(slog.NewTextHandler(&log, nil))
	if out, res := run(r, "license smart reservation install-file "+url); res != OK {
		t.Fatalf("install-file with the node key:\n%s", out)
	}
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.SplitN(url, "/", 4)[2], "alice@"))
	for _, want := range []string{"install-file login", "host=" + host, "port=" + port, "user=alice", ssh.FingerprintSHA256(nodeKey.PublicKey())} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}
