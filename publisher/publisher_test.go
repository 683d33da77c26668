package publisher

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	_ "github.com/ucmsh/ucmsh/golden"
	"github.com/ucmsh/ucmsh/reservation" // accept -update like every package
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func lab(usage map[string]int) *Profile {
	p := DefaultProfile()
	p.Usage = usage
	return p
}

func serviceAt(t *testing.T, dir string, now time.Time, usage map[string]int) *Service {
	t.Helper()
	store, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return NewService(store, clock.Fixed(now), lab(usage))
}

func report(t *testing.T, s *Service) *Report {
	t.Helper()
	r, err := s.Report()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var inUse = map[string]int{"Enhanced": 5}

// The evaluation counter runs only while licenses are in use, counts on
// from where it stopped, and expires once in the product's life.
func TestEvaluationCountsOnlyWhileInUse(t *testing.T) {
	dir := t.TempDir()
	day := 24 * time.Hour
	steps := []struct {
		at        time.Duration
		usage     map[string]int
		remaining time.Duration
		status    string
		inUse     bool
	}{
		{0, nil, 90 * day, AuthNoLicensesInUse, false}, // fresh: nothing consumed
		{5 * day, inUse, 90 * day, AuthEvalMode, true}, // first users: starts now
		{8*day + 2*time.Hour, inUse, 87*day - 2*time.Hour, AuthEvalMode, true},
		{20 * day, nil, 75 * day, AuthNoLicensesInUse, false}, // users gone: paused
		{50 * day, nil, 75 * day, AuthNoLicensesInUse, false}, // still paused
		{60 * day, inUse, 75 * day, AuthEvalMode, true},       // resumed
		{134 * day, inUse, day, AuthEvalMode, true},           // one day left
		{200 * day, inUse, 0, AuthEvalExpired, false},         // expired on day 135
		{300 * day, nil, 0, AuthNoLicensesInUse, false},       // expired for good
		{301 * day, inUse, 0, AuthEvalExpired, false},
	}
	for _, s := range steps {
		r := report(t, serviceAt(t, dir, t0.Add(s.at), s.usage))
		if r.Evaluation.Remaining != s.remaining || r.Authorization.Status != s.status || r.Evaluation.InUse != s.inUse {
			t.Fatalf("day %v: remaining %v, status %s, in use %v; want %v, %s, %v",
				s.at/day, r.Evaluation.Remaining, r.Authorization.Status, r.Evaluation.InUse, s.remaining, s.status, s.inUse)
		}
	}
	r := report(t, serviceAt(t, dir, t0.Add(400*day), inUse))
	if want := t0.Add(135 * day); r.Evaluation.ExpiredAt == nil || !r.Evaluation.ExpiredAt.Equal(want) {
		t.Fatalf("expired at %v, want %v", r.Evaluation.ExpiredAt, want)
	}
}

func TestFormatRemaining(t *testing.T) {
	d := 87*24*time.Hour + time.Hour + 41*time.Minute
	if got := FormatRemaining(d); got != "87 days 1 hr 41 min 0 sec" {
		t.Fatal(got)
	}
}

func TestIdentityAndUDI(t *testing.T) {
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if !id.valid() || id.SN() != id.UUID[27:] {
		t.Fatalf("bad identity %+v", id)
	}
	id = Identity{UUID: "e53fc96802534d61a355ba908a6cc920"}
	if id.UDI() != "PID:UCM,SN:cc920,UUID:e53fc96802534d61a355ba908a6cc920" || reservation.RequestCode(id.reservationUDI()) != "P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920" {
		t.Fatal(id.UDI(), reservation.RequestCode(id.reservationUDI()))
	}
}

// A state file that cannot be used is reported with its path and never
// replaced.
func TestUnusableStateIsNeverReplaced(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":      "{\"version\": 1, \"identi",
		"newer schema":  `{"version": 99, "identity": {"uuid": "6fe83addc80240bc92dc071ac7a37624"}}`,
		"no version":    `{"identity": {"uuid": "6fe83addc80240bc92dc071ac7a37624"}}`,
		"bad identity":  `{"version": 1, "identity": {"uuid": "xyz"}}`,
		"unknown field": `{"version": 1, "identity": {"uuid": "6fe83addc80240bc92dc071ac7a37624"}, "surprise": 1}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, StateFile)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := serviceAt(t, dir, t0, inUse).Report()
			var se *StateError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v does not name %s", err, path)
			}
			if got, _ := os.ReadFile(path); string(got) != content {
				t.Fatal("the file was changed")
			}
		})
	}
}

// A folder the node cannot write to fails the command and keeps the old
// state.
func TestSaveFailureKeepsOldState(t *testing.T) {
	dir := t.TempDir()
	if _, err := serviceAt(t, dir, t0, nil).Report(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, StateFile))
	makeReadOnly(t, dir)
	_, err := serviceAt(t, dir, t0.Add(time.Hour), inUse).Report()
	var se *SaveError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a SaveError", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, StateFile))
	if string(before) != string(after) {
		t.Fatal("state changed")
	}
}

// Writes are atomic: no temporary files are left behind and the file is
// private to its owner.
func TestSaveIsAtomicAndPrivate(t *testing.T) {
	dir := t.TempDir()
	if _, err := serviceAt(t, dir, t0, inUse).Report(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
	info, err := os.Stat(filepath.Join(dir, StateFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v (%v)", info.Mode(), err)
	}
}

// counterEvents appends an event per call; a lost update would show as a
// missing event.
func bump(t testing.TB, store *Store, who string) {
	err := store.Update(func(st *State) error {
		if st.Version == 0 {
			*st = State{Version: SchemaVersion, Identity: Identity{UUID: "6fe83addc80240bc92dc071ac7a37624"}}
		}
		st.logEvent(t0, "%s", who)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Two shells on one state never lose an update: goroutines in this process
// and other processes all add events under the lock.
func TestConcurrentUpdatesAreNeverLost(t *testing.T) {
	if who := os.Getenv("UCMSH_BUMP"); who != "" {
		store, _ := OpenStore(os.Getenv("UCMSH_DIR"))
		n, _ := strconv.Atoi(os.Getenv("UCMSH_N"))
		for i := 0; i < n; i++ {
			bump(t, store, who)
		}
		return
	}
	dir := t.TempDir()
	const perWorker = 25
	var wg sync.WaitGroup
	var procs []*exec.Cmd
	for p := 0; p < 2; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentUpdatesAreNeverLost$")
		cmd.Env = append(os.Environ(), "UCMSH_BUMP=proc"+strconv.Itoa(p), "UCMSH_DIR="+dir, "UCMSH_N="+strconv.Itoa(perWorker))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
	}
	store, _ := OpenStore(dir)
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				bump(t, store, fmt.Sprintf("goroutine%d", g))
			}
		}()
	}
	wg.Wait()
	for _, p := range procs {
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Events) != 4*perWorker {
		t.Fatalf("%d events, want %d: updates were lost", len(st.Events), 4*perWorker)
	}
}

func TestProfileValidation(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"version":"14"}`, `"hostname" is required`},
		{`{"hostname":"a","version":"14","time_zone":"Mars/Olympus"}`, "not a known IANA time zone"},
		{`{"hostname":"a","version":"14","usage":{"Gold":1}}`, `"Gold", which is not a license type`},
		{`{"hostname":"a","version":"14","usage":{"Basic":-1}}`, "must be between 0 and"},
		{`{"hostname":"a","version":"14","colour":"red"}`, `unknown field "colour"`},
		{`{"hostname":"a","version":"14","cluster":[{"hostname":"b","role":"subscriber"}]}`, "exactly one publisher"},
	} {
		_, err := ParseProfile([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.json, err, tc.want)
		}
	}
	p, err := ParseProfile([]byte(`{"hostname":"a","version":"14","time_zone":"Asia/Kolkata","usage":{"basic":2}}`))
	if err != nil || p.UsageOf("Basic") != 2 || p.Location().String() != "Asia/Kolkata" || len(p.Cluster) != 1 {
		t.Fatalf("%+v %v", p, err)
	}
}

// makeReadOnly keeps everyone, root included, from writing in dir until the
// test ends: permissions for a user, the immutable attribute for root (who
// ignores permissions; CI runs as root).
func makeReadOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Fatalf("as root the folder must be made immutable (chattr from e2fsprogs): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
}
