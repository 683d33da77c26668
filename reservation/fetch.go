package reservation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
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
	// Signers gives the user's SSH keys or agent keys; nil means none.
	Signers func() ([]ssh.Signer, error)
	// ConnectTimeout (default 10s) and TransferTimeout (default 30s).
	ConnectTimeout, TransferTimeout time.Duration
	// MaxBytes is the largest file accepted (default 1 MiB).
	MaxBytes int64
	// Out receives the host-key text printed before Confirm and the
	// "Permanently added" notice; nil discards them.
	Out io.Writer
}

// Defaults of FetchOptions.
const (
	DefaultConnectTimeout  = 10 * time.Second
	DefaultTransferTimeout = 30 * time.Second
	DefaultMaxBytes        = 1 << 20
)

// Kinds of fetch failure, for errors.Is (a bad URL is ErrBadFormat, from
// ParseSFTPURL). Cancellation through ctx matches context.Canceled instead.
var (
	ErrUnreachable      = errors.New("reservation: SFTP server unreachable")
	ErrTimeout          = errors.New("reservation: SFTP timeout")
	ErrAuthFailed       = errors.New("reservation: SFTP authentication failed")
	ErrHostKeyChanged   = errors.New("reservation: SFTP host key changed")
	ErrHostKeyUntrusted = errors.New("reservation: SFTP host key not trusted")
	ErrKnownHosts       = errors.New("reservation: known_hosts unusable")
	ErrNotFound         = errors.New("reservation: file not found")
	ErrPermission       = errors.New("reservation: permission denied")
	ErrNotRegular       = errors.New("reservation: not a regular file")
	ErrTooLarge         = errors.New("reservation: file too large")
	ErrEmptyFile        = errors.New("reservation: file empty")
	ErrTransfer         = errors.New("reservation: SFTP transfer failed")
)

// Prompts and texts of the fetch, in one place.
const (
	PromptUserID   = "User ID:"
	PromptPassword = "Password:"
	PromptContinue = "Continue (y/n)?"

	// Printed to FetchOptions.Out (OpenSSH's wording).
	textUnknownHost = "The authenticity of host '%s (%s)' can't be established.\n%s key fingerprint is %s.\n"
	textAdded       = "Warning: Permanently added '%s' (%s) to the list of known hosts.\n"
	textNotAdded    = "Warning: the host key could not be saved to %s (%v); it will be asked again next time.\n"

	msgFetchURL         = "The SFTP URL is incomplete: use sftp://[user@]host[:port]/path."
	msgFetchNoUser      = "The URL has no user name and no one can type it here: put the user in the URL (sftp://user@%s%s) and try again."
	msgFetchEmptyUser   = "No user ID was given: type the SFTP account's user name, or put it in the URL (sftp://user@host:port/path)."
	msgFetchPrompt      = "The %s could not be read (%v): try again from a session that can answer it."
	msgFetchInterrupted = "The download of %s was interrupted: nothing was installed."
	msgFetchDeadline    = "The download of %s took longer than allowed: nothing was installed; try again."
	msgFetchRefused     = "The connection to %s was refused: check the host and port, and that the SFTP server is running."
	msgFetchNoHost      = "The host name %q cannot be resolved: check its spelling, or use the server's IP address."
	msgFetchUnreachable = "The server %s cannot be reached (%v): check the address and the network path to it."
	msgFetchDialTimeout = "The server %s did not answer within %v: check the host and port, and that no firewall blocks the connection."
	msgFetchHSTimeout   = "The server %s accepted the connection but did not complete the SSH login within %v: check that the port is the SFTP server's and try again."
	msgFetchHandshake   = "The SSH connection to %s failed (%v): check that the port is an SSH server's and try again."
	msgFetchKnownHosts  = "The known hosts file %s cannot be used (%v): fix or remove the bad line, or the file's permissions."
	msgFetchHostChanged = "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for %s: it sent %s key %s, which does not match the key in %s line %d, so someone could be eavesdropping (man-in-the-middle attack) or the host key has just been changed; check with the server's administrator, then remove the old key (ssh-keygen -R '%s' -f %s) and try again."
	msgFetchHostRekey   = "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for %s during the transfer: it sent %s key %s instead of the key it logged in with, so someone could be eavesdropping (man-in-the-middle attack); nothing was downloaded."
	msgFetchHostRevoked = "The host key of %s (%s %s) is marked as revoked in %s line %d: the server needs a new host key before files can be fetched from it."
	msgFetchHostBatch   = "The host key of %s is not trusted (%s key fingerprint %s): run the command once from an interactive session and answer y, or add the server's key to %s."
	msgFetchHostNo      = "Host key verification failed: the key of %s was not accepted, so nothing was downloaded."
	msgFetchHostOther   = "The host key of %s cannot be verified (%v): nothing was downloaded."
	msgFetchAuth        = "Authentication as %q on %s failed: check the user ID and password%s, then try again."
	msgFetchAuthKeys    = " (or that one of your SSH keys is authorized on the server)"
	msgFetchAuthNone    = "The server %s offers no login method this node can use for %q (it accepts: %s): allow password login for the account or authorize one of your SSH keys."
	msgFetchNoSFTP      = "The server %s does not offer SFTP (%v): enable its sftp subsystem, or use another server."
	msgFetchXferTimeout = "The download of %s from %s did not finish within %v: check the network and the server, and try again."
	msgFetchNotFound    = "The file %s does not exist on %s: check the path in the URL."
	msgFetchPermission  = "Permission denied reading %s on %s: make the file readable by %q, or use another account."
	msgFetchNotRegular  = "The path %s on %s is %s, not a regular file: give the path of the code file."
	msgFetchTooLarge    = "The file %s on %s is larger than %d bytes, too large for an authorization code: check that the URL names the code file."
	msgFetchEmpty       = "The file %s on %s is empty: copy the authorization code into it again."
	msgFetchRead        = "The file %s on %s could not be read (%v): try again."
)

// fetchError pairs a user-facing sentence with its kind and its cause.
type fetchError struct {
	kind, cause error
	msg         string
}

func (e *fetchError) Error() string { return e.msg }

func (e *fetchError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.kind, e.cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func fetchErr(kind, cause error, format string, args ...any) error {
	return &fetchError{kind: kind, cause: cause, msg: fmt.Sprintf(format, args...)}
}

// Fetch downloads the file u names over SFTP, for `license smart
// reservation install-file`, and returns its content. It does not check that
// the content is a code: ParseAuthCode does. Every failure is one sentence
// whose kind is one of the Err* sentinels above (or context.Canceled).
//
// Decisions:
//
//   - Prompts. With no user in the URL, Fetch asks "User ID:" then
//     "Password:" before connecting, as CUCM does for its other SFTP
//     transfers; only password and keyboard-interactive authentication are
//     then tried. With a user in the URL, the user's keys (FetchOptions.
//     Signers: key files or agent) are tried first, then "Password:" is asked
//     only if the server accepts passwords and the keys did not work, then
//     keyboard-interactive (only when the server does not take passwords, so
//     a wrong password is never sent twice). The password is asked at most
//     once and never retried: a failure ends the command.
//   - Host keys are checked against the node's known_hosts (OpenSSH format,
//     created 0600, its directory 0700). A key accepted at the question is
//     appended in plain form ("[host]:port ssh-ed25519 AAAA..."), not hashed:
//     the file is the node's own list of trusted SFTP servers, and an admin
//     auditing it must be able to read which servers those are; ssh-keygen -F
//     and -R work on it either way, and hashed lines written by hand are read.
//   - A host already known with a key of another type counts as a changed
//     key (OpenSSH would ask): a node fetching signed codes should not trust
//     a new key silently. The known key types are offered first so that a
//     server holding several keys is not mistaken for a changed one.
//   - The path is absolute, except that "/~/" at its start stands for the
//     account's login directory, as in the SFTP URI draft
//     (sftp://user@host/~/code.txt).
//   - Host certificates (@cert-authority) are not used: only plain host keys
//     are offered and checked.
//   - The connect timeout bounds the TCP connection, the SSH handshake and
//     authentication, not counting the time a person takes to answer; the
//     transfer timeout bounds everything after authentication. Cancelling
//     ctx (Control-C) closes the connection at once; the error then matches
//     errors.Is(err, context.Canceled).
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
		return nil, fetchErr(ErrBadFormat, nil, msgFetchURL)
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

	triedKeys bool // keys were offered
	noKeys    bool // Signers gave none

	mu          sync.Mutex    // the host-key callback runs on another goroutine
	failure     error         // set by the host-key and auth callbacks
	accepted    ssh.PublicKey // the host key once checked (key re-exchanges)
	authStarted bool
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
		return nil, f.handshakeError(err)
	}
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

// ---- Questions ----

func (f *fetcher) askUser() error {
	if f.o.Ask == nil {
		return fetchErr(ErrAuthFailed, nil, msgFetchNoUser, f.addr, f.u.Path)
	}
	user, err := f.o.Ask(f.ctx, PromptUserID)
	if err != nil {
		return f.promptError("user ID", err)
	}
	f.user = strings.TrimSpace(user)
	if f.user == "" {
		return fetchErr(ErrAuthFailed, nil, msgFetchEmptyUser)
	}
	f.askedUser = true
	// CUCM asks both before connecting.
	if f.o.Secret != nil {
		if _, err := f.getPassword(); err != nil {
			return err
		}
	}
	return nil
}

func (f *fetcher) getPassword() (string, error) {
	if f.hasPassword {
		return f.password, nil
	}
	pw, err := f.secret(PromptPassword)
	if err != nil {
		return "", err
	}
	f.password, f.hasPassword = pw, true
	return pw, nil
}

// secret asks a not-echoed question, with the connection's deadline
// suspended while a person answers.
func (f *fetcher) secret(prompt string) (string, error) {
	defer f.pause()()
	s, err := f.o.Secret(f.ctx, prompt)
	if err != nil {
		return "", f.setFailure(f.promptError("password", err))
	}
	return s, nil
}

func (f *fetcher) ask(prompt string) (string, error) {
	defer f.pause()()
	s, err := f.o.Ask(f.ctx, prompt)
	if err != nil {
		return "", f.setFailure(f.promptError("answer", err))
	}
	return s, nil
}

// pause lifts the connection deadline while a person answers and returns
// the function that sets a fresh one.
func (f *fetcher) pause() func() {
	if f.conn == nil {
		return func() {}
	}
	f.conn.SetDeadline(time.Time{})
	return func() { f.conn.SetDeadline(time.Now().Add(f.timeout)) }
}

func (f *fetcher) promptError(what string, err error) error {
	if f.ctx.Err() != nil {
		return f.interrupted(f.ctx.Err())
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return f.interrupted(err)
	}
	return fetchErr(ErrAuthFailed, err, msgFetchPrompt, what, err)
}

func (f *fetcher) setFailure(err error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failure == nil {
		f.failure = err
	}
	return f.failure
}

func (f *fetcher) getFailure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failure
}

// ---- Host keys ----

func (f *fetcher) loadKnownHosts() error {
	path := f.o.KnownHosts
	if path == "" {
		return fetchErr(ErrKnownHosts, nil, msgFetchKnownHosts, `""`, "no path given")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fetchErr(ErrKnownHosts, err, msgFetchKnownHosts, path, err)
	}
	fh, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fetchErr(ErrKnownHosts, err, msgFetchKnownHosts, path, err)
	}
	fh.Close()
	known, err := knownhosts.New(path)
	if err != nil {
		return fetchErr(ErrKnownHosts, err, msgFetchKnownHosts, path, strings.TrimPrefix(err.Error(), "knownhosts: "))
	}
	f.known = known
	// Which keys are known for this address: ask with a key that cannot
	// match.
	_, probe, err := ed25519.GenerateKey(nil)
	if err != nil {
		return fetchErr(ErrKnownHosts, err, msgFetchKnownHosts, path, err)
	}
	sp, err := ssh.NewSignerFromKey(probe)
	if err != nil {
		return fetchErr(ErrKnownHosts, err, msgFetchKnownHosts, path, err)
	}
	var ke *knownhosts.KeyError
	if errors.As(known(f.addr, placeholderAddr{}, sp.PublicKey()), &ke) {
		f.knownKeys = ke.Want
	}
	return nil
}

type placeholderAddr struct{}

func (placeholderAddr) Network() string { return "tcp" }
func (placeholderAddr) String() string  { return "0.0.0.0:0" }

// hostKeyAlgorithms offers the algorithms of the known keys first, then
// every other plain-key algorithm the library deems secure.
func hostKeyAlgorithms(known []knownhosts.KnownKey) []string {
	var plain []string
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		if !strings.Contains(a, "-cert-") {
			plain = append(plain, a)
		}
	}
	var out []string
	for _, k := range known {
		algos := []string{k.Key.Type()}
		if k.Key.Type() == ssh.KeyAlgoRSA {
			algos = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
		}
		for _, a := range algos {
			if slices.Contains(plain, a) && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	for _, a := range plain {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func (f *fetcher) checkHostKey(hostname string, remote net.Addr, key ssh.PublicKey) error {
	f.mu.Lock()
	accepted := f.accepted
	f.mu.Unlock()
	if accepted != nil {
		// A later key exchange on the same connection: the key must not
		// change.
		if bytes.Equal(accepted.Marshal(), key.Marshal()) {
			return nil
		}
		return f.setFailure(fetchErr(ErrHostKeyChanged, nil, msgFetchHostRekey, knownhosts.Normalize(f.addr), keyKind(key), ssh.FingerprintSHA256(key)))
	}
	err := f.known(hostname, remote, key)
	if err == nil {
		f.accept(key)
		return nil
	}
	name := knownhosts.Normalize(f.addr)
	var re *knownhosts.RevokedError
	var ke *knownhosts.KeyError
	switch {
	case errors.As(err, &re):
		err = fetchErr(ErrHostKeyUntrusted, err, msgFetchHostRevoked, name, keyKind(key), ssh.FingerprintSHA256(key), re.Revoked.Filename, re.Revoked.Line)
	case errors.As(err, &ke) && len(ke.Want) > 0:
		w := ke.Want[0]
		err = fetchErr(ErrHostKeyChanged, err, msgFetchHostChanged, name, keyKind(key), ssh.FingerprintSHA256(key), w.Filename, w.Line, name, f.o.KnownHosts)
	case errors.As(err, &ke):
		err = f.unknownHost(name, remote, key)
	default:
		err = fetchErr(ErrHostKeyUntrusted, err, msgFetchHostOther, name, err)
	}
	if err != nil {
		return f.setFailure(err)
	}
	f.accept(key)
	return nil
}

func (f *fetcher) accept(key ssh.PublicKey) {
	f.mu.Lock()
	f.accepted = key
	f.mu.Unlock()
}

// unknownHost asks a person whether to trust key, OpenSSH-style.
func (f *fetcher) unknownHost(name string, remote net.Addr, key ssh.PublicKey) error {
	kind, fp := keyKind(key), ssh.FingerprintSHA256(key)
	if !f.o.Interactive || f.o.Confirm == nil {
		return fetchErr(ErrHostKeyUntrusted, nil, msgFetchHostBatch, name, kind, fp, f.o.KnownHosts)
	}
	ip := name
	if remote != nil {
		ip = knownhosts.Normalize(remote.String())
	}
	fmt.Fprintf(f.o.Out, textUnknownHost, name, ip, kind, fp)
	resume := f.pause()
	yes, err := f.o.Confirm(f.ctx, PromptContinue)
	resume()
	if err != nil {
		if f.ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return f.interrupted(err)
		}
		return fetchErr(ErrHostKeyUntrusted, err, msgFetchHostNo, name)
	}
	if !yes {
		return fetchErr(ErrHostKeyUntrusted, nil, msgFetchHostNo, name)
	}
	if err := appendKnownHost(f.o.KnownHosts, knownhosts.Line([]string{name}, key)); err != nil {
		fmt.Fprintf(f.o.Out, textNotAdded, f.o.KnownHosts, err)
	} else {
		fmt.Fprintf(f.o.Out, textAdded, name, kind)
	}
	return nil
}

// appendKnownHost adds one line, starting a new line if the file does not
// end with one.
func appendKnownHost(path, line string) error {
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	if fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := fh.ReadAt(last, fi.Size()-1); err != nil {
			return err
		}
		if last[0] != '\n' {
			line = "\n" + line
		}
	}
	if _, err := fh.WriteString(line + "\n"); err != nil {
		return err
	}
	if err := fh.Sync(); err != nil {
		return err
	}
	return fh.Close()
}

// keyKind names a key type as OpenSSH prints it ("ED25519", "RSA", ...).
func keyKind(k ssh.PublicKey) string {
	switch t := k.Type(); {
	case t == ssh.KeyAlgoED25519:
		return "ED25519"
	case t == ssh.KeyAlgoRSA:
		return "RSA"
	case strings.HasPrefix(t, "ecdsa-"):
		return "ECDSA"
	case t == ssh.KeyAlgoSKED25519:
		return "ED25519-SK"
	case t == ssh.KeyAlgoSKECDSA256:
		return "ECDSA-SK"
	case t == ssh.InsecureKeyAlgoDSA:
		return "DSA"
	default:
		return strings.ToUpper(strings.TrimPrefix(t, "ssh-"))
	}
}

// ---- Authentication ----

// nextAuth picks each authentication attempt (see the package decisions).
func (f *fetcher) nextAuth(ac *ssh.ClientAuthContext) (ssh.AuthMethod, error) {
	f.mu.Lock()
	f.authStarted = true
	failure := f.failure
	f.mu.Unlock()
	if failure != nil { // a question was interrupted
		return nil, failure
	}
	if f.conn.timedOut() { // the last attempt died of the deadline
		return nil, f.setFailure(fetchErr(ErrTimeout, os.ErrDeadlineExceeded, msgFetchHSTimeout, f.addr, f.o.ConnectTimeout))
	}
	allowed := func(m string) bool { return slices.Contains(ac.AllowedMethods, m) }
	tried := func(m string) bool { return slices.Contains(ac.TriedMethods, m) }

	if !f.askedUser && !f.noKeys && f.o.Signers != nil && allowed("publickey") && !tried("publickey") {
		signers, err := f.o.Signers()
		if err == nil && len(signers) > 0 {
			f.triedKeys = true
			return ssh.PublicKeys(signers...), nil
		}
		f.noKeys = true
	}
	canPassword := f.hasPassword || f.o.Secret != nil
	if canPassword && allowed("password") && !tried("password") {
		return ssh.PasswordCallback(f.getPassword), nil
	}
	if canPassword && allowed("keyboard-interactive") && !tried("keyboard-interactive") && !tried("password") {
		return ssh.KeyboardInteractive(f.challenge), nil
	}

	if len(ac.TriedMethods) > 1 || (len(ac.TriedMethods) == 1 && ac.TriedMethods[0] != "none") {
		hint := ""
		if f.triedKeys {
			hint = msgFetchAuthKeys
		}
		return nil, f.setFailure(fetchErr(ErrAuthFailed, nil, msgFetchAuth, f.user, f.addr, hint))
	}
	methods := strings.Join(ac.AllowedMethods, ", ")
	if methods == "" {
		methods = "none"
	}
	return nil, f.setFailure(fetchErr(ErrAuthFailed, nil, msgFetchAuthNone, f.addr, f.user, methods))
}

// challenge answers keyboard-interactive questions: the first hidden one
// with the password, the others by asking.
func (f *fetcher) challenge(name, instruction string, questions []string, echos []bool) ([]string, error) {
	answers := make([]string, len(questions))
	usedPassword := false
	for i, q := range questions {
		prompt := strings.TrimSpace(q)
		var err error
		switch {
		case i < len(echos) && echos[i]:
			if f.o.Ask == nil {
				return nil, errors.New("no one can answer " + prompt)
			}
			answers[i], err = f.ask(prompt)
		case !usedPassword:
			usedPassword = true
			answers[i], err = f.getPassword()
		default:
			answers[i], err = f.secret(prompt)
		}
		if err != nil {
			return nil, err
		}
	}
	return answers, nil
}

// ---- Errors ----

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
	return strings.TrimSuffix(short(s), ".")
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
