// Command micro runs the Go micro-benchmarks (tokenizing, resolving,
// rendering `show license all`, parsing and verifying an authorization
// code, loading and saving the state, whole commands in process) with
// -benchmem, several times, and prints the median of each figure.
//
//	go run ./bench/micro [-count 5] [-benchtime 1s] [-bench REGEXP]
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ucmsh/ucmsh/bench/internal/harness"
)

var packages = []string{"./commands", "./publisher", "./reservation"}

func main() {
	count := flag.Int("count", 5, "runs of each benchmark")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime")
	bench := flag.String("bench", ".", "go test -bench")
	flag.Parse()
	if err := run(*count, *benchtime, *bench); err != nil {
		fmt.Fprintf(os.Stderr, "micro: %v\n", err)
		os.Exit(1)
	}
}

type figures struct{ ns, bytes, allocs []float64 }

func run(count int, benchtime, bench string) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return err
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	args := append([]string{"test", "-run", "^$", "-bench", bench, "-benchmem",
		"-count", strconv.Itoa(count), "-benchtime", benchtime}, packages...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, os.Stderr
	fmt.Printf("micro: go %s (median of %d)\n", strings.Join(args, " "), count)
	fmt.Printf("machine: %s\n", harness.Machine())
	if err := cmd.Run(); err != nil {
		os.Stdout.Write(buf.Bytes())
		return err
	}
	var order []string
	res := map[string]*figures{}
	pkg := ""
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "pkg:" {
			pkg = filepath.Base(f[1])
		}
		if len(f) < 8 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		name = pkg + "." + strings.TrimPrefix(name, "Benchmark")
		r := res[name]
		if r == nil {
			r = &figures{}
			res[name] = r
			order = append(order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				r.ns = append(r.ns, v)
			case "B/op":
				r.bytes = append(r.bytes, v)
			case "allocs/op":
				r.allocs = append(r.allocs, v)
			}
		}
	}
	fmt.Printf("%-36s %14s %12s %10s\n", "benchmark", "ns/op", "B/op", "allocs/op")
	for _, name := range order {
		r := res[name]
		fmt.Printf("%-36s %14s %12.0f %10.0f\n", name, ns(median(r.ns)), median(r.bytes), median(r.allocs))
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func ns(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.2f µs", v/1e3)
	}
	return fmt.Sprintf("%.0f ns", v)
}
