package cssm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// floodConns is how many attacker connections TestServeAnswersDuringAConnectionFlood
// opens: a bounded 2,000 here, 20,000 from .ci/cssm-attack.sh.
func floodConns(t *testing.T) int {
	if s := os.Getenv("CSSM_FLOOD_CONNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			t.Fatalf("CSSM_FLOOD_CONNS=%q: want a number of at least 100", s)
		}
		return n
	}
	return 2000
}

// An attacker at 127.0.0.2 (three quarters of the connections) and one at
// 127.0.0.3 open idle keep-alive connections and clients that never finish
// their headers. The admin's probe at 127.0.0.1 is answered within a second,
// each time, and the server holds no more than its caps.
//
// With CSSM_FLOOD_PROCS=P the attacker's sockets live in P child processes
// (this test binary again), so that 20,000 of them fit under a per-process
// open-file limit that cannot be raised (.ci/cssm-attack.sh).
func TestServeAnswersDuringAConnectionFlood(t *testing.T) {
	n := floodConns(t)
	lim := Limits{MaxConnections: n / 2, PerClient: n / 4}
	base, _ := serve(t, ServeConfig{Limits: lim})
	addr := strings.TrimPrefix(base, "http://")

	var check func() map[string]int
	if procs, _ := strconv.Atoi(os.Getenv("CSSM_FLOOD_PROCS")); procs > 1 {
		check = floodFromChildren(t, addr, n, procs)
	} else {
		conns := openFlood(addr, 0, n)
		t.Cleanup(func() {
			for _, c := range conns {
				c.Close()
			}
		})
		t.Logf("%d attacker connections made", len(conns))
		check = func() map[string]int { return stillOpen(conns) }
	}

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	for i := range 10 {
		start := time.Now()
		resp, err := client.Get(base + cssmapi.PathHealth)
		if err != nil {
			t.Fatalf("probe %d during the flood: %v", i, err)
		}
		resp.Body.Close()
		if took := time.Since(start); resp.StatusCode != 200 || took > time.Second {
			t.Fatalf("probe %d during the flood: %s after %v", i, resp.Status, took)
		}
	}

	open := check()
	total := open["127.0.0.2"] + open["127.0.0.3"]
	t.Logf("%d attacker connections still open (%v)", total, open)
	if open["127.0.0.2"] > lim.PerClient {
		t.Errorf("127.0.0.2 holds %d connections, more than the per-client cap %d", open["127.0.0.2"], lim.PerClient)
	}
	// The probes made room for themselves by closing waiting connections.
	if total > lim.MaxConnections {
		t.Errorf("attackers hold %d connections, more than the cap %d", total, lim.MaxConnections)
	}
}

// openFlood opens the attacker's connections number first to first+n-1 to
// addr: three in four from 127.0.0.2, the rest from 127.0.0.3; one in eight
// stops in the middle of its headers, the others are idle keep-alives.
func openFlood(addr string, first, n int) []net.Conn {
	from := func(i int) string {
		if i%4 == 3 {
			return "127.0.0.3"
		}
		return "127.0.0.2"
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from(i))}, Timeout: 5 * time.Second}
				c, err := d.Dial("tcp", addr)
				if err != nil {
					continue // refused in the backlog: also a defence
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				if i%8 == 7 {
					// Slow headers: a request line and one header, then nothing.
					c.Write([]byte("POST " + cssmapi.PathRegister + " HTTP/1.1\r\nHost: cssm\r\n"))
					continue
				}
				// Idle keep-alive: one request answered, then the connection waits.
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.Write([]byte("GET " + cssmapi.PathHealth + " HTTP/1.1\r\nHost: cssm\r\n\r\n"))
				if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
					resp.Body.Close()
				}
				c.SetDeadline(time.Time{})
			}
		})
	}
	for i := first; i < first+n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return conns
}

// stillOpen counts, per source address, the connections the server has not
// closed: a closed one reads EOF (or a reset) at once, an open one waits out
// the deadline.
func stillOpen(conns []net.Conn) map[string]int {
	open := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(2 * time.Second)
	for _, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(deadline)
			_, err := c.Read(make([]byte, 512))
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				mu.Lock()
				open[clientAddr(c.LocalAddr())]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return open
}

// floodFromChildren starts procs copies of this test binary, each holding its
// share of the n connections (TestFloodChild), and returns the check that asks
// them how many are still open.
func floodFromChildren(t *testing.T, addr string, n, procs int) func() map[string]int {
	type child struct {
		in  io.WriteCloser
		out *bufio.Scanner
	}
	var children []child
	for p := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFloodChild$", "-test.timeout=4m")
		share := n / procs
		cmd.Env = append(os.Environ(), "CSSM_FLOOD_CHILD="+addr+","+strconv.Itoa(p*share)+","+strconv.Itoa(share))
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close(); cmd.Wait() })
		children = append(children, child{in, bufio.NewScanner(out)})
	}
	made := 0
	for _, c := range children {
		made += readCount(t, c.out, "ready")
	}
	t.Logf("%d attacker connections made by %d processes", made, procs)
	return func() map[string]int {
		open := map[string]int{}
		for _, c := range children {
			io.WriteString(c.in, "check\n")
		}
		for _, c := range children {
			open["127.0.0.2"] += readCount(t, c.out, "open 127.0.0.2")
			open["127.0.0.3"] += readCount(t, c.out, "open 127.0.0.3")
		}
		return open
	}
}

// readCount reads the next line of a child, "<what> <count>".
func readCount(t *testing.T, out *bufio.Scanner, what string) int {
	t.Helper()
	for out.Scan() {
		if rest, ok := strings.CutPrefix(out.Text(), what+" "); ok {
			n, err := strconv.Atoi(rest)
			if err != nil {
				t.Fatalf("child said %q", out.Text())
			}
			return n
		}
	}
	t.Fatalf("a flood child ended before saying %q", what)
	return 0
}

// TestFloodChild is the attacker side of the flood in a child process: it
// opens its connections, says how many, and on "check" says how many the
// server left open. It does nothing in an ordinary test run.
func TestFloodChild(t *testing.T) {
	spec := os.Getenv("CSSM_FLOOD_CHILD")
	if spec == "" {
		return
	}
	parts := strings.Split(spec, ",")
	first, _ := strconv.Atoi(parts[1])
	n, _ := strconv.Atoi(parts[2])
	conns := openFlood(parts[0], first, n)
	fmt.Printf("ready %d\n", len(conns))
	in := bufio.NewScanner(os.Stdin)
	if in.Scan() && in.Text() == "check" {
		open := stillOpen(conns)
		fmt.Printf("open 127.0.0.2 %d\nopen 127.0.0.3 %d\n", open["127.0.0.2"], open["127.0.0.3"])
	}
	for in.Scan() { // hold the connections until the parent is done
	}
}

func TestConnectionLimitsCountConnectionsOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	l := newLimitListener(ln, Limits{MaxConnections: 2, PerClient: 1}, nil)
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func(ip string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial("127.0.0.2")
	first := <-accepted
	dial("127.0.0.2") // over the per-client cap: closed at once
	dial("127.0.0.3")
	second := <-accepted
	if got := clientAddr(second.RemoteAddr()); got != "127.0.0.3" {
		t.Fatalf("second accepted connection is from %s, want 127.0.0.3 (127.0.0.2's second is over its cap)", got)
	}
	dial("127.0.0.4") // at the total cap: the oldest waiting one (first) goes
	third := <-accepted
	if _, err := first.Read(make([]byte, 1)); err == nil {
		t.Fatal("the oldest waiting connection was not closed to make room")
	}
	first.Close() // the server's own Close after the error counts nothing twice
	third.Close()
	second.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open != 0 || len(l.byAddr) != 0 || l.waiting.Len() != 0 {
		t.Fatalf("after every close: open %d, by address %v, waiting %d", l.open, l.byAddr, l.waiting.Len())
	}
}
