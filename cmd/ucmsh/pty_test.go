package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// console drives ucmsh through a pseudo-terminal, as an admin would: it
// waits for each prompt before typing. (Typing ahead trips a data race
// inside chzyer/readline v1.5.1, whose RuneBuffer.Reset runs unlocked.)
type console struct {
	t   *testing.T
	f   *os.File
	cmd *exec.Cmd

	mu   sync.Mutex
	out  bytes.Buffer
	seen int // output before this offset has been matched already
}

func startConsole(t *testing.T, rows, cols uint16, args ...string) *console {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "UCMSH_AS_MAIN=1", "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, f: f, cmd: cmd}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			c.mu.Lock()
			c.out.Write(buf[:n])
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
	})
	return c
}

// expect waits until text appears after what was matched before.
func (c *console) expect(text string) string {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		all := c.out.String()
		c.mu.Unlock()
		if i := strings.Index(all[c.seen:], text); i >= 0 {
			got := all[c.seen : c.seen+i+len(text)]
			c.seen += i + len(text)
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t.Fatalf("timed out waiting for %q; the terminal shows:\n%q", text, c.out.String()[c.seen:])
	return ""
}

func (c *console) send(keys string) {
	c.t.Helper()
	if _, err := c.f.Write([]byte(keys)); err != nil {
		c.t.Fatal(err)
	}
}

// wait checks that the session ended cleanly.
func (c *console) wait() {
	c.t.Helper()
	if err := c.cmd.Wait(); err != nil {
		time.Sleep(50 * time.Millisecond) // let the reader take the last output
		c.mu.Lock()
		defer c.mu.Unlock()
		out := c.out.String()
		c.t.Fatalf("the session ended with %v; the terminal shows:\n%s", err, out[max(0, len(out)-6000):])
	}
}

const pager = "\x1b[1mPress <enter> for 1 line, <space> for one page, or <q> to quit\x1b[0m\x1b[K"

func TestInteractiveTerminal(t *testing.T) {
	state := t.TempDir()
	c := startConsole(t, 12, 100, "--state", state, "--now", "2026-11-01T10:00:00Z")

	// Banner, then the prompt as the last thing written.
	c.expect("Command Line Interface is starting up, please wait ...\r\n\r\n   Welcome to the Platform Command Line Interface\r\n\r\nVMware Installation:\r\n\t2 vCPU: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\r\n")
	c.expect("admin:")

	// Tab completes a word; on several continuations it lists them.
	c.send("show license UD\t")
	c.expect("UDI ")
	c.send("\r")
	c.expect("UDI: PID:UCM,SN:")
	c.expect("admin:")
	c.send("license smart \t")
	c.expect("admin:license smart \r\nregister*")
	listing := c.expect("\r\n")
	for _, w := range []string{"deregister", "reservation*", "export*"} {
		if !strings.Contains(listing, w) {
			t.Errorf("the Tab listing lacks %q:\n%q", w, listing)
		}
	}
	c.expect("admin:license smart ")
	c.send("res\t")
	c.expect("admin:license smart reservation ")
	c.send("\x15") // Control-U clears the line

	// "?" prints the syntax.
	c.send("license smart register idtoken ?\r")
	c.expect("Syntax:\r\nlicense smart register idtoken <token> [force]\r\ntoken       mandatory   registration token from the Smart Account\r\n")
	c.expect("admin:")

	// Control-C abandons the line.
	c.send("show lic\x03")
	c.expect("Control-C pressed\r\n")
	c.expect("admin:")

	// Long output is paged: space for a page, enter for a line, q to quit.
	c.send("show license all\r")
	first := c.expect(pager)
	if !strings.Contains(first, "Smart Licensing Status") || strings.Contains(first, "Agent Version") {
		t.Fatalf("first page:\n%q", first)
	}
	// (Each key also redraws the question once before it goes, so wait
	// for the new lines, not just the question.)
	c.send(" ") // lines 12-22 of the report, ending in the first entitlement
	page := c.expect("Evaluation Period:\r\n")
	page += c.expect("  Description: null\r\n")
	if strings.Contains(page, "Count:") {
		t.Fatalf("space showed more than a page:\n%q", page)
	}
	c.expect(pager)
	c.send("\r") // line 23
	c.expect("  Count: 0\r\n")
	c.expect(pager)
	c.send("q")
	c.expect("admin:")

	// Control-C at the pager stops it too.
	c.send("show license all\r")
	c.expect(pager)
	c.send("\x03")
	c.expect("Control-C pressed")
	c.expect("admin:")

	// With pagination off, the whole report comes at once.
	c.send("set cli pagination off\r")
	c.expect("Automatic pagination is turned off")
	c.expect("admin:")
	c.send("show license all\r")
	all := c.expect("Smart Agent for Licensing: 1.3.4\r\n")
	if strings.Contains(all, "Press <enter>") {
		t.Fatal("paged with pagination off")
	}
	c.expect("admin:")

	// A failing command, then quit.
	c.send("show licence\r")
	c.expect("Executed command unsuccessfully\r\n")
	c.expect("admin:")
	c.send("quit\r")
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
	c.expect("admin:")
	c.send("\x1b[A\r") // Up, Enter
	c.expect("Active Master Version: 14.0.1.13900-155")
	c.send("quit\r")
	c.wait()
}
