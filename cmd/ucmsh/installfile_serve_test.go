package main

import (
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/ucmsh/ucmsh/internal/statedir"
	"github.com/ucmsh/ucmsh/internal/termtest"
)

// keyRecorder is an SSH server that records the public keys clients offer
// and admits nobody.
type keyRecorder struct {
	addr    string
	hostKey ssh.Signer
	mu      sync.Mutex
	offered []string
}

func startKeyRecorder(t *testing.T) *keyRecorder {
	t.Helper()
	host, _ := termtest.SSHKey(t)
	kr := &keyRecorder{hostKey: host}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			kr.mu.Lock()
			kr.offered = append(kr.offered, ssh.FingerprintSHA256(k))
			kr.mu.Unlock()
			return nil, errors.New("not this key")
		},
	}
	cfg.AddHostKey(host)
	ln := termtest.Listen(t, "tcp", "127.0.0.1:0", func(c net.Conn) { ssh.NewServerConn(c, cfg) })
	kr.addr = ln.Addr().String()
	return kr
}

func (kr *keyRecorder) keys() []string {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	return append([]string(nil), kr.offered...)
}

// The serving account's SSH agent and ~/.ssh keys are never offered by a
// session's install-file (installfile.Keys with userKeys=false): only the
// node's own install_file_key is. serve's log records each install-file
// login with its host, port, user and methods.
func TestServeInstallFileOffersNoUserKeys(t *testing.T) {
	// The serving account has an agent with a key and a key in ~/.ssh.
	agentKey, agentPriv := termtest.SSHKey(t)
	homeKey, homePriv := termtest.SSHKey(t)
	termtest.AsSSHUser(t, agentPriv, homePriv)

	kr := startKeyRecorder(t)
	state := t.TempDir()
	node := statedir.Node(state)
	nodeKey, nodePriv := termtest.SSHKey(t)
	termtest.WritePrivateKey(t, node.InstallFileKey(), nodePriv)
	line := knownhosts.Line([]string{knownhosts.Normalize(kr.addr)}, kr.hostKey.PublicKey()) + "\n"
	if err := os.WriteFile(node.KnownHosts(), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	l := startServeAt(t, state, "--now", "2026-11-01T10:00:00Z")
	c := l.dial("admin")
	for _, cmd := range []string{"license smart reservation enable", "license smart reservation request"} {
		if out, st := runExec(t, c, cmd, ""); st != 0 {
			t.Fatalf("%s: %d %q", cmd, st, out)
		}
	}
	out, st := runExec(t, c, "license smart reservation install-file sftp://ops@"+kr.addr+"/code.txt", "")
	if st != 1 || !strings.Contains(out, "Executed command unsuccessfully") {
		t.Fatalf("install-file: %d %q", st, out)
	}
	got := strings.Join(kr.keys(), " ")
	for name, k := range map[string]ssh.Signer{"agent": agentKey, "~/.ssh": homeKey} {
		if strings.Contains(got, ssh.FingerprintSHA256(k.PublicKey())) {
			t.Errorf("install-file under serve offered the serving account's %s key", name)
		}
	}
	if !strings.Contains(got, ssh.FingerprintSHA256(nodeKey.PublicKey())) {
		t.Errorf("the node's own key was not offered: %q", got)
	}
	_, port, _ := net.SplitHostPort(kr.addr)
	log := l.log.String()
	if !strings.Contains(log, `msg="install-file login failed" host=127.0.0.1 port=`+port+` user=ops auth=`) {
		t.Fatalf("serve's log does not record the install-file login:\n%s", log)
	}
}
