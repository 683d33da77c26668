package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/ssh"
)

// sshround ADDR USER PASSWORD FILE logs in to ucmsh serve with a password
// and a PTY, as CUCM collectors (paramiko invoke_shell, netmiko) do, types
// each line of FILE after the admin: prompt, and prints what the terminal
// received, line ends as "\n". It retries the connection for 10 s while
// the server starts.
func sshround(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: sshround addr user password file")
	}
	cfg := &ssh.ClientConfig{
		User: args[1], Auth: []ssh.AuthMethod{ssh.Password(args[2])},
		// A loopback test server whose key the script just generated.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	}
	var c *ssh.Client
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err = ssh.Dial("tcp", args[0], cfg); err == nil || time.Now().After(deadline) {
			break
		}
	}
	ts.Check(err)
	defer c.Close()
	s, err := c.NewSession()
	ts.Check(err)
	defer s.Close()
	ts.Check(s.RequestPty("vt100", 24, 200, ssh.TerminalModes{ssh.ECHO: 1}))
	in, err := s.StdinPipe()
	ts.Check(err)
	out, err := s.StdoutPipe()
	ts.Check(err)
	ts.Check(s.Shell())
	var (
		mu   sync.Mutex
		seen bytes.Buffer
		more = make(chan struct{}, 1)
	)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := out.Read(buf)
			mu.Lock()
			seen.Write(buf[:n])
			mu.Unlock()
			select {
			case more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	// waitPrompt waits until the output has grown past from and ends
	// with the prompt.
	waitPrompt := func(from int) {
		deadline := time.After(60 * time.Second)
		for {
			mu.Lock()
			done := seen.Len() > from && bytes.HasSuffix(seen.Bytes(), []byte("admin:"))
			mu.Unlock()
			if done {
				return
			}
			select {
			case <-more:
			case <-deadline:
				mu.Lock()
				defer mu.Unlock()
				ts.Fatalf("no admin: prompt within 60 s; the terminal shows:\n%s", seen.String())
			}
		}
	}
	waitPrompt(0)
	for _, line := range strings.Split(strings.TrimSuffix(ts.ReadFile(args[3]), "\n"), "\n") {
		mu.Lock()
		from := seen.Len() + len(line) + 2 // past the echo and its line end
		mu.Unlock()
		fmt.Fprintf(in, "%s\r", line)
		if line == "quit" {
			break
		}
		waitPrompt(from)
	}
	in.Close()
	s.Wait()
	mu.Lock()
	defer mu.Unlock()
	io.WriteString(ts.Stdout(), strings.ReplaceAll(seen.String(), "\r\n", "\n"))
}
