// Command piped measures piped throughput: 10,000 mixed read commands
// (show license ..., show myself, help, `<command> ?`) piped into one ucmsh
// on a state folder with a full trace, timed from fork to exit, several
// times; it prints the median in commands per second. Target: over
// 20,000 commands/s.
//
//	go run ./bench/piped [-n 10000] [-runs 7] [-bin ./ucmsh]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/bench/internal/harness"
)

const target = 20000.0 // commands per second

// mix is the read-only command mix: every report, platform commands,
// help and syntax help.
var mix = []string{
	"show license all", "show license status", "show license summary", "show license usage",
	"show license UDI", "show license trace", "show license tech support",
	"show myself", "show version active", "show network cluster", "show cli pagination",
	"help", "help show license all", "help license smart reservation install",
	"show license ?", "license smart reservation ?", "license smart register idtoken ?",
}

func main() {
	n := flag.Int("n", 10000, "commands per run")
	runs := flag.Int("runs", 7, "runs")
	flag.Parse()
	if err := run(*n, *runs); err != nil {
		fmt.Fprintf(os.Stderr, "piped: %v\n", err)
		os.Exit(1)
	}
}

func run(n, runs int) error {
	bin, dir, cleanup, err := harness.SetupFullTrace()
	if err != nil {
		return err
	}
	defer cleanup()
	rng := rand.New(rand.NewPCG(1, 2))
	var in strings.Builder
	licensing := 0
	for range n {
		c := mix[rng.IntN(len(mix))]
		if strings.HasPrefix(c, "show license ") && !strings.HasSuffix(c, "?") {
			licensing++
		}
		in.WriteString(c + "\n")
	}
	input := []byte(in.String())
	fmt.Printf("piped: %d mixed read commands (%d of them licensing reports, each a store transaction) piped into one ucmsh, %d runs\n", n, licensing, runs)
	fmt.Printf("machine: %s\n", harness.Machine())

	var samples []time.Duration
	var outBytes int64
	for i := -1; i < runs; i++ { // one unmeasured warm-up run
		d, nb, err := once(bin, dir, input)
		if err != nil {
			return err
		}
		if i >= 0 {
			samples = append(samples, d)
			outBytes = nb
		}
	}
	st := harness.Summarize(samples)
	rate := float64(n) / st.Med.Seconds()
	fmt.Printf("  wall time per run: %s\n", st)
	fmt.Printf("  output: %.1f MB per run\n", float64(outBytes)/1e6)
	fmt.Printf("  median throughput: %.0f commands/s (%.1f µs per command)  [%s: target > %.0f commands/s]\n",
		rate, st.Med.Seconds()/float64(n)*1e6, harness.Verdict(rate > target), target)
	if rate <= target {
		return fmt.Errorf("throughput below target")
	}
	return nil
}

// once runs the whole input through one ucmsh and drains its output, as a
// script reading the results would.
func once(bin, dir string, input []byte) (time.Duration, int64, error) {
	cmd := exec.Command(bin, "--state", dir)
	cmd.Env = harness.Env()
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	nb, _ := io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return 0, 0, fmt.Errorf("ucmsh: %v (a command failed?)\n%s", err, stderr.String())
	}
	return time.Since(start), nb, nil
}
