package installfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"github.com/ucmsh/ucmsh/internal/sentence"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// FetchOptions says how Fetch reaches the server and asks its questions.
type FetchOptions struct {
	// KnownHosts is the path of the node's known_hosts file (OpenSSH
	// format), created 0600 if missing.
	KnownHosts string
	// Interactive says a person can answer questions: only then is an
	// unknown host key offered for acceptance.
	Interactive bool
	// Ask asks for text shown as typed, e.g. "User ID:"; Secret asks for
	// text not echoed, e.g. "Password:"; Confirm asks "Continue (y/n)?".
	// Each is nil when there is no one to ask, and each should return
	// ctx.Err() when ctx is cancelled while it waits.
	Ask     func(ctx context.Context, prompt string) (string, error)
	Secret  func(ctx context.Context, prompt string) (string, error)
	Confirm func(ctx context.Context, prompt string) (bool, error)
	// Signers gives the keys to offer (see Keys); nil means none. It is
	// called at most once, when the server accepts keys; an error ends the
	// fetch with its sentence.
	Signers func() ([]ssh.Signer, error)
	// Log, if set, records each login: host, port, user, method or key.
	Log *slog.Logger
	// ConnectTimeout (default 10s) and TransferTimeout (default 30s).
	ConnectTimeout, TransferTimeout time.Duration
	// MaxBytes is the largest file accepted (default 1 MiB).
	MaxBytes int64
	// Out receives the host-key text printed before Confirm and the
	// "Permanently added" notice; nil discards them.
	Out io.Writer
}

// Asker is whoever answers install-file's questions: a shell session.
// Prompt shows the answer as typed, ReadSecret does not; each returns
// ctx.Err() when ctx ends while it waits. Host-key text goes to Write.
type Asker interface {
	io.Writer
	Interactive() bool
	Prompt(ctx context.Context, prompt string) (string, error)
	ReadSecret(ctx context.Context, prompt string) (string, error)
	Confirm(ctx context.Context, prompt string) (bool, error)
}

// AskWith returns o with a asking the questions.
func (o FetchOptions) AskWith(a Asker) FetchOptions {
	o.Interactive, o.Ask, o.Secret, o.Confirm, o.Out = a.Interactive(), a.Prompt, a.ReadSecret, a.Confirm, a
	return o
}

// Defaults of FetchOptions.
const (
	DefaultConnectTimeout  = 10 * time.Second
	DefaultTransferTimeout = 30 * time.Second
	DefaultMaxBytes        = 1 << 20
)

// Fetch downloads the file u names over SFTP and returns its content. It
// does not check that the content is a code: reservation.ParseAuthCode
// does. Every failure is one sentence whose kind is one of the Err*
// sentinels (or context.Canceled). The package doc lists the decisions.
func Fetch(ctx context.Context, u SFTPURL, o FetchOptions) ([]byte, error) {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.TransferTimeout <= 0 {
		o.TransferTimeout = DefaultTransferTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if u.Host == "" || u.Port < 1 || u.Port > 65535 || !strings.HasPrefix(u.Path, "/") {
		return nil, fetchErr(ErrBadURL, nil, msgFetchURL)
	}
	f := &fetcher{ctx: ctx, u: u, o: o, addr: u.Addr(), user: u.User}
	if err := ctx.Err(); err != nil {
		return nil, f.interrupted(err)
	}
	return f.run()
}

// fetcher is the state of one Fetch.
type fetcher struct {
	ctx  context.Context
	u    SFTPURL
	o    FetchOptions
	addr string

	known     ssh.HostKeyCallback
	knownKeys []knownhosts.KnownKey

	user        string
	askedUser   bool // the user came from "User ID:": passwords only
	password    string
	hasPassword bool

	conn    *watchedConn
	timeout time.Duration // the budget of the current phase

	keys       []ssh.Signer
	keysLoaded bool // Signers was called
	keyNext    int  // the next key to offer
	triedKeys  bool // keys were offered

	mu          sync.Mutex    // the host-key callback runs on another goroutine
	failure     error         // set by the host-key and auth callbacks
	accepted    ssh.PublicKey // the host key once checked (key re-exchanges)
	authStarted bool
	methods     []string // authentication attempts, for the log
}

func (f *fetcher) run() ([]byte, error) {
	if err := f.loadKnownHosts(); err != nil {
		return nil, err
	}
	if f.user == "" {
		if err := f.askUser(); err != nil {
			return nil, err
		}
	}

	d := net.Dialer{Timeout: f.o.ConnectTimeout}
	raw, err := d.DialContext(f.ctx, "tcp", f.addr)
	if err != nil {
		return nil, f.dialError(err)
	}
	f.conn = &watchedConn{Conn: raw}
	defer f.conn.Close()
	stop := context.AfterFunc(f.ctx, func() { f.conn.Close() })
	defer stop()

	f.timeout = f.o.ConnectTimeout
	f.conn.SetDeadline(time.Now().Add(f.timeout))
	cfg := &ssh.ClientConfig{
		User:              f.user,
		HostKeyCallback:   f.checkHostKey,
		HostKeyAlgorithms: hostKeyAlgorithms(f.knownKeys),
		AuthCallback:      f.nextAuth,
	}
	c, chans, reqs, err := ssh.NewClientConn(f.conn, f.addr, cfg)
	if err != nil {
		err = f.handshakeError(err)
		f.logLogin(err)
		return nil, err
	}
	f.logLogin(nil)
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()

	f.timeout = f.o.TransferTimeout
	f.conn.SetDeadline(time.Now().Add(f.timeout))
	sc, err := sftp.NewClient(client)
	if err != nil {
		return nil, f.transferError(err, msgFetchNoSFTP, f.addr, err)
	}
	defer sc.Close()
	return f.download(sc)
}

func (f *fetcher) download(sc *sftp.Client) ([]byte, error) {
	p := f.u.Path
	if rel, ok := strings.CutPrefix(p, "/~/"); ok {
		p = rel // relative to the login directory
	}
	fi, err := sc.Stat(p)
	if err != nil {
		return nil, f.fileError(err)
	}
	if err := f.checkInfo(fi); err != nil {
		return nil, err
	}
	file, err := sc.Open(p)
	if err != nil {
		return nil, f.fileError(err)
	}
	defer file.Close()
	// The path may have been replaced between Stat and Open.
	if fi, err = file.Stat(); err != nil {
		return nil, f.fileError(err)
	}
	if err := f.checkInfo(fi); err != nil {
		return nil, err
	}
	limit := f.o.MaxBytes
	if limit < math.MaxInt64 {
		limit++ // one byte more tells a file of exactly MaxBytes from a larger one
	}
	data, err := io.ReadAll(io.LimitReader(file, limit))
	if err != nil {
		return nil, f.fileError(err)
	}
	if int64(len(data)) > f.o.MaxBytes {
		return nil, fetchErr(ErrTooLarge, nil, msgFetchTooLarge, f.u.Path, f.addr, f.o.MaxBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fetchErr(ErrEmptyFile, nil, msgFetchEmpty, f.u.Path, f.addr)
	}
	return data, nil
}

func (f *fetcher) checkInfo(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fetchErr(ErrNotRegular, nil, msgFetchNotRegular, f.u.Path, f.addr, fileKind(fi.Mode()))
	}
	if fi.Size() > f.o.MaxBytes {
		return fetchErr(ErrTooLarge, nil, msgFetchTooLarge, f.u.Path, f.addr, f.o.MaxBytes)
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return "a special file"
	}
}

// Error classification.

func (f *fetcher) interrupted(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fetchErr(ErrTimeout, err, msgFetchDeadline, f.u.String())
	}
	return fetchErr(nil, err, msgFetchInterrupted, f.u.String())
}

func (f *fetcher) dialError(err error) error {
	if f.ctx.Err() != nil {
		return f.interrupted(f.ctx.Err())
	}
	var dnsErr *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dnsErr) && !dnsErr.IsTimeout:
		return fetchErr(ErrUnreachable, err, msgFetchNoHost, f.u.Host)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fetchErr(ErrUnreachable, err, msgFetchRefused, f.addr)
	case errors.As(err, &ne) && ne.Timeout():
		return fetchErr(ErrTimeout, err, msgFetchDialTimeout, f.addr, f.o.ConnectTimeout)
	default:
		return fetchErr(ErrUnreachable, err, msgFetchUnreachable, f.addr, causeText(err))
	}
}

func (f *fetcher) handshakeError(err error) error {
	if failure := f.getFailure(); failure != nil {
		return failure
	}
	if f.ctx.Err() != nil {
		return f.interrupted(f.ctx.Err())
	}
	if f.conn.timedOut() {
		return fetchErr(ErrTimeout, err, msgFetchHSTimeout, f.addr, f.o.ConnectTimeout)
	}
	f.mu.Lock()
	authStarted := f.authStarted
	f.mu.Unlock()
	if authStarted {
		hint := ""
		if f.triedKeys {
			hint = msgFetchAuthKeys
		}
		return fetchErr(ErrAuthFailed, err, msgFetchAuth, f.user, f.addr, hint)
	}
	return fetchErr(ErrTransfer, err, msgFetchHandshake, f.addr, causeText(err))
}

// transferError classifies a failure after login; format and args give the
// sentence when nothing more specific applies.
func (f *fetcher) transferError(err error, format string, args ...any) error {
	if f.ctx.Err() != nil {
		return f.interrupted(f.ctx.Err())
	}
	if f.conn.timedOut() {
		return fetchErr(ErrTimeout, err, msgFetchXferTimeout, f.u.Path, f.addr, f.o.TransferTimeout)
	}
	return fetchErr(ErrTransfer, err, format, args...)
}

func (f *fetcher) fileError(err error) error {
	switch {
	case f.ctx.Err() != nil || f.conn.timedOut():
		return f.transferError(err, msgFetchRead, f.u.Path, f.addr, causeText(err))
	case errors.Is(err, fs.ErrNotExist):
		return fetchErr(ErrNotFound, err, msgFetchNotFound, f.u.Path, f.addr)
	case errors.Is(err, fs.ErrPermission):
		return fetchErr(ErrPermission, err, msgFetchPermission, f.u.Path, f.addr, f.user)
	}
	var se *sftp.StatusError
	if errors.As(err, &se) {
		switch se.FxCode() {
		case sftp.ErrSSHFxNoSuchFile:
			return fetchErr(ErrNotFound, err, msgFetchNotFound, f.u.Path, f.addr)
		case sftp.ErrSSHFxPermissionDenied:
			return fetchErr(ErrPermission, err, msgFetchPermission, f.u.Path, f.addr, f.user)
		}
	}
	return f.transferError(err, msgFetchRead, f.u.Path, f.addr, causeText(err))
}

// causeText shortens a library error for quoting inside a sentence.
func causeText(err error) string {
	s := err.Error()
	for _, p := range []string{"ssh: handshake failed: ", "ssh: ", "sftp: "} {
		s = strings.TrimPrefix(s, p)
	}
	return strings.TrimSuffix(sentence.Short(s), ".")
}

// watchedConn remembers the first read or write error, to tell a deadline
// from a server that went away.
type watchedConn struct {
	net.Conn
	mu  sync.Mutex
	err error
}

func (c *watchedConn) note(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.note(err)
	}
	return n, err
}

func (c *watchedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.note(err)
	}
	return n, err
}

func (c *watchedConn) timedOut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Is(c.err, os.ErrDeadlineExceeded)
}
