// Package termtest drives terminal programs in tests: it types keys and
// waits for what they print, as an admin (or an expect script) would.
package termtest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// Buffer is output that a test reads while something else writes it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Timeout is how long Expect waits for its text.
const Timeout = 10 * time.Second

// Screen follows a terminal's output: each Expect looks only after what
// earlier calls matched, so a test reads the session in order.
type Screen struct {
	Out  *Buffer // what the program wrote
	t    testing.TB
	in   io.Writer
	seen int
}

// New is a screen whose keys go to in; the program's output must be
// written to its Out.
func New(t testing.TB, in io.Writer) *Screen {
	return &Screen{Out: &Buffer{}, t: t, in: in}
}

// Send types keys.
func (s *Screen) Send(keys string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, keys); err != nil {
		s.t.Fatal(err)
	}
}

// Expect waits until text appears after what was matched before, and
// returns everything up to its end.
func (s *Screen) Expect(text string) string {
	s.t.Helper()
	deadline := time.Now().Add(Timeout)
	for time.Now().Before(deadline) {
		all := s.Out.String()
		if i := strings.Index(all[s.seen:], text); i >= 0 {
			got := all[s.seen : s.seen+i+len(text)]
			s.seen += i + len(text)
			return got
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.t.Fatalf("timed out waiting for %q; the terminal shows:\n%q", text, s.Out.String()[s.seen:])
	return ""
}

// Rest returns what was written since the last match, and passes it.
func (s *Screen) Rest() string {
	all := s.Out.String()
	got := all[s.seen:]
	s.seen = len(all)
	return got
}

// Idle waits until nothing has been written for quiet, then returns the
// rest of the output.
func (s *Screen) Idle(quiet time.Duration) string {
	last := -1
	for n := len(s.Out.String()); n != last; n = len(s.Out.String()) {
		last = n
		time.Sleep(quiet)
	}
	return s.Rest()
}

// StartPTY starts cmd on a new pseudo-terminal of the given size and
// follows its output. The command is killed when the test ends; the
// returned file is the terminal's master side (for Setsize).
func StartPTY(t testing.TB, cmd *exec.Cmd, rows, cols uint16) (*Screen, *os.File) {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	s := New(t, f)
	go io.Copy(s.Out, f) // ends when the terminal closes
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
	})
	return s, f
}
