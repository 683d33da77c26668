package commands

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/statedir"
)

// A licensing server the admin trusts, gone hostile, answers with terminal
// control sequences in account names and messages: the shell shows them
// escaped, so the server can neither retitle nor clear the terminal, nor
// forge an admin: prompt.
func TestHostileServerTextReachesTheTerminalEscaped(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body := 200, `{"instance_id":"i","credential":"c","smart_account":"\u001b]0;owned\u0007SA","virtual_account":"VA\r\nadmin: ","export_allowed":true}`
		switch r.URL.Path {
		case cssmapi.PathAuthorize:
			status, body = 409, `{"code":"no_export_keys","message":"\u001b[2J\u001b[Hadmin:\r"}`
		case cssmapi.PathExportRequest:
			status, body = 403, `{"code":"x\u001b","message":"refused\u001b[8m hidden \r\nadmin: "}`
		}
		sig, _ := cssmapi.SignAnswer(key, r.URL.Path, r.Header.Get(cssmapi.HeaderIdempotencyKey), status, []byte(body))
		w.Header().Set(cssmapi.HeaderSignature, sig)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	n := newNode(t)
	pub, _ := cssm.PublicKeyPEM(&key.PublicKey)
	if err := os.WriteFile(filepath.Join(statedir.Node(n.store.Dir()).Trust(), "cssm.pem"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	r := n.at(t0, labUsage)
	var out strings.Builder
	for _, line := range []string{
		"license smart transport ssm-satellite " + srv.URL,
		"license smart register idtoken tok",
		"license smart export request local CUCM_Export_Restricted_Authorization_Key",
		"show license status",
		"show license trace",
	} {
		o, _ := run(r, line)
		out.WriteString(o)
	}
	if i := strings.IndexAny(out.String(), "\x1b\r\a"); i >= 0 {
		t.Fatalf("raw control character from the server at %d:\n%q", i, out.String())
	}
	if !strings.Contains(out.String(), `\x1b]0;owned`) {
		t.Fatalf("the server's text is not shown, escaped:\n%s", out.String())
	}
}
