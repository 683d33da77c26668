package cssm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssmapi"
)

func TestServeListensOnlyOnLoopbackUnlessAllowed(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8443": true,
		"[::1]:8443":     true,
		"localhost:8443": true,
		"0.0.0.0:8443":   false,
		":8443":          false,
		"10.1.2.3:8443":  false,
		"cssm.lab:8443":  false,
		"127.0.0.1":      false, // no port
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
	}
	s, _ := openStore(t, t.TempDir())
	defer s.Close()
	err := Serve(t.Context(), s, clock.System{}, ServeConfig{Listen: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("Serve on 0.0.0.0: %v", err)
	}
}

// serve runs Serve until the test ends and returns its start-up lines once it listens.
func serve(t *testing.T, cfg ServeConfig) (base string, startup string) {
	t.Helper()
	root := t.TempDir()
	s, err := openStore(t, filepath.Join(root, "cssm"))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cfg.Listen, cfg.Out = "127.0.0.1:0", pw
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, s, clock.Fixed(t0), cfg); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		s.Close()
	})
	var lines strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		lines.WriteString(sc.Text() + "\n")
		if m := regexp.MustCompile(`serving the product API on (\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, pr)
			return m[1], lines.String()
		}
	}
	t.Fatalf("Serve did not start:\n%s", lines.String())
	return "", ""
}

func TestServeAnswersAndStops(t *testing.T) {
	base, startup := serve(t, ServeConfig{})
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("URL %s", base)
	}
	if !strings.Contains(startup, filepath.Join("node", "trust", "cssm.pem")) {
		t.Errorf("start-up does not say where the public key went:\n%s", startup)
	}
	resp, err := http.Get(base + cssmapi.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health: %s", resp.Status)
	}
}

func TestServeTLSPrintsTheFingerprint(t *testing.T) {
	base, startup := serve(t, ServeConfig{TLS: true})
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("URL %s", base)
	}
	if !regexp.MustCompile(`TLS certificate SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}\n`).MatchString(startup) {
		t.Fatalf("no fingerprint in:\n%s", startup)
	}
}

// A test suite listens on port 0 and reads where from the ready file,
// written once requests are accepted and removed once the server has
// stopped; a ready file that cannot be written stops the server before it
// serves.
func TestServeReadyFile(t *testing.T) {
	s, _ := openStore(t, t.TempDir())
	defer s.Close()
	ready := filepath.Join(t.TempDir(), "cssm.ready")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, s, clock.Fixed(t0), ServeConfig{Listen: "127.0.0.1:0", TLS: true, ReadyFile: ready})
	}()
	data, err := os.ReadFile(ready)
	for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		data, err = os.ReadFile(ready)
	}
	if err != nil {
		t.Fatal(err)
	}
	var r Ready
	if err := json.Unmarshal(data, &r); err != nil || !strings.HasPrefix(r.URL, "https://127.0.0.1:") {
		t.Fatalf("ready file %s: %v", data, err)
	}
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(r.URL, "https://"), 5*time.Second)
	if err != nil {
		t.Fatalf("nothing listens at the ready file's URL: %v", err)
	}
	c.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ready); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the ready file outlived the server: %v", err)
	}

	err = Serve(t.Context(), s, clock.System{}, ServeConfig{Listen: "127.0.0.1:0", ReadyFile: filepath.Join(t.TempDir(), "no", "such", "folder", "ready")})
	if err == nil || !strings.Contains(err.Error(), "ready file") {
		t.Fatalf("Serve with an unwritable ready file: %v", err)
	}
}

// A scheduled sync that panics (here: a portal with no store) is an error
// the schedule logs, not the end of the serving process.
func TestScheduledSyncPanicIsAnError(t *testing.T) {
	_, err := syncOnce(context.Background(), &Portal{}, http.DefaultClient)
	if err == nil || !strings.Contains(err.Error(), "satellite sync: panic") {
		t.Fatalf("syncOnce = %v", err)
	}
}
