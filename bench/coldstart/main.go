// Command coldstart measures a whole ucmsh process: `ucmsh -c 'show license
// all'` on an existing state folder, from fork to exit, N times, and prints
// the median. Target: under 10 ms. It also prints what the packages'
// initialisation allocates (GODEBUG=inittrace=1): package-level values are
// held as long as every ucmsh process, and each node's heap grows to about
// twice what it holds.
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
	"sort"
	"strconv"
	"strings"
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
	if err := initReport(bin, tmp); err != nil {
		return err
	}
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

// initReport prints the allocations of package initialisation in one
// ucmsh process, and the packages that allocate most.
func initReport(bin, dir string) error {
	cmd := exec.Command(bin, "--state", filepath.Join(dir, "init"), "-c", "show version active")
	cmd.Env = append(harness.Env(), "GODEBUG=inittrace=1")
	var trace strings.Builder
	cmd.Stderr = &trace
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ucmsh with GODEBUG=inittrace=1: %v", err)
	}
	type pkg struct {
		name  string
		bytes int
	}
	var pkgs []pkg
	total, allocs := 0, 0
	// init PKG @T ms, T ms clock, B bytes, N allocs
	for _, l := range strings.Split(trace.String(), "\n") {
		f := strings.Fields(l)
		if len(f) < 10 || f[0] != "init" {
			continue
		}
		b, _ := strconv.Atoi(f[7])
		a, _ := strconv.Atoi(f[9])
		total, allocs = total+b, allocs+a
		pkgs = append(pkgs, pkg{f[1], b})
	}
	if len(pkgs) == 0 {
		return fmt.Errorf("no init trace from ucmsh")
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].bytes > pkgs[j].bytes })
	fmt.Printf("  package initialisation: %d KB in %d allocations; most:", total/1000, allocs)
	for _, p := range pkgs[:min(4, len(pkgs))] {
		fmt.Printf(" %s %d KB", p.name, p.bytes/1000)
	}
	fmt.Println()
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
