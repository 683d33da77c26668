package publisher

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"
)

// crashOps is the cycle of state changes the crash test's child makes: op
// j is crashOps[j%len] at t0 + j seconds. From the cycle's own order each
// succeeds; after a crash one may find its work already done and fail,
// which writes nothing.
var crashOps = []func(s *Service, j int) error{
	func(s *Service, _ int) error { return s.ReservationEnable() },
	func(s *Service, _ int) error { _, err := s.ReservationRequest(); return err },
	func(s *Service, _ int) error { return s.ReservationCancel() },
	func(s *Service, _ int) error { return s.ReservationDisable() },
	func(s *Service, j int) error {
		return s.SetTransport(TransportConfig{Mode: TransportModeSatellite, URL: "http://satellite-" + strconv.Itoa(j) + ".invalid"})
	},
	func(s *Service, _ int) error { return s.FactoryReset() },
}

const crashUUID = "6fe83addc80240bc92dc071ac7a37624"

// crashService is the service op j runs in: a fixed identity and clock, so
// the parent can compute every state the child may write.
func crashService(t testing.TB, dir string, j int) *Service {
	store, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(store, clock.Fixed(t0.Add(time.Duration(j)*time.Second)), lab(inUse))
	s.NewIdentity = func() (Identity, error) { return Identity{UUID: crashUUID}, nil }
	return s
}

// The child: run ops from UCMSH_CRASH_FROM on, saying "done j" after each,
// until killed.
func crashChild(t *testing.T, dir string, from int) {
	out := bufio.NewWriter(os.Stdout)
	for j := from; ; j++ {
		_ = crashOps[j%len(crashOps)](crashService(t, dir, j), j)
		fmt.Fprintf(out, "done %d\n", j)
		out.Flush()
	}
}

// A process killed with SIGKILL at a random moment while it writes state,
// 200 times: every time the state loads and is the state before or after
// the command that was interrupted.
func TestCrashLeavesOldOrNewState(t *testing.T) {
	if dir := os.Getenv("UCMSH_CRASH_DIR"); dir != "" {
		from, _ := strconv.Atoi(os.Getenv("UCMSH_CRASH_FROM"))
		crashChild(t, dir, from)
		return
	}
	kills := 200
	if testing.Short() {
		kills = 20
	}
	dir := t.TempDir()
	if err := crashService(t, dir, 0).Init(); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	next := 1 // the next op to run
	deadline := time.Now().Add(2 * time.Minute)
	interrupted := 0
	for k := 0; k < kills; k++ {
		if time.Now().After(deadline) {
			t.Fatalf("only %d kills in 2 minutes", k)
		}
		before := readState(t, dir)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLeavesOldOrNewState$")
		cmd.Env = append(os.Environ(), "UCMSH_CRASH_DIR="+dir, "UCMSH_CRASH_FROM="+strconv.Itoa(next))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after 0 to ~3 ops' worth of work, so the kill falls in every
		// phase of a write: before it, in the temp file, around the rename.
		lines := make(chan int, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "done ")); err == nil {
					lines <- n
				}
			}
			close(lines)
		}()
		last := next - 1
		select { // the child is running once it has finished its first op
		case n, ok := <-lines:
			if ok {
				last = n
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the child did not start")
		}
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		for n := range lines {
			last = n
		}
		// Ops up to last finished; op last+1 may or may not have.
		want := expectedStates(t, before, next, last+1)
		got := readState(t, dir)
		switch {
		case bytes.Equal(got, want[len(want)-2]):
			next = last + 1
		case bytes.Equal(got, want[len(want)-1]):
			next = last + 2
			interrupted++
		default:
			t.Fatalf("kill %d: after op %d the state is neither the state after it nor after op %d:\n%s", k, last, last+1, got)
		}
		if _, err := crashService(t, dir, next).Report(); err != nil {
			t.Fatalf("kill %d: the state does not load: %v", k, err)
		}
	}
	left := temps(dir)
	t.Logf("%d kills, %d ops; %d kills fell after a rename the child had not reported; %d temporary files left by killed writers", kills, next-1, interrupted, left)
	// The next writer clears what killed writers left.
	if err := crashOps[4](crashService(t, dir, next), next); err != nil {
		t.Fatal(err)
	}
	if n := temps(dir); n != 0 {
		t.Fatalf("%d temporary files are still there after a write", n)
	}
}

func temps(dir string) int {
	entries, _ := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			n++
		}
	}
	return n
}

// readState is state.json's bytes; it must exist.
func readState(t *testing.T, dir string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// expectedStates replays ops from..to on a copy of the state and returns
// the state before them, then after each: [before, after from, ..., after
// to]. Only the last two matter to the caller, but the replay needs all.
func expectedStates(t *testing.T, before []byte, from, to int) [][]byte {
	t.Helper()
	scratch := t.TempDir()
	if err := os.WriteFile(filepath.Join(scratch, StateFile), before, 0o600); err != nil {
		t.Fatal(err)
	}
	out := [][]byte{before}
	for j := from; j <= to; j++ {
		_ = crashOps[j%len(crashOps)](crashService(t, scratch, j), j)
		out = append(out, readState(t, scratch))
	}
	if len(out) < 2 {
		out = append([][]byte{before}, out...)
	}
	return out
}
