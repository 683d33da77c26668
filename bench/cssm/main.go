// Command cssm-bench measures cssm's product API: N product instances each register
// and then renew authorization (a usage report) against a real cssm HTTP server on
// 127.0.0.1, and it reports instances per second and peak memory.
//
// The server runs in a child process (this program re-executed) so that its peak
// memory is its own; the store is a fresh temporary directory unless -store is given.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/cssmapi"
)

const serverEnv = "CSSM_BENCH_SERVER_STORE"

func main() {
	if dir := os.Getenv(serverEnv); dir != "" {
		if err := runServer(dir); err != nil {
			log.Fatalf("cssm-bench server: %v", err)
		}
		return
	}
	n := flag.Int("n", 10000, "product instances")
	conc := flag.Int("c", 64, "concurrent products")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	storeDir := flag.String("store", "", "store directory (default: a new temporary one, removed afterwards)")
	flag.Parse()
	if err := run(*n, *conc, *timeout, *storeDir); err != nil {
		fmt.Fprintf(os.Stderr, "cssm-bench: %v\n", err)
		os.Exit(1)
	}
}

var (
	tagEnhanced = cssmapi.Entitlements[2].Tag
	tagBasic    = cssmapi.Entitlements[3].Tag
)

func run(n, conc int, timeout time.Duration, storeDir string) error {
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
	token, err := setUp(storeDir, n)
	if err != nil {
		return err
	}

	srv, addr, err := startServer(ctx, storeDir)
	if err != nil {
		return err
	}
	defer srv.stop()

	store := mustOpen(storeDir)
	key, err := store.SigningKey() // the key a node trusting this cssm holds
	store.Close()
	if err != nil {
		return err
	}
	client := &cssmapi.Client{
		BaseURL: "http://" + addr,
		Trusted: []*ecdsa.PublicKey{&key.PublicKey},
		HTTP: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: time.Minute,
		}},
	}
	var (
		next       atomic.Int64
		failed     atomic.Int64
		firstErr   error
		errOnce    sync.Once
		latMu      sync.Mutex
		latencies  = make([]time.Duration, 0, 2*n)
		wg         sync.WaitGroup
		start      = time.Now()
		recordFail = func(err error) {
			failed.Add(1)
			errOnce.Do(func() { firstErr = err })
		}
	)
	for range conc {
		wg.Go(func() {
			var mine []time.Duration
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					break
				}
				t0 := time.Now()
				reg, err := client.Register(ctx, cssmapi.RegisterRequest{
					Token:    token,
					UDI:      fmt.Sprintf("PID:UCM,SN:%05x,UUID:%032x", i&0xfffff, i),
					Hostname: fmt.Sprintf("cucm-%05d", i),
					Version:  "15.0.1",
				})
				t1 := time.Now()
				if err != nil {
					recordFail(err)
					continue
				}
				auth, err := client.Authorize(ctx, reg.Identity(), []cssmapi.Usage{{Tag: tagEnhanced, Count: 1 + i%5}, {Tag: tagBasic, Count: i % 3}})
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
		return fmt.Errorf("stopped after %s (-timeout): %d of %d instances done", timeout, len(latencies)/2, n)
	}
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d instances failed; first error: %v", f, firstErr)
	}
	serverHWM := srv.peakRSS()
	srv.stop()

	// Everything answered was saved: read it back from the store.
	report, err := (&cssm.Portal{Store: mustOpen(storeDir), Clock: clock.System{}}).Usage("bench")
	if err != nil {
		return err
	}
	if report.Instances != n {
		return fmt.Errorf("the store holds %d instances, want %d", report.Instances, n)
	}
	fi, _ := os.Stat(filepath.Join(storeDir, "cssm.json"))

	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		return latencies[int(float64(len(latencies)-1)*p)].Round(time.Microsecond)
	}
	fmt.Printf("cssm-bench: %d instances registered and authorized in %s with %d concurrent products on %d CPUs\n",
		n, elapsed.Round(time.Millisecond), conc, runtime.NumCPU())
	fmt.Printf("  throughput: %.0f instances/s (%.0f requests/s)\n", float64(n)/elapsed.Seconds(), float64(2*n)/elapsed.Seconds())
	fmt.Printf("  latency per request: p50 %s, p99 %s, max %s\n", pct(0.50), pct(0.99), pct(1))
	fmt.Printf("  peak memory (VmHWM): server %s, benchmark client %s\n", serverHWM, peakRSS("self"))
	fmt.Printf("  store: cssm.json %.1f MiB, verified %d instances\n", float64(fi.Size())/(1<<20), report.Instances)
	return nil
}

func mustOpen(dir string) *cssm.Store {
	s, err := cssm.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	return s
}

// setUp is what an admin does in the portal before products register.
func setUp(dir string, n int) (string, error) {
	p := &cssm.Portal{Store: mustOpen(dir), Clock: clock.System{}}
	if _, err := p.CreateAccount("Bench", "bench"); err != nil {
		return "", err
	}
	for _, l := range []cssm.LicenseSpec{{Tier: "Enhanced", Count: 5 * n}, {Tier: "Basic", Count: 2 * n}} {
		if _, err := p.AddLicense("bench", l); err != nil {
			return "", err
		}
	}
	return p.CreateToken("bench", cssm.TokenOptions{ExpiresDays: 1, MaxUses: n})
}

type server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	once  sync.Once
}

// startServer re-executes this program as the server; it exits when its stdin
// closes, so it cannot outlive the benchmark.
func startServer(ctx context.Context, dir string) (*server, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), serverEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	s := &server{cmd: cmd, stdin: stdin}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		s.stop()
		return nil, "", errors.New("the benchmark server did not start")
	}
	return s, strings.TrimSpace(addr), nil
}

func (s *server) peakRSS() string { return peakRSS(fmt.Sprint(s.cmd.Process.Pid)) }

func (s *server) stop() {
	s.once.Do(func() {
		s.stdin.Close()
		_ = s.cmd.Wait()
	})
}

func runServer(dir string) error {
	store, err := cssm.Open(dir)
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
	case <-time.After(10 * time.Minute):
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	api.Close()
	return nil
}

// peakRSS reads VmHWM (peak resident set) of a process from /proc.
func peakRSS(pid string) string {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
