// Package harness is what the ucmsh benchmarks under bench/ share: building
// the binary, preparing a state folder, running ucmsh, and medians.
package harness

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Bin is the -bin flag every benchmark takes: a ucmsh binary to measure
// instead of building one from this checkout.
var Bin = flag.String("bin", "", "ucmsh binary to measure (default: go build ./cmd/ucmsh into a temporary folder)")

// Setup builds ucmsh (unless -bin names one) into a fresh temporary folder
// and returns the binary, the folder, and a function that removes it.
func Setup() (bin, tmp string, cleanup func(), err error) {
	tmp, err = os.MkdirTemp("", "ucmsh-bench-")
	if err != nil {
		return "", "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	if *Bin != "" {
		return *Bin, tmp, cleanup, nil
	}
	root, err := moduleRoot()
	if err != nil {
		cleanup()
		return "", "", nil, err
	}
	bin = filepath.Join(tmp, "ucmsh")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ucmsh")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", "", nil, fmt.Errorf("go build ./cmd/ucmsh: %v\n%s", err, out)
	}
	return bin, tmp, cleanup, nil
}

// SetupFullTrace is Setup with a node state folder (tmp/node) holding a
// full trace, as the piped-input benchmarks measure it; cleanup removes both.
func SetupFullTrace() (bin, dir string, cleanup func(), err error) {
	bin, tmp, cleanup, err := Setup()
	if err != nil {
		return "", "", nil, err
	}
	dir = filepath.Join(tmp, "node")
	if err := FullTrace(bin, dir); err != nil {
		cleanup()
		return "", "", nil, err
	}
	return bin, dir, cleanup, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run the benchmark inside the ucmsh module (or give -bin)")
	}
	return filepath.Dir(mod), nil
}

// Run runs ucmsh with args and stdin, and returns its output; a non-zero
// exit is an error.
func Run(bin string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = Env()
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("ucmsh %s: %v\n%s%s", strings.Join(args, " "), err, lastLines(out.String(), 5), errb.String())
	}
	return out.Bytes(), nil
}

// Env is the environment ucmsh runs in: the direct transport goes to a
// closed local port, so nothing ever leaves the machine.
func Env() []string {
	return append(os.Environ(), "UCMSH_DIRECT_URL=http://127.0.0.1:9")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

// Cycles is n reservation enable/disable pairs, one command a line.
func Cycles(n int) []byte {
	return []byte(strings.Repeat("license smart reservation enable\nlicense smart reservation disable\n", n))
}

// FullTrace prepares a state folder whose trace is full (200 events), the
// largest state.json a node keeps: the realistic worst case for readers.
func FullTrace(bin, dir string) error {
	_, err := Run(bin, Cycles(110), "--state", dir)
	return err
}

// Fresh prepares a state folder as a node's first command leaves it.
func Fresh(bin, dir string) error {
	_, err := Run(bin, nil, "--state", dir, "-c", "show license status")
	return err
}

// Stats are the median and spread of a set of samples.
type Stats struct {
	N                  int
	Min, P10, Med, P90 time.Duration
	Max                time.Duration
}

// Summarize sorts the samples and takes their quantiles.
func Summarize(d []time.Duration) Stats {
	s := slices.Clone(d)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[int(p*float64(len(s)-1)+0.5)] }
	return Stats{N: len(s), Min: s[0], P10: q(0.10), Med: q(0.5), P90: q(0.90), Max: s[len(s)-1]}
}

func (s Stats) String() string {
	return fmt.Sprintf("median %v (min %v, p10 %v, p90 %v, max %v; %d runs)",
		round(s.Med), round(s.Min), round(s.P10), round(s.P90), round(s.Max), s.N)
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Machine describes where the figures come from.
func Machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s/%s, %s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// Verdict says whether a figure meets its target.
func Verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}
