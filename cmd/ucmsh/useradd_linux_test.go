package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// echoOn reports whether the terminal whose master side is f echoes (on
// Linux the master's TCGETS reads the terminal's settings).
// An unreadable setting counts as on: nothing proves it off.
func echoOn(f *os.File) bool {
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err != nil || tio.Lflag&unix.ECHO != 0
}

func useraddCmd(state string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "useradd", "--state", state, "admin")
	cmd.Env = append(os.Environ(), "UCMSH_AS_MAIN=1")
	return cmd
}

// A client that answers the instant the prompt appears is never echoed:
// 100 runs out of 100. The answer is written by the goroutine that reads
// the prompt, with no hop in between.
func TestUseraddNoEchoForInstantAnswers(t *testing.T) {
	state := t.TempDir()
	for run := 0; run < 100; run++ {
		cmd := useraddCmd(state)
		// The test keeps its own descriptor of the terminal open until it has
		// read everything: Linux may drop what a program wrote just before
		// the last descriptor of a terminal closes.
		f, tty, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		pty.Setsize(f, &pty.Winsize{Rows: 24, Cols: 80})
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		final := make(chan struct{})
		type result struct {
			out      string
			echoed   bool // echo was on when the prompt was read
			answered int
		}
		done := make(chan result, 1)
		go func() {
			var out bytes.Buffer
			var r result
			buf := make([]byte, 4096)
			for {
				n, err := f.Read(buf)
				out.Write(buf[:n])
				s := out.String()
				switch {
				case r.answered == 0 && strings.HasSuffix(s, "Password for admin: "):
					f.WriteString("instant-s3cret\r")
					r.echoed = echoOn(f)
					r.answered++
				case r.answered == 1 && strings.HasSuffix(s, "Retype the password: "):
					f.WriteString("other-s3cret\r")
					r.answered++
				case r.answered == 2 && strings.Contains(s, "nothing was changed\r\n"):
					r.answered++
					close(final)
				}
				if err != nil {
					r.out = s
					done <- r
					return
				}
			}
		}()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var r result
		select {
		case err := <-exited:
			select { // what it wrote last, then the end of the terminal
			case <-final:
			case <-time.After(5 * time.Second):
			}
			tty.Close()
			r = <-done
			f.Close()
			if err == nil {
				t.Fatalf("run %d: useradd succeeded with different passwords", run)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
			tty.Close()
			f.Close()
			t.Fatalf("run %d: useradd did not finish; the terminal shows %q", run, (<-done).out)
		}
		if r.echoed || strings.Contains(r.out, "s3cret") || r.answered < 2 {
			t.Fatalf("run %d: echo on at the prompt: %v; the terminal shows %q", run, r.echoed, r.out)
		}
		if !strings.Contains(r.out, "the passwords differ; nothing was changed") {
			t.Fatalf("run %d: %q", run, r.out)
		}
	}
}

// Echo goes off before the prompt is written: with the terminal's output
// held (Control-S), a program that printed the prompt first would wait
// there with echo still on.
func TestUseraddEchoOffBeforePrompt(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	master.WriteString("\x13") // XOFF: the terminal holds its output
	// Wait until it does: a non-blocking write to the terminal then fails.
	// (A raw descriptor: os.File would wait for the write instead.)
	probe, err := syscall.Open(slave.Name(), syscall.O_WRONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	held := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := syscall.Write(probe, []byte{'.'}); errors.Is(err, syscall.EAGAIN) {
			held = true
			break
		}
	}
	syscall.Close(probe)
	if !held {
		t.Fatal("the terminal did not hold its output on Control-S")
	}
	cmd := useraddCmd(t.TempDir())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	off := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if !echoOn(master) {
			off = true
			break
		}
	}
	if !off {
		t.Fatal("echo was still on while the prompt was being written")
	}
}
