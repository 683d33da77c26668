package installfile

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// An in-process SSH server on 127.0.0.1 with an in-memory SFTP tree, for
// Fetch's tests.

// testFile is one entry of the server's tree.
type testFile struct {
	data     []byte
	dir      bool
	denied   bool          // opening and stat fail with permission denied
	statSize int64         // when > 0, the size Stat reports (a lying server)
	block    chan struct{} // when set, reads wait for it to close
}

type testServer struct {
	t        *testing.T
	addr     string
	hostKeys []ssh.Signer
	// passwords and keys of the accounts.
	passwords map[string]string
	keys      map[string]ssh.PublicKey
	kbdOnly   bool // keyboard-interactive instead of password

	files map[string]*testFile

	ln      net.Listener
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
	logins  []string      // "user method" of each successful login
	reading chan struct{} // receives when a blocking read starts
}

func newSigner(t testing.TB, kind string) ssh.Signer {
	t.Helper()
	var key any
	switch kind {
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	case "ecdsa":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	s, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTestServer starts a server with an ed25519 host key (more with
// hostKeys), the account admin/s3cret, and no files.
func newTestServer(t *testing.T, setup ...func(*testServer)) *testServer {
	t.Helper()
	s := &testServer{
		t:         t,
		hostKeys:  []ssh.Signer{newSigner(t, "ed25519")},
		passwords: map[string]string{"admin": "s3cret"},
		keys:      map[string]ssh.PublicKey{},
		files:     map[string]*testFile{},
		reading:   make(chan struct{}, 16),
	}
	for _, f := range setup {
		f(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

func (s *testServer) url(user, p string) SFTPURL {
	host, port, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(port)
	return SFTPURL{User: user, Host: host, Port: n, Path: p}
}

// trust writes the server's first host key into a known_hosts file.
func (s *testServer) trust(t *testing.T, path string) {
	t.Helper()
	line := knownhosts.Line([]string{s.addr}, s.hostKeys[0].PublicKey())
	if err := os.WriteFile(path, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// trustedKnownHosts is a fresh known_hosts file that trusts the server.
func (s *testServer) trustedKnownHosts(t *testing.T) string {
	t.Helper()
	kh := knownHostsPath(t)
	os.MkdirAll(filepath.Dir(kh), 0o700)
	s.trust(t, kh)
	return kh
}

func (s *testServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	for _, f := range s.files {
		if f.block != nil {
			select {
			case <-f.block:
			default:
				close(f.block)
			}
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.t.Errorf("test SFTP server did not stop")
	}
}

func (s *testServer) loginsSeen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logins...)
}

func (s *testServer) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if k, ok := s.keys[c.User()]; ok && bytes.Equal(k.Marshal(), key.Marshal()) {
				// Record the authenticated key (CVE-2024-45337).
				return &ssh.Permissions{Extensions: map[string]string{
					"method": "publickey", "pubkey-fp": ssh.FingerprintSHA256(key),
				}}, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	check := func(user, pw string) bool {
		want, ok := s.passwords[user]
		return ok && pw == want
	}
	if s.kbdOnly {
		cfg.KeyboardInteractiveCallback = func(c ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			ans, err := client(c.User(), "", []string{"Password: "}, []bool{false})
			if err != nil || len(ans) != 1 || !check(c.User(), ans[0]) {
				return nil, errors.New("wrong password")
			}
			return &ssh.Permissions{Extensions: map[string]string{"method": "keyboard-interactive"}}, nil
		}
	} else {
		cfg.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if !check(c.User(), string(pw)) {
				return nil, errors.New("wrong password")
			}
			return &ssh.Permissions{Extensions: map[string]string{"method": "password"}}, nil
		}
	}
	for _, k := range s.hostKeys {
		cfg.AddHostKey(k)
	}
	return cfg
}

func (s *testServer) serve() {
	defer s.wg.Done()
	cfg := s.config()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
			if err != nil {
				return
			}
			c.SetDeadline(time.Time{})
			s.mu.Lock()
			s.logins = append(s.logins, sc.User()+" "+sc.Permissions.Extensions["method"])
			s.mu.Unlock()
			go ssh.DiscardRequests(reqs)
			for nc := range chans {
				if nc.ChannelType() != "session" {
					nc.Reject(ssh.UnknownChannelType, "only sessions")
					continue
				}
				ch, creqs, err := nc.Accept()
				if err != nil {
					continue
				}
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					s.session(ch, creqs)
				}()
			}
		}()
	}
}

func (s *testServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		var sub struct{ Name string }
		if req.Type == "subsystem" && ssh.Unmarshal(req.Payload, &sub) == nil && sub.Name == "sftp" {
			req.Reply(true, nil)
			go ssh.DiscardRequests(reqs)
			h := handlers{s}
			rs := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
			rs.Serve()
			rs.Close()
			return
		}
		req.Reply(false, nil)
	}
}

// handlers serve the in-memory tree read-only.
type handlers struct{ s *testServer }

func (h handlers) lookup(p string) (*testFile, error) {
	f, ok := h.s.files[path.Clean(p)]
	if !ok {
		return nil, os.ErrNotExist
	}
	if f.denied {
		return nil, sftp.ErrSSHFxPermissionDenied
	}
	return f, nil
}

func (h handlers) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	f, err := h.lookup(r.Filepath)
	if err != nil {
		return nil, err
	}
	if f.block != nil {
		return blockingReader{f: f, reading: h.s.reading}, nil
	}
	return bytes.NewReader(f.data), nil
}

func (h handlers) Filewrite(*sftp.Request) (io.WriterAt, error) {
	return nil, sftp.ErrSSHFxPermissionDenied
}

func (h handlers) Filecmd(*sftp.Request) error { return sftp.ErrSSHFxPermissionDenied }

func (h handlers) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	if r.Method != "Stat" && r.Method != "Lstat" {
		return nil, sftp.ErrSSHFxOpUnsupported
	}
	f, err := h.lookup(r.Filepath)
	if err != nil {
		return nil, err
	}
	return listerAt{fileInfo{name: path.Base(r.Filepath), f: f}}, nil
}

type blockingReader struct {
	f       *testFile
	reading chan struct{}
}

func (b blockingReader) ReadAt(p []byte, off int64) (int, error) {
	select {
	case b.reading <- struct{}{}:
	default:
	}
	<-b.f.block
	return 0, io.ErrUnexpectedEOF
}

type listerAt []fs.FileInfo

func (l listerAt) ListAt(dst []fs.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if off+int64(n) >= int64(len(l)) {
		return n, io.EOF
	}
	return n, nil
}

type fileInfo struct {
	name string
	f    *testFile
}

func (fi fileInfo) Name() string { return fi.name }
func (fi fileInfo) Size() int64 {
	if fi.f.statSize > 0 {
		return fi.f.statSize
	}
	if fi.f.block != nil {
		return 100
	}
	return int64(len(fi.f.data))
}
func (fi fileInfo) Mode() fs.FileMode {
	if fi.f.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (fi fileInfo) ModTime() time.Time { return time.Unix(1583317800, 0) }
func (fi fileInfo) IsDir() bool        { return fi.f.dir }
func (fi fileInfo) Sys() any           { return nil }

// person answers Fetch's questions and records them.
type person struct {
	mu       sync.Mutex
	user     string
	password string
	yes      bool
	delay    time.Duration // before answering a password or yes/no question
	asked    []string
	out      bytes.Buffer
}

func (p *person) record(prompt string) {
	p.mu.Lock()
	p.asked = append(p.asked, prompt)
	p.mu.Unlock()
}

// think waits p.delay, as a person does before answering.
func (p *person) think(ctx context.Context) error {
	if p.delay <= 0 {
		return nil
	}
	select {
	case <-time.After(p.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *person) prompts() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.asked, " | ")
}

func (p *person) options(knownHosts string) FetchOptions {
	return FetchOptions{
		KnownHosts:  knownHosts,
		Interactive: true,
		Ask: func(ctx context.Context, prompt string) (string, error) {
			p.record(prompt)
			return p.user, nil
		},
		Secret: func(ctx context.Context, prompt string) (string, error) {
			p.record(prompt)
			if err := p.think(ctx); err != nil {
				return "", err
			}
			return p.password, nil
		},
		Confirm: func(ctx context.Context, prompt string) (bool, error) {
			p.record(prompt)
			if err := p.think(ctx); err != nil {
				return false, err
			}
			return p.yes, nil
		},
		ConnectTimeout:  5 * time.Second,
		TransferTimeout: 5 * time.Second,
		Out:             &p.out,
	}
}
