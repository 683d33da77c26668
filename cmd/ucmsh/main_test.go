package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// scriptEnv puts cssm on the scripts' PATH and keeps their state in the
// work folder. Tests never leave loopback: "direct" goes to a closed local port.
func scriptEnv(env *testscript.Env) error {
	bin, err := cssmBinary()
	if err != nil {
		return err
	}
	env.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+env.Getenv("PATH"))
	env.Setenv("XDG_STATE_HOME", env.WorkDir+"/.state")
	env.Setenv("UCMSH_DIRECT_URL", "http://127.0.0.1:9")
	return nil
}

// The scripts in testdata/script drive the built binary as users' scripts
// do: piped input, -c, exit codes, the subscriber, bad input.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: golden.Updating(),
		Setup:         scriptEnv,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":    exits,
			"bigline":  bigline,
			"ready":    ready,
			"envfile":  envfile,
			"waithttp": waithttp,
			"grepset":  grepset,
			"httpjson": httpjson,
			"sshround": sshround,
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

var (
	cssmOnce sync.Once
	cssmBin  string
	cssmErr  error
)

// cssmBinary builds the licensing server once for every script.
func cssmBinary() (string, error) {
	cssmOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ucmsh-cssm-")
		if err != nil {
			cssmErr = err
			return
		}
		cssmBin = filepath.Join(dir, "cssm")
		out, err := exec.Command("go", "build", "-o", cssmBin, "github.com/ucmsh/ucmsh/cmd/cssm").CombinedOutput()
		if err != nil {
			cssmErr = fmt.Errorf("build cssm: %v\n%s", err, out)
		}
	})
	return cssmBin, cssmErr
}

// ready NAME FILE FIELD waits (up to 10 s) for the ready file a server
// started with --listen 127.0.0.1:0 --ready-file FILE writes, and sets
// $NAME to its FIELD ("ssh" for ucmsh serve, "url" for cssm serve). (A
// port found free and then handed to the server could be taken by another
// process meanwhile.)
func ready(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: ready NAME file field")
	}
	path := ts.MkAbs(args[1])
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		data, err := os.ReadFile(path)
		if err == nil {
			var fields map[string]any
			ts.Check(json.Unmarshal(data, &fields))
			v, ok := fields[args[2]].(string)
			if !ok {
				ts.Fatalf("%s has no %q: %s", args[1], args[2], data)
			}
			ts.Setenv(args[0], v)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no ready file %s within 10 s: %v", args[1], err)
		}
	}
}

// envfile NAME FILE sets $NAME to the file's text without its line end
// (e.g. a token cssm printed).
func envfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile NAME file")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}

// waithttp URL waits (up to 10 s) until URL answers 200.
func waithttp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waithttp URL")
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(args[0])
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("%s did not answer within 10 s", args[0])
}

// grepset NAME REGEXP FILE sets $NAME to the first group of the regexp's
// first match in the file (a code printed among other lines).
func grepset(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: grepset NAME regexp file")
	}
	m := regexp.MustCompile(args[1]).FindStringSubmatch(ts.ReadFile(args[2]))
	if len(m) < 2 {
		ts.Fatalf("no match for %s in %s", args[1], args[2])
	}
	ts.Setenv(args[0], m[1])
}

// httpjson METHOD URL BODYFILE sends BODYFILE's content ("-": none) as JSON,
// with "Authorization: Bearer $BEARER" when $BEARER is set, and prints the
// answer's status line and body (cssm's REST API, as automation calls it).
func httpjson(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: httpjson METHOD URL BODYFILE")
	}
	var body io.Reader
	if args[2] != "-" {
		body = strings.NewReader(ts.ReadFile(args[2]))
	}
	req, err := http.NewRequest(args[0], args[1], body)
	ts.Check(err)
	req.Header.Set("Content-Type", "application/json")
	if b := ts.Getenv("BEARER"); b != "" {
		req.Header.Set("Authorization", "Bearer "+b)
	}
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d\n%s\n", resp.StatusCode, out)
}
