// Command cssm-bench measures cssm's product API at a given store size: it
// grows a store to N product instances and measures, over the last stretch,
// how many products per second register and then renew authorization (a usage
// report) against a real cssm HTTP server on 127.0.0.1. It ends with one line:
//
//	cssm-bench: store=S instances=N rate=R/s rss=M MiB bytes-per-registration=B
//
// R counts products, each one registration and one authorization (2R requests
// per second); M is the server's peak resident memory; B is what the database
// wrote per product in the stretch (SQLite: the server's bytes written to
// disk; PostgreSQL: its WAL bytes).
//
// The instances before the stretch are added directly through the store, in
// transactions of a few thousand registrations each, so that large sizes take
// seconds rather than hours; the stretch goes through HTTP. The server runs in
// a child process (this program re-executed) so that its memory and disk
// writes are its own.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/cssmapi"
)

const (
	serverEnv   = "CSSM_BENCH_SERVER_STORE"
	serverDBEnv = "CSSM_BENCH_SERVER_DATABASE"
)

func main() {
	if dir := os.Getenv(serverEnv); dir != "" {
		if err := runServer(dir, os.Getenv(serverDBEnv)); err != nil {
			log.Fatalf("cssm-bench server: %v", err)
		}
		return
	}
	n := flag.Int("instances", 10000, "grow the store to this many product instances")
	stretch := flag.Int("stretch", 5000, "how many of the last instances register through HTTP and are measured")
	conc := flag.Int("c", 64, "concurrent products")
	database := flag.String("database", "sqlite", "sqlite, or a postgres:// URL (its schema must be empty: the benchmark fills it)")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	storeDir := flag.String("store", "", "store directory (default: a new temporary one, removed afterwards)")
	flag.Parse()
	if *database == "json" {
		fmt.Fprintln(os.Stderr, "cssm-bench: the JSON store (cssm.json) was replaced by the database; its figures, measured with the last cssm that had it, are in bench/cssm/README.md")
		os.Exit(2)
	}
	if err := run(*n, min(*stretch, *n), *conc, *database, *timeout, *storeDir); err != nil {
		fmt.Fprintf(os.Stderr, "cssm-bench: %v\n", err)
		os.Exit(1)
	}
}

var (
	tagEnhanced = cssmapi.Entitlements[2].Tag
	tagBasic    = cssmapi.Entitlements[3].Tag
)

func udi(i int) string { return fmt.Sprintf("PID:UCM,SN:%05x,UUID:%032x", i&0xfffff, i) }
func usage(i int) []cssmapi.Usage {
	return []cssmapi.Usage{{Tag: tagEnhanced, Count: 1 + i%5}, {Tag: tagBasic, Count: i % 3}}
}

func run(n, stretch, conc int, database string, timeout time.Duration, storeDir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if storeDir == "" {
		tmp, err := os.MkdirTemp("", "cssm-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		storeDir = filepath.Join(tmp, "store")
	}
	kind := "sqlite"
	if database != "sqlite" {
		kind = "postgres"
	}

	store, err := cssm.OpenDatabase(storeDir, database)
	if err != nil {
		return err
	}
	token, err := setUp(store, n)
	if err != nil {
		return err
	}
	growStart := time.Now()
	if err := grow(ctx, store, token, n-stretch); err != nil {
		return err
	}
	fmt.Printf("cssm-bench: grew the store to %d instances through the store in %s\n", n-stretch, time.Since(growStart).Round(time.Millisecond))
	key, err := store.SigningKey() // the key a node trusting this cssm holds
	store.Close()
	if err != nil {
		return err
	}
	if kind == "postgres" { // statistics for the planner, as autovacuum would make
		if db, err := sql.Open("pgx", database); err == nil {
			db.Exec("ANALYZE")
			db.Close()
		}
	}
	// Growing leaves the disk cache full of dirty pages; the kernel writing
	// them back during the stretch would slow each commit's fsync with work
	// that is not the stretch's own.
	syscall.Sync()

	srv, addr, startup, err := startServer(ctx, storeDir, database)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Printf("cssm-bench: the server was serving %s after starting on the grown store\n", startup.Round(time.Millisecond))

	walBefore := walBytes(database)
	ioBefore := srv.writeBytes()
	client := &cssmapi.Client{
		BaseURL: "http://" + addr,
		Trusted: []*ecdsa.PublicKey{&key.PublicKey},
		HTTP: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: time.Minute,
		}},
	}
	var (
		next      atomic.Int64
		failed    atomic.Int64
		firstErr  error
		errOnce   sync.Once
		latMu     sync.Mutex
		latencies = make([]time.Duration, 0, 2*stretch)
		wg        sync.WaitGroup
		start     = time.Now()
	)
	recordFail := func(err error) {
		failed.Add(1)
		errOnce.Do(func() { firstErr = err })
	}
	for range conc {
		wg.Go(func() {
			var mine []time.Duration
			for {
				i := n - stretch + int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					break
				}
				t0 := time.Now()
				reg, err := client.Register(ctx, cssmapi.RegisterRequest{Token: token, UDI: udi(i), Hostname: fmt.Sprintf("cucm-%07d", i), Version: "15.0.1"})
				t1 := time.Now()
				if err != nil {
					recordFail(err)
					continue
				}
				auth, err := client.Authorize(ctx, reg.Identity(), usage(i))
				t2 := time.Now()
				if err == nil && auth.Status != cssmapi.StatusAuthorized {
					err = fmt.Errorf("instance %d: status %s, want %s", i, auth.Status, cssmapi.StatusAuthorized)
				}
				if err != nil {
					recordFail(err)
					continue
				}
				mine = append(mine, t1.Sub(t0), t2.Sub(t1))
			}
			latMu.Lock()
			latencies = append(latencies, mine...)
			latMu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return fmt.Errorf("stopped after %s (-timeout): %d of %d instances done", timeout, len(latencies)/2, stretch)
	}
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d instances failed; first error: %v", f, firstErr)
	}
	written := srv.writeBytes() - ioBefore
	if kind == "postgres" {
		written = walBytes(database) - walBefore
	}
	rssKB := srv.peakRSSKB()
	srv.stop()

	// Everything answered was committed: read it back, and time the portal's views.
	store, err = cssm.OpenDatabase(storeDir, database)
	if err != nil {
		return err
	}
	defer store.Close()
	p := &cssm.Portal{Store: store, Clock: clock.System{}}
	t0 := time.Now()
	report, err := p.Usage("bench")
	usageTook := time.Since(t0)
	if err != nil {
		return err
	}
	if report.Instances != n {
		return fmt.Errorf("the store holds %d instances, want %d", report.Instances, n)
	}
	t0 = time.Now()
	page, cur, err := p.InstancePage("bench", cssm.InstanceCursor{}, 100)
	if err == nil {
		_, _, err = p.InstancePage("bench", cur, 100)
	}
	pageTook := time.Since(t0) / 2
	if err != nil || len(page) != min(100, n) {
		return fmt.Errorf("instance list: %d rows, %v", len(page), err)
	}

	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		return latencies[int(float64(len(latencies)-1)*p)].Round(time.Microsecond)
	}
	rate := float64(stretch) / elapsed.Seconds()
	fmt.Printf("cssm-bench: the last %d instances registered and authorized in %s with %d concurrent products on %d CPUs (%.0f requests/s)\n",
		stretch, elapsed.Round(time.Millisecond), conc, runtime.NumCPU(), 2*rate)
	fmt.Printf("cssm-bench: latency per request: p50 %s, p99 %s, max %s\n", pct(0.50), pct(0.99), pct(1))
	fmt.Printf("cssm-bench: cssm usage %s, a page of 100 instances %s, at %d instances\n", usageTook.Round(time.Microsecond), pageTook.Round(time.Microsecond), n)
	fmt.Printf("cssm-bench: store=%s instances=%d rate=%.0f/s rss=%.0f MiB bytes-per-registration=%d\n",
		kind, n, rate, float64(rssKB)/1024, written/int64(stretch))
	return nil
}

// setUp is what an admin does in the portal before products register.
func setUp(store *cssm.Store, n int) (string, error) {
	p := &cssm.Portal{Store: store, Clock: clock.System{}}
	if _, err := p.CreateAccount("Bench", "bench"); err != nil {
		return "", err
	}
	for _, l := range []cssm.LicenseSpec{{Tier: "Enhanced", Count: 5 * n}, {Tier: "Basic", Count: 2 * n}} {
		if _, err := p.AddLicense("bench", l); err != nil {
			return "", err
		}
	}
	return p.CreateToken("bench", cssm.TokenOptions{ExpiresDays: 1})
}

// grow registers and authorizes products 0..n-1 directly through the store.
func grow(ctx context.Context, store *cssm.Store, token string, n int) error {
	const batch = 5000
	for from := 0; from < n; from += batch {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("growing the store: stopped at %d instances (-timeout)", from)
		}
		if err := cssm.Grow(store, time.Now(), token, from, min(n, from+batch), udi, usage); err != nil {
			return fmt.Errorf("growing the store at %d instances: %w", from, err)
		}
	}
	return nil
}

type server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	once  sync.Once
}

// startServer re-executes this program as the server; it exits when its stdin
// closes, so it cannot outlive the benchmark. It returns how long the server
// took from its start to listening.
func startServer(ctx context.Context, dir, database string) (*server, string, time.Duration, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", 0, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), serverEnv+"="+dir, serverDBEnv+"="+database)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, "", 0, err
	}
	s := &server{cmd: cmd, stdin: stdin}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	took := time.Since(start)
	if err != nil {
		s.stop()
		return nil, "", 0, errors.New("the benchmark server did not start")
	}
	return s, strings.TrimSpace(addr), took, nil
}

func (s *server) peakRSSKB() int64  { return procField(s.cmd.Process.Pid, "status", "VmHWM:") }
func (s *server) writeBytes() int64 { return procField(s.cmd.Process.Pid, "io", "write_bytes:") }

func (s *server) stop() {
	s.once.Do(func() {
		s.stdin.Close()
		_ = s.cmd.Wait()
	})
}

func runServer(dir, database string) error {
	store, err := cssm.OpenDatabase(dir, database)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	api := cssm.NewServer(store, clock.System{}, log.New(os.Stderr, "cssm-bench server: ", 0))
	srv := cssm.NewHTTPServer(api, nil)
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(ln.Addr())
	stop := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stop) }()
	select {
	case <-stop:
	case <-time.After(30 * time.Minute):
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	api.Close()
	return store.Close()
}

// procField reads a number from /proc/<pid>/<file> (VmHWM in kB, write_bytes in bytes).
func procField(pid int, file, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// walBytes is PostgreSQL's WAL written so far (0 for SQLite).
func walBytes(database string) int64 {
	if !strings.HasPrefix(database, "postgres") {
		return 0
	}
	db, err := sql.Open("pgx", database)
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int64
	db.QueryRow(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&n)
	return n
}
