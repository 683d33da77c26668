package statedir_test

import (
	"path/filepath"
	"testing"

	"github.com/ucmsh/ucmsh/internal/statedir"
)

func TestRootFollowsXDGThenHome(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/x")
	if got := statedir.Root(); got != "/x/ucmsh" {
		t.Fatalf("Root() = %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/admin")
	if got := statedir.DefaultCSSM(); got != "/home/admin/.local/state/ucmsh/cssm" {
		t.Fatalf("DefaultCSSM() = %q", got)
	}
	t.Setenv("HOME", "")
	if statedir.DefaultNode() != filepath.Join(".ucmsh-state", "node") || statedir.DefaultCSSM() != filepath.Join(".ucmsh-state", "cssm") {
		t.Fatal("without a home the node and cssm do not share one root")
	}
}

func TestNodeLayout(t *testing.T) {
	n := statedir.Node("/s")
	for got, want := range map[string]string{
		n.State():          "/s/state.json",
		n.Lock():           "/s/state.lock",
		n.Trust():          "/s/trust",
		n.KnownHosts():     "/s/known_hosts",
		n.History():        "/s/history",
		n.HostKey():        "/s/ssh/host_key",
		n.HostKeyRSA():     "/s/ssh/host_key_rsa",
		n.Users():          "/s/ssh/users",
		n.AuthorizedKeys(): "/s/ssh/authorized_keys",
		n.InstallFileKey(): "/s/ssh/install_file_key",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
