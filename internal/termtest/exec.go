package termtest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Exec runs cmd over an SSH exec request on c with stdin as its input and
// returns what it wrote to stdout and to stderr, and its exit status. A
// session that cannot be opened or that ends without a status fails t.
func Exec(t testing.TB, c *ssh.Client, cmd, stdin string) (stdout, stderr string, status int) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var o, e bytes.Buffer
	s.Stdin, s.Stdout, s.Stderr = strings.NewReader(stdin), &o, &e
	err = s.Run(cmd)
	var ee *ssh.ExitError
	switch {
	case errors.As(err, &ee):
		return o.String(), e.String(), ee.ExitStatus()
	case err != nil:
		t.Fatalf("%s: %v", cmd, err)
	}
	return o.String(), e.String(), 0
}
