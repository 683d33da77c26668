package publisher

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/termtest"
)

// The agent settles a registration whose answer was lost without any
// command being typed: it runs what is due as it starts.
func TestAgentRunsWhatIsDue(t *testing.T) {
	l := newLicensing(t)
	s := l.node(t.TempDir(), t0)
	l.loseAnswer(cssmapi.PathRegister)
	if _, err := s.Register(context.Background(), l.token(1, false), false); err == nil {
		t.Fatal("register with its answer lost succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunAgent(ctx, time.Hour, slog.New(slog.DiscardHandler))
	}()
	deadline := time.Now().Add(30 * time.Second)
	for report(t, s).Registration.Status != Registered {
		if time.Now().After(deadline) {
			t.Fatal("the agent did not send the registration again")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done // RunAgent returns when its context ends
}

// A state the agent cannot use is logged, not fatal.
func TestAgentLogsFailures(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := serviceAt(t, dir, t0, inUse)
	var log termtest.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunAgent(ctx, time.Hour, slog.New(slog.NewTextHandler(&log, nil)))
	}()
	for !strings.Contains(log.String(), "licensing agent") {
		if ctx.Err() != nil {
			t.Fatal("the agent's failure was not logged")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := log.String(); !strings.Contains(got, StateFile) {
		t.Fatalf("the log does not name the state file: %s", got)
	}
}
