package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/termtest"
)

// console drives ucmsh through a pseudo-terminal, as an admin would: it
// waits for each prompt before typing. (Typing ahead trips a data race
// inside chzyer/readline v1.5.1, whose RuneBuffer.Reset runs unlocked.)
type console struct {
	*termtest.Screen
	t   *testing.T
	f   *os.File // the terminal, for Setsize
	cmd *exec.Cmd
}

func startConsole(t *testing.T, rows, cols uint16, args ...string) *console {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "UCMSH_AS_MAIN=1", "TERM=xterm")
	return ptyConsole(t, cmd, rows, cols)
}

func ptyConsole(t *testing.T, cmd *exec.Cmd, rows, cols uint16) *console {
	t.Helper()
	s, f := termtest.StartPTY(t, cmd, rows, cols)
	return &console{Screen: s, t: t, f: f, cmd: cmd}
}

// wait checks that the session ended cleanly.
func (c *console) wait() {
	c.t.Helper()
	if err := c.cmd.Wait(); err != nil {
		time.Sleep(50 * time.Millisecond) // let the reader take the last output
		out := c.Out.String()
		c.t.Fatalf("the session ended with %v; the terminal shows:\n%s", err, out[max(0, len(out)-6000):])
	}
}

const pager = "\x1b[1mPress <enter> for 1 line, <space> for one page, or <q> to quit\x1b[0m\x1b[K"

func TestInteractiveTerminal(t *testing.T) {
	state := t.TempDir()
	c := startConsole(t, 12, 100, "--state", state, "--now", "2026-11-01T10:00:00Z")

	// Banner, then the prompt as the last thing written.
	c.Expect("Command Line Interface is starting up, please wait ...\r\n\r\n   Welcome to the Platform Command Line Interface\r\n\r\nVMware Installation:\r\n\t2 vCPU: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\r\n")
	c.Expect("admin:")

	// Tab completes a word; on several continuations it lists them.
	c.Send("show license UD\t")
	c.Expect("UDI ")
	c.Send("\r")
	c.Expect("UDI: PID:UCM,SN:")
	c.Expect("admin:")
	c.Send("license smart \t")
	c.Expect("admin:license smart \r\nregister*")
	listing := c.Expect("\r\n")
	for _, w := range []string{"deregister", "reservation*", "export*"} {
		if !strings.Contains(listing, w) {
			t.Errorf("the Tab listing lacks %q:\n%q", w, listing)
		}
	}
	c.Expect("admin:license smart ")
	c.Send("res\t")
	c.Expect("admin:license smart reservation ")
	c.Send("\x15") // Control-U clears the line

	// "?" prints the syntax.
	c.Send("license smart register idtoken ?\r")
	c.Expect("Syntax:\r\nlicense smart register idtoken <token> [force]\r\ntoken       mandatory   registration token from the Smart Account\r\n")
	c.Expect("admin:")

	// Control-C abandons the line.
	c.Send("show lic\x03")
	c.Expect("Control-C pressed\r\n")
	c.Expect("admin:")

	// Long output is paged: space for a page, enter for a line, q to quit.
	c.Send("show license all\r")
	first := c.Expect(pager)
	if !strings.Contains(first, "Smart Licensing Status") || strings.Contains(first, "Agent Version") {
		t.Fatalf("first page:\n%q", first)
	}
	// (Each key also redraws the question once before it goes, so wait
	// for the new lines, not just the question.)
	c.Send(" ") // lines 12-22 of the report, ending in the first entitlement
	page := c.Expect("Evaluation Period:\r\n")
	page += c.Expect("  Description: null\r\n")
	if strings.Contains(page, "Count:") {
		t.Fatalf("space showed more than a page:\n%q", page)
	}
	c.Expect(pager)
	c.Send("\r") // line 23
	c.Expect("  Count: 0\r\n")
	c.Expect(pager)
	c.Send("q")
	c.Expect("admin:")

	// Control-C at the pager stops it too.
	c.Send("show license all\r")
	c.Expect(pager)
	c.Send("\x03")
	c.Expect("Control-C pressed")
	c.Expect("admin:")

	// With pagination off, the whole report comes at once.
	c.Send("set cli pagination off\r")
	c.Expect("Automatic pagination is turned off")
	c.Expect("admin:")
	c.Send("show license all\r")
	all := c.Expect("Smart Agent for Licensing: 1.3.4\r\n")
	if strings.Contains(all, "Press <enter>") {
		t.Fatal("paged with pagination off")
	}
	c.Expect("admin:")

	// A failing command, then quit.
	c.Send("show licence\r")
	c.Expect("Executed command unsuccessfully\r\n")
	c.Expect("admin:")
	c.Send("quit\r")
	c.wait()

	// History is kept in the state folder, private to the user.
	hist, err := os.ReadFile(filepath.Join(state, "history"))
	if err != nil || !strings.Contains(string(hist), "show license all\n") {
		t.Fatalf("history: %q, %v", hist, err)
	}
	if info, _ := os.Stat(filepath.Join(state, "history")); info.Mode().Perm() != 0o600 {
		t.Fatalf("history mode %v", info.Mode())
	}
}

// History from an earlier session is there in the next one.
func TestHistoryAcrossSessions(t *testing.T) {
	state := t.TempDir()
	if err := os.WriteFile(filepath.Join(state, "history"), []byte("show version active\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startConsole(t, 40, 100, "--state", state)
	c.Expect("admin:")
	c.Send("\x1b[A\r") // Up, Enter
	c.Expect("Active Master Version: 14.0.1.13900-155")
	c.Send("quit\r")
	c.wait()
}
