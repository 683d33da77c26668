// Command statechange measures state-changing throughput: 1,000
// reservation enable/disable commands piped into one ucmsh, each one a
// durable write (temp file, fsync, rename, fsync of the folder), timed
// from fork to exit, several times; it prints the median in commands per
// second. It then runs the same input once under strace (seccomp-filtered
// to fsync/fdatasync, so other calls run untraced) to report the share of
// wall time spent in fsync. Every command must succeed and the trace must
// end with the last one.
//
//	go run ./bench/statechange [-n 1000] [-runs 5] [-bin ./ucmsh]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/bench/internal/harness"
)

func main() {
	n := flag.Int("n", 1000, "state-changing commands per run (even)")
	runs := flag.Int("runs", 5, "runs")
	flag.Parse()
	if err := run(*n/2*2, *runs); err != nil {
		fmt.Fprintf(os.Stderr, "statechange: %v\n", err)
		os.Exit(1)
	}
}

func run(n, runs int) error {
	bin, dir, cleanup, err := harness.SetupFullTrace()
	if err != nil {
		return err
	}
	defer cleanup()
	input := harness.Cycles(n / 2)
	fmt.Printf("statechange: %d state-changing commands (reservation enable/disable) piped into one ucmsh, each durably written, %d runs\n", n, runs)
	fmt.Printf("machine: %s; state folder on %s\n", harness.Machine(), fsType(dir))

	var samples []time.Duration
	for i := 0; i < runs; i++ {
		start := time.Now()
		if _, err := harness.Run(bin, input, "--state", dir); err != nil {
			return err
		}
		samples = append(samples, time.Since(start))
		if err := lastEventIs(bin, dir, "License reservation mode disabled"); err != nil {
			return err
		}
	}
	st := harness.Summarize(samples)
	fmt.Printf("  wall time per run: %s\n", st)
	fmt.Printf("  median throughput: %.0f commands/s (%.0f µs per command)\n", float64(n)/st.Med.Seconds(), st.Med.Seconds()/float64(n)*1e6)
	return fsyncShare(bin, dir, input)
}

// lastEventIs checks that the run's last command is the trace's last event.
func lastEventIs(bin, dir, text string) error {
	out, err := harness.Run(bin, nil, "--state", dir, "-c", "show license trace")
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if !strings.HasSuffix(lines[len(lines)-1], text) {
		return fmt.Errorf("the trace ends with %q, want %q", lines[len(lines)-1], text)
	}
	return nil
}

var straceTotal = regexp.MustCompile(`(?m)^\s*[\d.]+\s+([\d.]+)\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)$`)

// fsyncShare runs the input once under strace -c -w (wall time per call).
func fsyncShare(bin, dir string, input []byte) error {
	strace, err := exec.LookPath("strace")
	if err != nil {
		fmt.Println("  fsync share: strace not found (apt-get install strace); compare go test -run '^$' -bench 'Save' ./publisher instead")
		return nil
	}
	report := filepath.Join(filepath.Dir(dir), "strace.txt")
	args := []string{"-f", "--seccomp-bpf", "-c", "-w", "-e", "trace=fsync,fdatasync", "-o", report, bin, "--state", dir}
	cmd := exec.Command(strace, args...)
	cmd.Env = harness.Env()
	cmd.Stdin = bytes.NewReader(input)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		fmt.Printf("  fsync share: strace failed (%v): %s\n", err, strings.TrimSpace(string(out)))
		return nil
	}
	data, err := os.ReadFile(report)
	if err != nil {
		return err
	}
	var total float64
	calls := 0
	for _, m := range straceTotal.FindAllStringSubmatch(string(data), -1) {
		s, _ := strconv.ParseFloat(m[1], 64)
		c, _ := strconv.Atoi(m[2])
		total += s
		calls += c
	}
	if calls == 0 {
		fmt.Printf("  fsync share: no fsync calls found in strace's summary:\n%s", data)
		return nil
	}
	fmt.Printf("  fsync share (one run under strace): %d fsync calls, %.0f ms of %.0f ms wall time = %.0f%% (%.0f µs per fsync)\n",
		calls, total*1e3, wall.Seconds()*1e3, 100*total/wall.Seconds(), total/float64(calls)*1e6)
	return nil
}

// fsType names the file system holding dir, from /proc/mounts.
func fsType(dir string) string {
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "an unknown file system"
	}
	best, typ := "", "an unknown file system"
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && strings.HasPrefix(dir, f[1]) && len(f[1]) > len(best) {
			best, typ = f[1], f[2]+" ("+f[0]+")"
		}
	}
	return typ
}
