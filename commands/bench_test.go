package commands

import (
	"context"
	"io"
	"testing"
)

// Micro-benchmarks of the command layer (bench/README.md lists the
// figures). Run with: go test -run '^$' -bench . -benchmem ./commands

// benchLines is the read-only mix of bench/piped: reports, platform
// commands, help and syntax help.
var benchLines = []string{
	"show license all", "show license status", "show license summary", "show license usage",
	"show license UDI", "show license trace", "show license tech support", "show myself",
	"help", "help show license all", "show license ?", "license smart reservation ?",
	"show version active", "show network cluster",
}

// discardTerm is a terminal whose output goes nowhere.
type discardTerm struct{ fakeTerm }

func (d *discardTerm) Write(p []byte) (int, error)       { return len(p), nil }
func (d *discardTerm) WriteString(s string) (int, error) { return len(s), nil }

// fullTraceNode is a node whose trace is full (200 events), the largest
// state file a node keeps in reservation-free operation.
func fullTraceNode(b *testing.B) *Runner {
	b.Helper()
	n := newNode(b)
	r := n.at(t0, labUsage)
	for i := 0; i < 110; i++ {
		for _, l := range []string{"license smart reservation enable", "license smart reservation disable"} {
			if out, res := run(r, l); res != OK {
				b.Fatalf("%s: %s", l, out)
			}
		}
	}
	return r
}

func BenchmarkTokenize(b *testing.B) {
	const line = `license smart reservation install "<specificPLR><authorizationCode><flag>A</flag><version>C</version></authorizationCode></specificPLR>"`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Tokenize(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	r := NewRunner(Publisher, testProfile(b, labUsage), nil)
	toks, err := Tokenize("license smart register idtoken ODRlOTM5MjItOTQzOS00YjY0 force")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.resolve(toks); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderAll renders `show license all` from a model built once.
func BenchmarkRenderAll(b *testing.B) {
	r := fullTraceNode(b)
	m, err := r.Service.Report()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if s := RenderAll(m); len(s) == 0 {
			b.Fatal("empty report")
		}
	}
}

// BenchmarkShowLicenseAll is one whole command on a real store: timers,
// the state transaction, the report model and its rendering.
func BenchmarkShowLicenseAll(b *testing.B) {
	r := fullTraceNode(b)
	term := &discardTerm{}
	b.ReportAllocs()
	for b.Loop() {
		if r.Execute(context.Background(), term, "show license all") != OK {
			b.Fatal("failed")
		}
	}
}

// BenchmarkReadMix runs the mix of bench/piped in turn against a real
// store with a full trace; ns/op is the cost of one command.
func BenchmarkReadMix(b *testing.B) {
	r := fullTraceNode(b)
	term := &discardTerm{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if r.Execute(context.Background(), term, benchLines[i%len(benchLines)]) != OK {
			b.Fatal(benchLines[i%len(benchLines)])
		}
		i++
	}
}

// BenchmarkReservationCycle is one state-changing command (half enables,
// half disables), each written durably.
func BenchmarkReservationCycle(b *testing.B) {
	r := fullTraceNode(b)
	term := &discardTerm{}
	lines := []string{"license smart reservation enable", "license smart reservation disable"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if r.Execute(context.Background(), term, lines[i%2]) != OK {
			b.Fatal(lines[i%2])
		}
		i++
	}
}

var _ io.StringWriter = (*discardTerm)(nil)
