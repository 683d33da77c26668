// Command coldstart measures a whole ucmsh process: `ucmsh -c 'show license
// all'` on an existing state folder, from fork to exit, N times, and prints
// the median. Target: under 10 ms.
//
//	go run ./bench/coldstart [-n 200] [-bin ./ucmsh]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ucmsh/ucmsh/bench/internal/harness"
)

const target = 10 * time.Millisecond

func main() {
	n := flag.Int("n", 200, "runs per state")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintf(os.Stderr, "coldstart: %v\n", err)
		os.Exit(1)
	}
}

func run(n int) error {
	bin, tmp, cleanup, err := harness.Setup()
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Printf("coldstart: ucmsh -c 'show license all', whole process, %d runs per state\n", n)
	fmt.Printf("machine: %s\n", harness.Machine())
	failed := false
	for _, c := range []struct {
		name string
		prep func(bin, dir string) error
	}{
		{"fresh node (evaluation, 2 events)", harness.Fresh},
		{"full trace (200 events, 22 KB state.json)", harness.FullTrace},
	} {
		dir := filepath.Join(tmp, fmt.Sprint(len(c.name)))
		if err := c.prep(bin, dir); err != nil {
			return err
		}
		st, err := measure(bin, dir, n)
		if err != nil {
			return err
		}
		ok := st.Med < target
		failed = failed || !ok
		fmt.Printf("  %-42s %s  [%s: target median < %v]\n", c.name, st, harness.Verdict(ok), target)
	}
	if failed {
		return fmt.Errorf("a median missed the target")
	}
	return nil
}

// measure times n processes (after 10 unmeasured ones, to warm the page
// cache); output goes to a pipe that is drained, as a script would read it.
func measure(bin, dir string, n int) (harness.Stats, error) {
	var samples []time.Duration
	for i := -10; i < n; i++ {
		cmd := exec.Command(bin, "--state", dir, "-c", "show license all")
		cmd.Env = harness.Env()
		out, err := cmd.StdoutPipe()
		if err != nil {
			return harness.Stats{}, err
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return harness.Stats{}, err
		}
		nb, _ := io.Copy(io.Discard, out)
		if err := cmd.Wait(); err != nil {
			return harness.Stats{}, fmt.Errorf("ucmsh -c 'show license all': %v", err)
		}
		d := time.Since(start)
		if nb < 1000 {
			return harness.Stats{}, fmt.Errorf("ucmsh printed only %d bytes", nb)
		}
		if i >= 0 {
			samples = append(samples, d)
		}
	}
	return harness.Summarize(samples), nil
}
