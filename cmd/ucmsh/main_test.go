package main

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ucmsh/ucmsh/golden"
)

// The test binary doubles as ucmsh: in scripts by name, and for the
// terminal test when UCMSH_AS_MAIN is set.
func TestMain(m *testing.M) {
	if os.Getenv("UCMSH_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"ucmsh": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// The scripts in testdata/script drive the built binary as users' scripts
// do: piped input, -c, exit codes, the subscriber, bad input.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: golden.Updating(),
		Setup: func(env *testscript.Env) error {
			env.Setenv("XDG_STATE_HOME", env.WorkDir+"/.state")
			// Tests never leave loopback: "direct" goes to a closed local port.
			env.Setenv("UCMSH_DIRECT_URL", "http://127.0.0.1:9")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":   exits,
			"bigline": bigline,
		},
	})
}

// exits CODE [<FILE] PROGRAM ARGS... runs a program and checks its exit
// status exactly (exec only knows zero and non-zero).
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE [<file] program args...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	args = args[1:]
	var stdin []byte
	if strings.HasPrefix(args[0], "<") {
		stdin = []byte(ts.ReadFile(args[0][1:]))
		args = args[1:]
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = os.Environ()
	for _, k := range []string{"PATH", "HOME", "XDG_STATE_HOME", "UCMSH_DIRECT_URL"} {
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	cmd.Stdin = bytes.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	got := 0
	if ee, ok := err.(*exec.ExitError); ok {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	ts.Logf("%s", out.String())
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// bigline FILE PREFIX N writes PREFIX followed by N letters and a newline.
func bigline(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: bigline file prefix n")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	data := args[1] + strings.Repeat("a", n) + "\n"
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(data), 0o644))
}
