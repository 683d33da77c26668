package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// ucmshCmd is the test binary run as ucmsh on a state folder.
func ucmshCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"--state", dir}, args...)...)
	cmd.Env = append(os.Environ(), "UCMSH_AS_MAIN=1", "UCMSH_DIRECT_URL=http://127.0.0.1:9")
	return cmd
}

// savedNode is a state folder holding a node's state, and that state.
func savedNode(t *testing.T) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	if out, err := ucmshCmd(dir, "-c", "show license status").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	before, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, before
}

// saveFailed checks what a state-changing command printed when its state
// could not be saved, and that the old state is intact.
func saveFailed(t *testing.T, dir string, before []byte, out string, err error, cause string) {
	t.Helper()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\n%s", err, out)
	}
	path := regexp.QuoteMeta(filepath.Join(dir, "state.json"))
	want := regexp.MustCompile(`(?m)^Cannot save the licensing state to ` + path + `: .*` + cause +
		`\. The previous state is unchanged; free some space or fix the folder's permissions, then try again\.\nExecuted command unsuccessfully\n`)
	if !want.MatchString(out) {
		t.Fatalf("output does not explain the failure (want %s):\n%s", want, out)
	}
	if strings.Contains(out, "License Reservation is ENABLED") {
		t.Fatalf("the reservation was enabled after all:\n%s", out)
	}
	after, rerr := os.ReadFile(filepath.Join(dir, "state.json"))
	if rerr != nil || !bytes.Equal(after, before) {
		t.Fatalf("state changed (%v):\n%s", rerr, after)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
}

// A full disk: the file size limit (RLIMIT_FSIZE, which binds root too)
// makes the write of the new state fail with EFBIG, as ENOSPC would.
func TestDiskFullKeepsOldState(t *testing.T) {
	dir, before := savedNode(t)
	cmd := ucmshCmd(dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// ucmsh waits for its input, so the limit is in place before it writes.
	lim := unix.Rlimit{Cur: 64, Max: 64}
	if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("cannot limit the child's file size (prlimit: %v)", err)
	}
	io.WriteString(stdin, "license smart reservation enable\nshow license status\n")
	stdin.Close()
	err = cmd.Wait()
	saveFailed(t, dir, before, out.String(), err, "file too large")
}

// A read-only state folder. Root ignores permissions, so as root the
// folder is made immutable (chattr +i, which binds root).
func TestReadOnlyFolderKeepsOldState(t *testing.T) {
	dir, before := savedNode(t)
	cause := "permission denied"
	if os.Geteuid() == 0 {
		// Root ignores permissions: make the folder immutable (chattr, e2fsprogs).
		if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
			t.Fatalf("as root the folder must be made immutable: %v %s", err, out)
		}
		defer exec.Command("chattr", "-i", dir).Run()
		cause = "operation not permitted"
	} else {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o700)
	}
	cmd := ucmshCmd(dir)
	cmd.Stdin = strings.NewReader("license smart reservation enable\nshow license status\n")
	out, err := cmd.CombinedOutput()
	saveFailed(t, dir, before, string(out), err, cause)
}
