package installfile

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// TestFetchInterop runs Fetch against a real OpenSSH sshd and sftp-server.
// .ci/sftp-interop.sh starts one and sets
//
//	UCMSH_SFTP_INTEROP=host:port,user,client-key-file,files-dir,host-key.pub
//
// where files-dir holds codes/auth.txt, codes/empty.txt, codes/big.txt
// (2000 bytes) and codes/dir/. The server accepts the client key and
// refuses every password.
func TestFetchInterop(t *testing.T) {
	env := os.Getenv("UCMSH_SFTP_INTEROP")
	if env == "" {
		t.Skip("UCMSH_SFTP_INTEROP is not set: run .ci/sftp-interop.sh")
	}
	f := strings.Split(env, ",")
	if len(f) != 5 {
		t.Fatalf("UCMSH_SFTP_INTEROP=%q: want host:port,user,keyfile,dir,hostkey.pub", env)
	}
	addr, user, keyFile, dir, hostPub := f[0], f[1], f[2], f[3], f[4]
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	pubText, err := os.ReadFile(hostPub)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey(pubText)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "codes", "auth.txt"))
	if err != nil {
		t.Fatal(err)
	}
	url := func(user, name string) SFTPURL {
		return SFTPURL{User: user, Host: host, Port: port, Path: filepath.Join(dir, "codes", name)}
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	withKey := func(p *person) FetchOptions {
		o := p.options(kh)
		// The client key, as ssh-keygen wrote it, stands as the node's own key.
		o.Signers, _ = Keys(keyFile, false)
		o.ConnectTimeout, o.TransferTimeout = 10*time.Second, 10*time.Second
		return o
	}
	fetch := func(u SFTPURL, o FetchOptions) ([]byte, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		return Fetch(ctx, u, o)
	}

	t.Run("unknown host refused when not interactive", func(t *testing.T) {
		o := withKey(&person{})
		o.Interactive = false
		_, err := fetch(url(user, "auth.txt"), o)
		wantKind(t, err, ErrHostKeyUntrusted)
	})
	t.Run("key login, host accepted interactively", func(t *testing.T) {
		p := &person{yes: true}
		got, err := fetch(url(user, "auth.txt"), withKey(p))
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if string(got) != string(want) {
			t.Errorf("Fetch = %q, want %q", got, want)
		}
		name := knownhosts.Normalize(addr)
		if out := p.out.String(); !strings.Contains(out, fmt.Sprintf("host '%s (%s)' can't be established.\nED25519 key fingerprint is %s.\n", name, name, ssh.FingerprintSHA256(hostKey))) {
			t.Errorf("output = %q", out)
		}
		if p.prompts() != "Continue (y/n)?" {
			t.Errorf("prompts = %q", p.prompts())
		}
		b, _ := os.ReadFile(kh)
		if string(b) != knownhosts.Line([]string{addr}, hostKey)+"\n" {
			t.Errorf("known_hosts = %q", b)
		}
	})
	t.Run("known host, not interactive", func(t *testing.T) {
		p := &person{}
		o := withKey(p)
		o.Interactive = false
		if _, err := fetch(url(user, "auth.txt"), o); err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if p.prompts() != "" {
			t.Errorf("prompts = %q", p.prompts())
		}
	})
	t.Run("asked user, password refused", func(t *testing.T) {
		p := &person{user: user, password: "not-the-password"}
		_, err := fetch(url("", "auth.txt"), p.options(kh))
		wantKind(t, err, ErrAuthFailed)
		if p.prompts() != "User ID: | Password:" {
			t.Errorf("prompts = %q", p.prompts())
		}
	})
	for name, kind := range map[string]error{
		"missing.txt": ErrNotFound,
		"dir":         ErrNotRegular,
		"empty.txt":   ErrEmptyFile,
		"big.txt":     ErrTooLarge,
	} {
		t.Run(name, func(t *testing.T) {
			o := withKey(&person{})
			o.MaxBytes = 1999
			_, err := fetch(url(user, name), o)
			wantKind(t, err, kind)
		})
	}
	t.Run("changed host key", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "known_hosts")
		line := knownhosts.Line([]string{addr}, newSigner(t, "ed25519").PublicKey())
		os.WriteFile(other, []byte(line+"\n"), 0o600)
		p := &person{yes: true}
		o := withKey(p)
		o.KnownHosts = other
		_, err := fetch(url(user, "auth.txt"), o)
		wantKind(t, err, ErrHostKeyChanged)
		if p.prompts() != "" {
			t.Errorf("prompts = %q", p.prompts())
		}
	})
}
