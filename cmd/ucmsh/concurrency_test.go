package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/publisher"
)

// Twenty ucmsh processes on one state folder issue state-changing commands
// (and a few reports) at once, in rounds, for about five seconds. After each round the state
// loads; every command that reported success is in the trace, exactly as
// often as it succeeded; the trace never breaks a precondition (two
// enables without a disable between them, a cancel with no request...);
// and it ends in the state the processes' commands add up to. A round
// stays under the trace's 200 events, so nothing is pushed out of it.
func TestConcurrentProcessesKeepEveryTransition(t *testing.T) {
	const (
		procs    = 20
		perProc  = 9 // 20 × 9 = 180 events at most, plus the 2 of the marker
		duration = 5 * time.Second
	)
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	start := time.Now()
	rounds, transitions := 0, 0
	for rounds < 2 || (time.Since(start) < duration && rounds < 100) {
		transitions += concurrentRound(t, dir, rounds, procs, perProc, rng)
		rounds++
	}
	t.Logf("%d rounds of %d processes in %v: %d transitions succeeded, all in the trace in a valid order",
		rounds, procs, time.Since(start).Round(time.Millisecond), transitions)
}

// command is one line a worker sends and what it means for the trace.
type command struct {
	line  string
	event string // the trace event of its success ("" for a request, which logs only the first time)
	read  bool   // a report: changes nothing and never fails
}

func workerScript(rng *rand.Rand, round, worker, n int) []command {
	var cmds []command
	for i := range n {
		var c command
		switch rng.IntN(12) {
		case 10:
			c = command{line: "show license status", read: true}
		case 11:
			c = command{line: "show license trace", read: true}
		case 0, 1:
			c = command{line: "license smart reservation enable", event: "License reservation mode enabled"}
		case 2, 3:
			c = command{line: "license smart reservation disable", event: "License reservation mode disabled"}
		case 4:
			c = command{line: "license smart reservation request", event: ""}
		case 5:
			c = command{line: "license smart reservation cancel", event: "Reservation request cancelled"}
		case 6:
			c = command{line: "license smart factory reset", event: "Factory reset: licensing state cleared"}
		case 7:
			c = command{line: "license smart transport direct", event: "Transport set to direct"}
		default:
			url := fmt.Sprintf("http://w%d-r%d-c%d.invalid", worker, round, i)
			c = command{line: "license smart transport ssm-satellite " + url, event: "Transport set to ssm-satellite " + url}
		}
		cmds = append(cmds, c)
	}
	return cmds
}

// concurrentRound runs one round and checks it; it returns how many
// transitions succeeded.
func concurrentRound(t *testing.T, dir string, round, procs, perProc int, rng *rand.Rand) int {
	t.Helper()
	marker := fmt.Sprintf("http://round-%d.invalid", round)
	for _, line := range []string{"license smart factory reset", "license smart transport ssm-satellite " + marker} {
		if out, err := ucmshCmd(dir, "-c", line).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
	}

	// Start every process first; each waits for its input, then all get
	// their commands at once.
	type worker struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		out    bytes.Buffer
		script []command
	}
	workers := make([]*worker, procs)
	for i := range workers {
		w := &worker{cmd: ucmshCmd(dir, "--echo"), script: workerScript(rng, round, i, perProc)}
		var err error
		if w.stdin, err = w.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.out
		if err := w.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		workers[i] = w
	}
	timer := time.AfterFunc(60*time.Second, func() {
		for _, w := range workers {
			w.cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var in strings.Builder
			for _, c := range w.script {
				in.WriteString(c.line + "\n")
			}
			io.WriteString(w.stdin, in.String())
			w.stdin.Close()
			w.cmd.Wait() // status 1 when a command failed: expected
		}()
	}
	wg.Wait()

	// What each process reports.
	succeeded := map[string]int{} // event -> successes
	requests := 0
	for i, w := range workers {
		blocks := strings.Split(w.out.String(), "admin:")
		if len(blocks) != len(w.script)+1 || blocks[0] != "" {
			t.Fatalf("round %d, worker %d: %d outputs for %d commands:\n%s", round, i, len(blocks)-1, len(w.script), w.out.String())
		}
		for j, c := range w.script {
			b := blocks[j+1]
			if !strings.HasPrefix(b, c.line+"\n") {
				t.Fatalf("round %d, worker %d: output %d is not for %q:\n%s", round, i, j, c.line, b)
			}
			if !strings.Contains(b, "Executed command unsuccessfully") {
				switch {
				case c.read:
				case c.event == "":
					requests++
				default:
					succeeded[c.event]++
				}
				continue
			}
			if c.read {
				t.Fatalf("round %d, worker %d: %q failed:\n%s", round, i, c.line, b)
			}
			// A failure must be a precondition, never the store.
			for _, bad := range []string{"Cannot save", "cannot be used", "cannot lock", "Internal error"} {
				if strings.Contains(b, bad) {
					t.Fatalf("round %d, worker %d: %q failed in the store:\n%s", round, i, c.line, b)
				}
			}
		}
	}

	// The trace since the marker.
	var st *publisher.State
	store, err := publisher.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.View(func(s *publisher.State) error { st = s; return nil }); err != nil {
		t.Fatalf("round %d: the state does not load: %v", round, err)
	}
	from := -1
	for i, e := range st.Events {
		if e.Text == "Transport set to ssm-satellite "+marker {
			from = i + 1
		}
	}
	if from < 0 {
		t.Fatalf("round %d: the marker is not in the trace (%d events): updates were lost or the trace overflowed", round, len(st.Events))
	}
	events := st.Events[from:]

	// Replay: every transition in order, against its precondition.
	enabled, requested := false, false
	transport := "ssm-satellite " + marker
	seen := map[string]int{}
	requestEvents := 0
	for k, e := range events {
		fail := func(why string) {
			var b strings.Builder
			for _, e := range events {
				b.WriteString(e.Text + "\n")
			}
			t.Fatalf("round %d: event %d %q %s; the round's trace:\n%s", round, k, e.Text, why, b.String())
		}
		switch text := e.Text; {
		case text == "License reservation mode enabled":
			if enabled {
				fail("while reservation mode was enabled")
			}
			enabled = true
		case text == "License reservation mode disabled":
			if !enabled {
				fail("while reservation mode was disabled")
			}
			enabled, requested = false, false
		case strings.HasPrefix(text, "Reservation request code generated: "):
			if !enabled || requested {
				fail(fmt.Sprintf("with enabled=%v requested=%v", enabled, requested))
			}
			requested = true
			requestEvents++
			continue
		case text == "Reservation request cancelled":
			if !enabled || !requested {
				fail(fmt.Sprintf("with enabled=%v requested=%v", enabled, requested))
			}
			requested = false
		case text == "Factory reset: licensing state cleared":
			enabled, requested, transport = false, false, ""
		case strings.HasPrefix(text, "Transport set to "):
			transport = strings.TrimPrefix(text, "Transport set to ")
		default:
			fail("is not a transition of this test")
		}
		seen[e.Text]++
	}
	for ev, n := range succeeded {
		if seen[ev] != n {
			t.Fatalf("round %d: %q succeeded %d times but is in the trace %d times", round, ev, n, seen[ev])
		}
	}
	for ev, n := range seen {
		if succeeded[ev] != n {
			t.Fatalf("round %d: %q is in the trace %d times but succeeded %d times", round, ev, n, succeeded[ev])
		}
	}
	if requestEvents > requests {
		t.Fatalf("round %d: %d request codes generated, but only %d requests succeeded", round, requestEvents, requests)
	}

	// The state is what the trace adds up to.
	gotTransport := ""
	switch st.Transport.Mode {
	case publisher.TransportModeSatellite:
		gotTransport = "ssm-satellite " + st.Transport.URL
	case publisher.TransportModeDirect:
		if transport == "direct" {
			gotTransport = "direct"
		}
	}
	if (st.Reservation != nil) != enabled || (enabled && st.Reservation.Requested != requested) || gotTransport != transport {
		t.Fatalf("round %d: the state (reservation %+v, transport %+v) is not what the trace adds up to (enabled=%v requested=%v transport %q)",
			round, st.Reservation, st.Transport, enabled, requested, transport)
	}
	n := requests
	for _, c := range succeeded {
		n += c
	}
	return n
}
