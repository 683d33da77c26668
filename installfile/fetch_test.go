package installfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/termtest"
	"github.com/ucmsh/ucmsh/reservation"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const codePath = "/codes/auth.txt"

// withCode puts a signed code at codePath.
func withCode(t *testing.T) (func(*testServer), []byte) {
	code := []byte(signedCode(t) + "\n")
	return func(s *testServer) { s.files[codePath] = &testFile{data: code} }, code
}

func knownHostsPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "node", "known_hosts")
}

// fetchWithin runs Fetch and fails the test if it takes longer than max.
func fetchWithin(t *testing.T, max time.Duration, ctx context.Context, u SFTPURL, o FetchOptions) ([]byte, error) {
	t.Helper()
	start := time.Now()
	data, err := Fetch(ctx, u, o)
	if d := time.Since(start); d > max {
		t.Errorf("Fetch took %v, want at most %v", d, max)
	}
	return data, err
}

func TestFetchAskedUserUnknownHostThenKnown(t *testing.T) {
	setup, code := withCode(t)
	srv := newTestServer(t, setup)
	kh := knownHostsPath(t)
	u := srv.url("", codePath)

	p := &person{user: "admin", password: "s3cret", yes: true}
	data, err := fetchWithin(t, 10*time.Second, t.Context(), u, p.options(kh))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(data, code) {
		t.Fatalf("Fetch returned %q, want the code", data)
	}
	if _, err := reservation.ParseAuthCode(string(data)); err != nil {
		t.Errorf("fetched code does not parse: %v", err)
	}
	if got, want := p.prompts(), "User ID: | Password: | Continue (y/n)?"; got != want {
		t.Errorf("prompts = %q, want %q", got, want)
	}
	key := srv.hostKeys[0].PublicKey()
	name := "[127.0.0.1]:" + strconv.Itoa(u.Port)
	wantOut := fmt.Sprintf("The authenticity of host '%s (%s)' can't be established.\n"+
		"ED25519 key fingerprint is %s.\n"+
		"Warning: Permanently added '%s' (ED25519) to the list of known hosts.\n",
		name, name, ssh.FingerprintSHA256(key), name)
	if got := p.out.String(); got != wantOut {
		t.Errorf("output:\n%s\nwant:\n%s", got, wantOut)
	}
	if got := srv.loginsSeen(); strings.Join(got, ",") != "admin password" {
		t.Errorf("logins = %q, want one password login", got)
	}

	fi, err := os.Stat(kh)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts mode = %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(kh)); di.Mode().Perm() != 0o700 {
		t.Errorf("known_hosts directory mode = %v, want 0700", di.Mode().Perm())
	}
	b, _ := os.ReadFile(kh)
	if want := knownhosts.Line([]string{name}, key) + "\n"; string(b) != want {
		t.Errorf("known_hosts = %q, want %q", b, want)
	}

	// Known now: not asked again, even without a person for that question.
	p2 := &person{user: "admin", password: "s3cret"}
	o := p2.options(kh)
	o.Interactive = false
	o.Confirm = nil
	if _, err := fetchWithin(t, 10*time.Second, t.Context(), u, o); err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	if got, want := p2.prompts(), "User ID: | Password:"; got != want {
		t.Errorf("second prompts = %q, want %q", got, want)
	}
	if p2.out.Len() != 0 {
		t.Errorf("second output = %q, want none", p2.out.String())
	}
}

func TestFetchUserInURLWithKey(t *testing.T) {
	setup, code := withCode(t)
	clientKey := newSigner(t, "ed25519")
	srv := newTestServer(t, setup, func(s *testServer) { s.keys["alice"] = clientKey.PublicKey() })
	kh := srv.trustedKnownHosts(t)

	p := &person{password: "unused"}
	o := p.options(kh)
	o.Signers = func() ([]ssh.Signer, error) { return []ssh.Signer{clientKey}, nil }
	data, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("alice", codePath), o)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(data, code) {
		t.Errorf("Fetch returned %q", data)
	}
	if got := p.prompts(); got != "" {
		t.Errorf("prompts = %q, want none", got)
	}
	if got := srv.loginsSeen(); strings.Join(got, ",") != "alice publickey" {
		t.Errorf("logins = %q, want one key login", got)
	}
}

func TestFetchUserInURLKeyRefusedThenPassword(t *testing.T) {
	setup, _ := withCode(t)
	srv := newTestServer(t, setup)
	kh := srv.trustedKnownHosts(t)

	p := &person{password: "s3cret"}
	o := p.options(kh)
	o.Signers = func() ([]ssh.Signer, error) { return []ssh.Signer{newSigner(t, "ed25519")}, nil }
	if _, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", codePath), o); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if got := p.prompts(); got != "Password:" {
		t.Errorf("prompts = %q, want only Password:", got)
	}
	if got := srv.loginsSeen(); strings.Join(got, ",") != "admin password" {
		t.Errorf("logins = %q", got)
	}
}

func TestFetchKeyboardInteractive(t *testing.T) {
	setup, _ := withCode(t)
	srv := newTestServer(t, setup, func(s *testServer) { s.kbdOnly = true })
	kh := srv.trustedKnownHosts(t)

	// The user in the URL: asked when keyboard-interactive needs it.
	p := &person{password: "s3cret"}
	if _, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", codePath), p.options(kh)); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if got := p.prompts(); got != "Password:" {
		t.Errorf("prompts = %q, want only Password:", got)
	}
	// Asked user: the password typed up front answers the server's question.
	p = &person{user: "admin", password: "s3cret"}
	if _, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("", codePath), p.options(kh)); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if got := p.prompts(); got != "User ID: | Password:" {
		t.Errorf("prompts = %q", got)
	}
	if got := srv.loginsSeen(); strings.Join(got, ",") != "admin keyboard-interactive,admin keyboard-interactive" {
		t.Errorf("logins = %q", got)
	}
}

func TestFetchUnknownHostNotInteractive(t *testing.T) {
	setup, _ := withCode(t)
	srv := newTestServer(t, setup)
	kh := knownHostsPath(t)
	p := &person{password: "s3cret", yes: true}
	o := p.options(kh)
	o.Interactive = false
	_, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", codePath), o)
	wantKind(t, err, ErrHostKeyUntrusted)
	for _, s := range []string{kh, ssh.FingerprintSHA256(srv.hostKeys[0].PublicKey()), "interactive"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	if got := p.prompts(); got != "" {
		t.Errorf("prompts = %q, want none", got)
	}
	if b, _ := os.ReadFile(kh); len(b) != 0 {
		t.Errorf("known_hosts = %q, want empty", b)
	}
	if fi, err := os.Stat(kh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts not created 0600: %v %v", fi, err)
	}
	if n := len(srv.loginsSeen()); n != 0 {
		t.Errorf("%d logins, want none", n)
	}
}

func TestFetchUnknownHostDeclined(t *testing.T) {
	setup, _ := withCode(t)
	srv := newTestServer(t, setup)
	kh := knownHostsPath(t)
	p := &person{password: "s3cret", yes: false}
	_, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", codePath), p.options(kh))
	wantKind(t, err, ErrHostKeyUntrusted)
	if got := p.prompts(); got != "Continue (y/n)?" {
		t.Errorf("prompts = %q", got)
	}
	if b, _ := os.ReadFile(kh); len(b) != 0 {
		t.Errorf("known_hosts = %q, want empty", b)
	}
}

// A person who takes longer than the connect timeout to answer is not cut
// off by it.
func TestFetchSlowAnswerKeepsConnection(t *testing.T) {
	setup, _ := withCode(t)
	srv := newTestServer(t, setup)
	p := &person{password: "s3cret", yes: true, delay: 600 * time.Millisecond}
	o := p.options(knownHostsPath(t))
	o.ConnectTimeout = 200 * time.Millisecond
	if _, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", codePath), o); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if got := p.prompts(); got != "Continue (y/n)? | Password:" {
		t.Errorf("prompts = %q", got)
	}
}

func TestFetchHostKeyChanged(t *testing.T) {
	for _, kind := range []string{"ed25519", "ecdsa"} {
		t.Run(kind, func(t *testing.T) {
			setup, _ := withCode(t)
			srv := newTestServer(t, setup)
			kh := knownHostsPath(t)
			os.MkdirAll(filepath.Dir(kh), 0o700)
			old := newSigner(t, kind).PublicKey()
			content := "# the node's SFTP servers\n" + knownhosts.Line([]string{srv.addr}, old) + "\n"
			os.WriteFile(kh, []byte(content), 0o600)

			p := &person{password: "s3cret", yes: true}
			_, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", codePath), p.options(kh))
			wantKind(t, err, ErrHostKeyChanged)
			for _, s := range []string{"REMOTE HOST IDENTIFICATION HAS CHANGED", ssh.FingerprintSHA256(srv.hostKeys[0].PublicKey()), kh + " line 2", "ssh-keygen -R"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if got := p.prompts(); got != "" {
				t.Errorf("prompts = %q, want none (a changed key is never asked about)", got)
			}
			if b, _ := os.ReadFile(kh); string(b) != content {
				t.Errorf("known_hosts changed to %q", b)
			}
		})
	}
}

// A server with several host keys is checked against the one the node
// knows, not mistaken for a changed one.
func TestFetchPrefersKnownKeyType(t *testing.T) {
	setup, _ := withCode(t)
	srv := newTestServer(t, setup, func(s *testServer) {
		s.hostKeys = append([]ssh.Signer{newSigner(t, "ed25519")}, newSigner(t, "ecdsa"))
	})
	kh := knownHostsPath(t)
	os.MkdirAll(filepath.Dir(kh), 0o700)
	srv.trust(t, kh) // the ed25519 key; by default ECDSA would be preferred
	p := &person{password: "s3cret"}
	o := p.options(kh)
	o.Interactive = false
	if _, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", codePath), o); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
}

func TestFetchRevokedKey(t *testing.T) {
	setup, _ := withCode(t)
	srv := newTestServer(t, setup)
	kh := knownHostsPath(t)
	os.MkdirAll(filepath.Dir(kh), 0o700)
	line := "@revoked " + knownhosts.Line([]string{"*"}, srv.hostKeys[0].PublicKey()) + "\n"
	os.WriteFile(kh, []byte(line), 0o600)
	p := &person{password: "s3cret", yes: true}
	_, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", codePath), p.options(kh))
	wantKind(t, err, ErrHostKeyUntrusted)
	if !strings.Contains(err.Error(), "revoked") || p.prompts() != "" {
		t.Errorf("error %q, prompts %q", err, p.prompts())
	}
}

func TestFetchBadKnownHosts(t *testing.T) {
	kh := knownHostsPath(t)
	os.MkdirAll(filepath.Dir(kh), 0o700)
	os.WriteFile(kh, []byte("[127.0.0.1]:2222 ssh-ed25519 !!!notbase64\n"), 0o600)
	p := &person{password: "s3cret", yes: true}
	_, err := Fetch(t.Context(), SFTPURL{User: "admin", Host: "127.0.0.1", Port: 2222, Path: "/x"}, p.options(kh))
	wantKind(t, err, ErrKnownHosts)
	if !strings.Contains(err.Error(), kh) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestAppendKnownHostAddsMissingNewline(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte("# no newline"), 0o600)
	if err := appendKnownHost(kh, "host ssh-ed25519 AAAA"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(kh); string(b) != "# no newline\nhost ssh-ed25519 AAAA\n" {
		t.Errorf("known_hosts = %q", b)
	}
}

func TestFetchAuthenticationFailures(t *testing.T) {
	setup, _ := withCode(t)
	srv := newTestServer(t, setup)
	kh := srv.trustedKnownHosts(t)

	t.Run("wrong password", func(t *testing.T) {
		p := &person{user: "admin", password: "guess"}
		_, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("", codePath), p.options(kh))
		wantKind(t, err, ErrAuthFailed)
		if !strings.Contains(err.Error(), `"admin"`) {
			t.Errorf("error %q does not name the user", err)
		}
		if got := p.prompts(); got != "User ID: | Password:" {
			t.Errorf("prompts = %q: the password must be asked once", got)
		}
	})
	t.Run("key and password refused", func(t *testing.T) {
		p := &person{password: "guess"}
		o := p.options(kh)
		o.Signers = func() ([]ssh.Signer, error) { return []ssh.Signer{newSigner(t, "ed25519")}, nil }
		_, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", codePath), o)
		wantKind(t, err, ErrAuthFailed)
		if !strings.Contains(err.Error(), "SSH keys") {
			t.Errorf("error %q does not mention keys", err)
		}
	})
	t.Run("nothing to offer", func(t *testing.T) {
		p := &person{}
		o := p.options(kh)
		o.Secret = nil
		_, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", codePath), o)
		wantKind(t, err, ErrAuthFailed)
		if !strings.Contains(err.Error(), "password") {
			t.Errorf("error %q does not list the server's methods", err)
		}
	})
	t.Run("no user and no one to ask", func(t *testing.T) {
		o := (&person{}).options(kh)
		o.Ask = nil
		_, err := Fetch(t.Context(), srv.url("", codePath), o)
		wantKind(t, err, ErrAuthFailed)
	})
	t.Run("empty user ID", func(t *testing.T) {
		p := &person{user: "  "}
		_, err := Fetch(t.Context(), srv.url("", codePath), p.options(kh))
		wantKind(t, err, ErrAuthFailed)
		if got := p.prompts(); got != "User ID:" {
			t.Errorf("prompts = %q", got)
		}
	})
}

func TestFetchFileProblems(t *testing.T) {
	const max = 100
	srv := newTestServer(t, func(s *testServer) {
		s.files["/codes"] = &testFile{dir: true}
		s.files["/codes/exact.txt"] = &testFile{data: bytes.Repeat([]byte("a"), max)}
		s.files["/codes/big.txt"] = &testFile{data: bytes.Repeat([]byte("a"), max+1)}
		s.files["/codes/liar.txt"] = &testFile{data: bytes.Repeat([]byte("a"), 10*max), statSize: 10}
		s.files["/codes/empty.txt"] = &testFile{}
		s.files["/codes/blank.txt"] = &testFile{data: []byte("\r\n \n")}
		s.files["/codes/secret.txt"] = &testFile{data: []byte("x"), denied: true}
	})
	kh := srv.trustedKnownHosts(t)

	for _, tc := range []struct {
		path string
		kind error
	}{
		{"/codes/missing.txt", ErrNotFound},
		{"/nowhere/auth.txt", ErrNotFound},
		{"/codes/secret.txt", ErrPermission},
		{"/codes", ErrNotRegular},
		{"/codes/big.txt", ErrTooLarge},
		{"/codes/liar.txt", ErrTooLarge},
		{"/codes/empty.txt", ErrEmptyFile},
		{"/codes/blank.txt", ErrEmptyFile},
		{"/codes/exact.txt", nil},
		{"/~/codes/exact.txt", nil}, // the login directory is / here
	} {
		t.Run(tc.path, func(t *testing.T) {
			p := &person{password: "s3cret"}
			o := p.options(kh)
			o.MaxBytes = max
			data, err := fetchWithin(t, 10*time.Second, t.Context(), srv.url("admin", tc.path), o)
			if tc.kind == nil {
				if err != nil || len(data) != max {
					t.Fatalf("Fetch = %d bytes, %v; want %d bytes", len(data), err, max)
				}
				return
			}
			wantKind(t, err, tc.kind)
			if data != nil {
				t.Errorf("Fetch returned data with an error")
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not name the path", err)
			}
		})
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := &person{password: "s3cret", yes: true}
	u := SFTPURL{User: "admin", Host: "127.0.0.1", Port: port, Path: codePath}
	_, err = fetchWithin(t, 5*time.Second, t.Context(), u, p.options(knownHostsPath(t)))
	wantKind(t, err, ErrUnreachable)
	if !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), u.Addr()) {
		t.Errorf("error %q", err)
	}
}

// A port that accepts connections but never speaks SSH.
func TestFetchConnectTimeout(t *testing.T) {
	// The port holds each connection silent until the client gives up.
	ln := termtest.Listen(t, "tcp", "127.0.0.1:0", func(c net.Conn) { io.Copy(io.Discard, c) })
	port := ln.Addr().(*net.TCPAddr).Port
	p := &person{password: "s3cret", yes: true}
	o := p.options(knownHostsPath(t))
	o.ConnectTimeout = 300 * time.Millisecond
	u := SFTPURL{User: "admin", Host: "127.0.0.1", Port: port, Path: codePath}
	_, err := fetchWithin(t, 3*time.Second, t.Context(), u, o)
	wantKind(t, err, ErrTimeout)
	if !strings.Contains(err.Error(), "300ms") {
		t.Errorf("error %q does not say the timeout", err)
	}
}

func TestFetchNotSSH(t *testing.T) {
	ln := termtest.Listen(t, "tcp", "127.0.0.1:0", func(c net.Conn) {
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	})
	port := ln.Addr().(*net.TCPAddr).Port
	p := &person{password: "s3cret", yes: true}
	u := SFTPURL{User: "admin", Host: "127.0.0.1", Port: port, Path: codePath}
	_, err := fetchWithin(t, 5*time.Second, t.Context(), u, p.options(knownHostsPath(t)))
	wantKind(t, err, ErrTransfer)
}

func blockingServer(t *testing.T) (*testServer, string) {
	srv := newTestServer(t, func(s *testServer) {
		s.files["/codes/slow.txt"] = &testFile{block: make(chan struct{})}
	})
	kh := srv.trustedKnownHosts(t)
	return srv, kh
}

func TestFetchCancelDuringTransfer(t *testing.T) {
	srv, kh := blockingServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		select {
		case <-srv.reading:
			cancel()
		case <-time.After(5 * time.Second):
		}
	}()
	p := &person{password: "s3cret"}
	_, err := fetchWithin(t, 3*time.Second, ctx, srv.url("admin", "/codes/slow.txt"), p.options(kh))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want cancellation", err)
	}
	if !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("error %q", err)
	}
}

func TestFetchCancelAtPassword(t *testing.T) {
	srv, kh := blockingServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	o := (&person{}).options(kh)
	o.Secret = func(ctx context.Context, prompt string) (string, error) {
		cancel() // Control-C at the prompt
		<-ctx.Done()
		return "", ctx.Err()
	}
	_, err := fetchWithin(t, 3*time.Second, ctx, srv.url("admin", "/codes/slow.txt"), o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want cancellation", err)
	}
}

func TestFetchTransferTimeout(t *testing.T) {
	srv, kh := blockingServer(t)
	p := &person{password: "s3cret"}
	o := p.options(kh)
	o.TransferTimeout = 300 * time.Millisecond
	_, err := fetchWithin(t, 3*time.Second, t.Context(), srv.url("admin", "/codes/slow.txt"), o)
	wantKind(t, err, ErrTimeout)
	if !strings.Contains(err.Error(), "300ms") {
		t.Errorf("error %q does not say the timeout", err)
	}
}

func TestFetchBadURL(t *testing.T) {
	for _, u := range []SFTPURL{{}, {Host: "h", Port: 22}, {Host: "h", Port: 0, Path: "/x"}} {
		_, err := Fetch(t.Context(), u, FetchOptions{KnownHosts: knownHostsPath(t)})
		wantKind(t, err, ErrBadURL)
	}
}

func TestHostKeyAlgorithmsKnownFirst(t *testing.T) {
	known := []knownhosts.KnownKey{{Key: newSigner(t, "ecdsa").PublicKey()}, {Key: newSigner(t, "ed25519").PublicKey()}}
	got := hostKeyAlgorithms(known)
	if len(got) < 2 || got[0] != ssh.KeyAlgoECDSA256 || got[1] != ssh.KeyAlgoED25519 {
		t.Errorf("algorithms = %v, want the known types first", got)
	}
	for _, a := range got {
		if strings.Contains(a, "cert") {
			t.Errorf("certificate algorithm %s offered", a)
		}
	}
	if d := hostKeyAlgorithms(nil); len(d) != len(got) {
		t.Errorf("default list %v differs in length from %v", d, got)
	}
}
