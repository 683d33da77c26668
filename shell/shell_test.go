package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	_ "github.com/ucmsh/ucmsh/golden" // accept -update like every package
)

// script runs input through a session whose commands are echoed back by
// a fake command layer.
func script(t *testing.T, input string, run func(ctx context.Context, s *Session, line string) Outcome) (string, int) {
	t.Helper()
	var out strings.Builder
	s := New(Config{
		Editor: NewPlain(strings.NewReader(input), &out, false), MaxLine: 16, Echo: true,
		OpenQuote: func(text string) bool { return strings.Count(text, `"`)%2 == 1 },
		Run:       run,
	})
	failures := s.Run(context.Background())
	return out.String(), failures
}

func echo(_ context.Context, s *Session, line string) Outcome {
	fmt.Fprintf(s, "ran %q (%d bytes)\n", line, len(line))
	if strings.HasPrefix(line, "fail") {
		return Failed
	}
	if line == "quit" {
		return Quit
	}
	return OK
}

func TestScriptRunsEveryLine(t *testing.T) {
	out, failures := script(t, "one\n\nfail here\r\ntwo", echo)
	want := "admin:one\nran \"one\" (3 bytes)\nadmin:fail here\nran \"fail here\" (9 bytes)\nadmin:two\nran \"two\" (3 bytes)\n"
	if out != want || failures != 1 {
		t.Fatalf("got %q, %d failures", out, failures)
	}
}

// A line longer than MaxLine reaches the command layer cut to MaxLine+1
// bytes, so it can refuse it; the rest is skipped, and the next line runs.
func TestOverlongLineIsCut(t *testing.T) {
	out, _ := script(t, strings.Repeat("x", 100000)+"\nnext\n", echo)
	if !strings.Contains(out, "(17 bytes)") || !strings.Contains(out, `ran "next"`) {
		t.Fatal(out)
	}
}

func TestQuotedArgumentSpansLines(t *testing.T) {
	out, _ := script(t, "a \"b\nc\" d\nquit\nnever\n", echo)
	if !strings.Contains(out, "ran \"a \\\"b\\nc\\\" d\"") || strings.Contains(out, "never") {
		t.Fatal(out)
	}
}

// In a script, a question is answered by the next line; end of input
// answers nothing.
func TestQuestionsReadTheNextLine(t *testing.T) {
	ask := func(ctx context.Context, s *Session, line string) Outcome {
		ok, err := s.Confirm(ctx, "Continue (y/n)?")
		fmt.Fprintf(s, "%s: %v %v\n", line, ok, err)
		return OK
	}
	out, _ := script(t, "first\nmaybe\nYES\nsecond\nn\nthird\n", ask)
	for _, want := range []string{"first: true <nil>", "second: false <nil>", "third: false The question was not answered"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if !errors.Is(ErrInterrupted, context.Canceled) {
		t.Fatal("Control-C must read as a cancelled command")
	}
}

// A terminal at the other end of a stream has no driver: Enter's CR (or
// CR LF) becomes a line end, and "\n" goes out as "\r\n".
func TestCRLFStreams(t *testing.T) {
	if got, _ := io.ReadAll(NewCRReader(strings.NewReader("y\rno\r\nx\n"))); string(got) != "y\nno\nx\n" {
		t.Fatalf("CR reader: %q", got)
	}
	var b strings.Builder
	io.WriteString(NewCRLFWriter(&b), "a\nb\r\nc\n")
	if b.String() != "a\r\nb\r\nc\r\n" {
		t.Fatalf("CRLF writer: %q", b.String())
	}
}

// A script's failures go to Config.Err, after what was printed before
// them where both streams end up in one place; the exit status is 1 when
// any command failed.
func TestScriptErrorsGoToErr(t *testing.T) {
	run := func(_ context.Context, s *Session, line string) Outcome {
		fmt.Fprintf(s, "out %s\n", line)
		if strings.HasPrefix(line, "fail") {
			fmt.Fprintf(s.Errors(), "error %s\n", line)
			return Failed
		}
		return OK
	}
	var both strings.Builder
	var errs strings.Builder
	s := New(Config{Editor: NewPlain(strings.NewReader("one\nfail two\nthree\n"), &both, false),
		Err: io.MultiWriter(&errs, &both), Run: run})
	if st := s.Exit(context.Background()); st != 1 {
		t.Errorf("exit status %d, want 1", st)
	}
	if want := "out one\nout fail two\nerror fail two\nout three\n"; both.String() != want {
		t.Errorf("the streams together read %q, want %q", both.String(), want)
	}
	if errs.String() != "error fail two\n" {
		t.Errorf("stderr %q", errs.String())
	}

	// Without Err, failures stay with the output (a terminal, --echo).
	var out strings.Builder
	s = New(Config{Editor: NewPlain(nil, &out, false), Run: run})
	if st := s.ExitLine(context.Background(), "fail alone"); st != 1 || out.String() != "out fail alone\nerror fail alone\n" {
		t.Errorf("exit %d, output %q", st, out.String())
	}
	s = New(Config{Editor: NewPlain(nil, io.Discard, false), Run: run})
	if st := s.ExitLine(context.Background(), "fine"); st != 0 {
		t.Errorf("exit %d for a command that succeeded", st)
	}
}
