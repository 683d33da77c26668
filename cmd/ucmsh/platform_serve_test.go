package main

import (
	"strings"
	"testing"
)

// Over SSH with a PTY, on the real clock, utils service list shows its
// first line before Service Manager's pause, and Control-C during the
// pause abandons the list.
func TestServeServiceListPauseOverSSH(t *testing.T) {
	l := startServe(t, "--now=") // the system clock: the pause is real
	tm := openTerm(t, l.dial("admin"), 24, 120)
	tm.Expect("admin:")
	tm.Send("set cli pagination off\r")
	tm.Expect("admin:")
	tm.Send("utils service list\r")
	tm.Expect("utils service list\r\nRequesting service status, please wait...\r\n")
	// The list comes seconds later; it cannot have been written with the
	// first line unless the first line waited for it.
	if rest := tm.Rest(); strings.Contains(rest, "[STARTED]") {
		t.Fatalf("the list came with the first line: %q", rest)
	}
	tm.Send("\x03")
	got := tm.Expect("admin:")
	if !strings.Contains(got, "Control-C pressed") || strings.Contains(got, "[STARTED]") {
		t.Fatalf("after Control-C: %q", got)
	}
	// Left alone, the list follows the pause.
	tm.Send("utils service list\r")
	got = tm.Expect("Primary Node =true\r\nadmin:")
	if !strings.Contains(got, "\r\nCisco Smart License Manager[STARTED]\r\n") {
		t.Fatalf("the list: %q", got)
	}
}
