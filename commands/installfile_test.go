package commands

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// sftpServer serves the file system over SFTP on 127.0.0.1 to user
// "admin" with password "s3cret".
func sftpServer(t *testing.T) (addr string, hostKey ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
		if c.User() == "admin" && string(pw) == "s3cret" {
			return nil, nil
		}
		return nil, os.ErrPermission
	}}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
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
			}()
		}
	}()
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
	if info, err := os.Stat(filepath.Join(s.store.Dir(), "known_hosts")); err != nil || info.Mode().Perm() != 0o600 {
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
