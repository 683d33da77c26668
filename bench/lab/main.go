// Command lab measures `ucmsh lab` at fleet size: 1,000 nodes (100
// clusters of 10) in one lab, started from the binary as a user starts
// it. It reports the time until every listener accepts, the resident
// memory of the idle lab, a sweep of login + `show license status` over
// every node by 50 concurrent clients, memory per idle SSH session
// (side by side with a single `ucmsh serve`), and, at clock speed 1440,
// how late each publisher's authorization renewal runs. Every phase is
// bounded in count and time.
//
//	go run ./bench/lab [-clusters 100] [-size 10] [-clients 50]
package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ucmsh/ucmsh/bench/internal/harness"
	"github.com/ucmsh/ucmsh/lab"
)

var (
	clusters = flag.Int("clusters", 100, "clusters")
	size     = flag.Int("size", 10, "nodes per cluster (one publisher)")
	clients  = flag.Int("clients", 50, "concurrent SSH clients in the sweep")
	sessions = flag.Int("sessions", 450, "idle SSH sessions for the memory per session (at most 90 per lab node)")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/lab:", err)
		os.Exit(1)
	}
}

func run() error {
	bin, tmp, cleanup, err := harness.Setup()
	if err != nil {
		return err
	}
	defer cleanup()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	sshPub, _ := ssh.NewPublicKey(pub)
	keys := filepath.Join(tmp, "keys")
	os.WriteFile(keys, ssh.MarshalAuthorizedKey(sshPub), 0o600)
	dir, ready := filepath.Join(tmp, "lab"), filepath.Join(tmp, "ready.json")
	fmt.Println(harness.Machine())
	n := *clusters * *size

	// Start-up: until the ready file, then until every listener accepts.
	start := time.Now()
	cmd := exec.Command(bin, "lab", "up", "--dir", dir, "--clusters", strconv.Itoa(*clusters), "--subscribers", strconv.Itoa(*size-1),
		"--first-port", "0", "--authorized-keys", keys, "--ready-file", ready)
	cmd.Env = harness.Env()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		if c, err := lab.Dial(dir); err == nil {
			c.Do("POST", "/v1/down", struct{}{}, nil)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	}()
	var inv lab.Inventory
	for {
		if data, err := os.ReadFile(ready); err == nil {
			if err := json.Unmarshal(data, &inv); err != nil {
				return err
			}
			break
		}
		if time.Since(start) > 2*time.Minute {
			return fmt.Errorf("no ready file after 2 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	readyAt := time.Since(start)
	for _, p := range inv.Nodes {
		c, err := net.DialTimeout("tcp", p.Addr(), 10*time.Second)
		if err != nil {
			return fmt.Errorf("%s does not accept: %v", p.Hostname, err)
		}
		c.Close()
	}
	accepting := time.Since(start)
	fmt.Printf("%d nodes: ready file after %v, every listener accepting after %v (target < 10 s) %s\n",
		n, readyAt.Round(time.Millisecond), accepting.Round(time.Millisecond), harness.Verdict(accepting < 10*time.Second))

	time.Sleep(3 * time.Second)
	idle := rss(cmd.Process.Pid)
	fmt.Printf("idle lab: resident %.1f MiB, %.0f KiB per node (target < 200 MiB) %s\n", mib(idle), float64(idle)/1024/float64(n), harness.Verdict(idle < 200<<20))

	// The sweep: log in and run show license status on every node.
	cfg := &ssh.ClientConfig{User: "admin", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second}
	lat, failed, wall := sweep(inv.Nodes, cfg, "show license status")
	st := stats(lat)
	fmt.Printf("sweep of %d nodes, %d clients: %v in all; per node p50 %v, p99 %v, max %v; %d failed (target p99 < 200 ms) %s\n",
		len(inv.Nodes), *clients, wall.Round(time.Millisecond), st[0], st[1], st[2], failed, harness.Verdict(st[1] < 200*time.Millisecond && failed == 0))
	fmt.Printf("after the sweep: resident %.1f MiB\n", mib(rss(cmd.Process.Pid)))

	// Idle sessions on one lab node, then on a single ucmsh serve.
	var addrs []string
	for i := 0; i*90 < *sessions && i < len(inv.Nodes); i++ {
		addrs = append(addrs, inv.Nodes[i].Addr())
	}
	perLab, err := perSession(cmd.Process.Pid, addrs, cfg)
	if err != nil {
		return err
	}
	perServe, base, err := serveSessions(bin, tmp, keys, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("idle SSH session: %.1f KiB in the lab, %.1f KiB on a single ucmsh serve (resident %.1f MiB before sessions)\n",
		perLab/1024, perServe/1024, mib(base))

	return clockRun(dir, inv, cfg)
}

// clockRun registers every publisher, jumps to an hour before their
// first renewal and lets the clock run at 1440: each renewal should run
// within a simulated hour of when it falls due.
func clockRun(dir string, inv lab.Inventory, cfg *ssh.ClientConfig) error {
	c, err := lab.Dial(dir)
	if err != nil {
		return err
	}
	if err := c.Do("POST", "/v1/clock/speed", map[string]float64{"speed": 0}, nil); err != nil {
		return err
	}
	tokens := map[string]string{}
	for _, t := range inv.Tokens {
		tokens[t.Name] = t.Token
	}
	var pubs []lab.Place
	for _, p := range inv.Nodes {
		if p.Role == lab.Publisher {
			pubs = append(pubs, p)
		}
	}
	_, failed, wall := sweepEach(pubs, cfg, func(p lab.Place) string { return "license smart register idtoken " + tokens[p.Cluster] })
	if failed > 0 {
		return fmt.Errorf("%d registrations failed", failed)
	}
	fmt.Printf("registered %d publishers in %v\n", len(pubs), wall.Round(time.Millisecond))
	if err := c.Do("POST", "/v1/clock/advance", map[string]string{"by": "29d23h"}, nil); err != nil {
		return err
	}
	if err := c.Do("POST", "/v1/clock/speed", map[string]float64{"speed": 1440}, nil); err != nil {
		return err
	}
	// Two simulated hours: every renewal falls due in the first.
	time.Sleep(5 * time.Second)
	lat, failedDuring, _ := sweep(pubs, cfg, "show myself")
	during := stats(lat)
	c.Do("POST", "/v1/clock/speed", map[string]float64{"speed": 0}, nil)

	var late []time.Duration
	for _, p := range pubs {
		out, err := run1(p, cfg, "show license status --json")
		if err != nil {
			return err
		}
		var r struct {
			Registration struct {
				Initial struct{ At time.Time } `json:"initial_registration"`
			} `json:"registration"`
			Authorization struct {
				Last struct {
					Succeeded bool
					At        time.Time
				} `json:"last_communication_attempt"`
			} `json:"authorization"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			return fmt.Errorf("%s: %v", p.Hostname, err)
		}
		due := r.Registration.Initial.At.Add(30 * 24 * time.Hour)
		if !r.Authorization.Last.Succeeded || !r.Authorization.Last.At.After(r.Registration.Initial.At) {
			late = append(late, time.Duration(1<<62)) // never renewed
			continue
		}
		late = append(late, r.Authorization.Last.At.Sub(due))
	}
	slices.Sort(late)
	worst := late[len(late)-1]
	fmt.Printf("clock speed 1440, %d publishers: renewal lateness (simulated) median %v, max %v (target < 1h) %s; logins meanwhile p99 %v, %d failed\n",
		len(pubs), late[len(late)/2], worst, harness.Verdict(worst < time.Hour), during[1], failedDuring)
	return nil
}

func sweep(nodes []lab.Place, cfg *ssh.ClientConfig, command string) ([]time.Duration, int, time.Duration) {
	return sweepEach(nodes, cfg, func(lab.Place) string { return command })
}

func sweepEach(nodes []lab.Place, cfg *ssh.ClientConfig, command func(lab.Place) string) ([]time.Duration, int, time.Duration) {
	work := make(chan lab.Place)
	var mu sync.Mutex
	var lat []time.Duration
	failed := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				t := time.Now()
				_, err := run1(p, cfg, command(p))
				d := time.Since(t)
				mu.Lock()
				lat = append(lat, d)
				if err != nil {
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range nodes {
		work <- p
	}
	close(work)
	wg.Wait()
	return lat, failed, time.Since(start)
}

func run1(p lab.Place, cfg *ssh.ClientConfig, command string) (string, error) {
	c, err := ssh.Dial("tcp", p.Addr(), cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.Output(command)
	return string(out), err
}

// perSession opens idle interactive sessions, spread over addrs, and
// returns the growth of pid's resident memory per session.
func perSession(pid int, addrs []string, cfg *ssh.ClientConfig) (float64, error) {
	before := rss(pid)
	var conns []*ssh.Client
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range *sessions {
		c, err := ssh.Dial("tcp", addrs[i%len(addrs)], cfg)
		if err != nil {
			return 0, err
		}
		conns = append(conns, c)
		s, err := c.NewSession()
		if err != nil {
			return 0, err
		}
		if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
			return 0, err
		}
		out, _ := s.StdoutPipe()
		if err := s.Shell(); err != nil {
			return 0, err
		}
		// Wait for the prompt: the session is set up and idle.
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString(':')
			if err != nil {
				return 0, err
			}
			if strings.HasSuffix(line, "admin:") {
				break
			}
		}
	}
	time.Sleep(2 * time.Second)
	return float64(rss(pid)-before) / float64(*sessions), nil
}

func serveSessions(bin, tmp, keys string, cfg *ssh.ClientConfig) (perSess float64, base int64, err error) {
	state := filepath.Join(tmp, "serve")
	os.MkdirAll(filepath.Join(state, "ssh"), 0o700)
	data, _ := os.ReadFile(keys)
	os.WriteFile(filepath.Join(state, "ssh", "authorized_keys"), data, 0o600)
	ready := filepath.Join(tmp, "serve-ready.json")
	cmd := exec.Command(bin, "serve", "--state", state, "--listen", "127.0.0.1:0", "--ready-file", ready, "--max-connections", strconv.Itoa(*sessions+10))
	cmd.Env = harness.Env()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	var r struct{ SSH string }
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if data, err := os.ReadFile(ready); err == nil && json.Unmarshal(data, &r) == nil {
			break
		}
		if time.Since(start) > time.Minute {
			return 0, 0, fmt.Errorf("ucmsh serve did not start")
		}
	}
	time.Sleep(time.Second)
	base = rss(cmd.Process.Pid)
	perSess, err = perSession(cmd.Process.Pid, []string{r.SSH}, cfg)
	return perSess, base, err
}

func rss(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// stats: p50, p99, max.
func stats(d []time.Duration) [3]time.Duration {
	if len(d) == 0 {
		return [3]time.Duration{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	q := func(f float64) time.Duration {
		return s[min(len(s)-1, int(f*float64(len(s))))].Round(100 * time.Microsecond)
	}
	return [3]time.Duration{q(0.5), q(0.99), s[len(s)-1].Round(100 * time.Microsecond)}
}
