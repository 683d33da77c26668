package installfile

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Host-key trust: the node's known_hosts, read with x/crypto's knownhosts,
// OpenSSH's question for an unknown host, a plain line appended on yes.

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
