package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/ucmsh/ucmsh/internal/statedir"

	"github.com/spf13/pflag"
	xterm "golang.org/x/term"

	"github.com/ucmsh/ucmsh/sshd"
)

const useraddUsage = `Usage: ucmsh useradd [flags] NAME

Adds an account that may log in to ucmsh serve with a password. The
password is read from the terminal without echo (twice), or from the first
line of standard input when it is not a terminal; it is stored as a salted
bcrypt hash in <state>/ssh/users (0600), with the account's privilege
level: 0 runs show commands, 4 also changes licensing (as on CUCM).

Flags:
`

func runUseradd(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("ucmsh useradd", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	state := fs.String("state", statedir.DefaultNode(), "the node's state folder")
	replace := fs.Bool("replace", false, "set a new password for an existing account")
	privilege := fs.String("privilege", "", "privilege level: 0 (show commands), 1, or 4 (licensing changes); default 4 for the first account, 1 after; --replace keeps the level")
	help := fs.BoolP("help", "h", false, "show this help")
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ucmsh useradd: "+format+"\n", a...)
		fmt.Fprintln(stderr, "Run ucmsh useradd --help for the flags.")
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return fail("%v", err)
	}
	if *help {
		fmt.Fprint(stdout, useraddUsage+fs.FlagUsages())
		return 0
	}
	if fs.NArg() != 1 {
		return fail("give one account name")
	}
	name := fs.Arg(0)
	if err := sshd.ValidUserName(name); err != nil {
		return fail("%v", err)
	}
	level := sshd.DefaultPrivilege
	if *privilege != "" {
		n, err := strconv.Atoi(*privilege)
		if err != nil || !slices.Contains(sshd.Privileges, n) {
			return fail("--privilege must be 0, 1 or 4, not %q", *privilege)
		}
		level = n
	}
	pw, err := readNewPassword(stdin, stderr, name)
	if err != nil {
		fmt.Fprintf(stderr, "ucmsh useradd: %v\n", err)
		return 1
	}
	dir := statedir.Node(*state).SSH()
	if err := os.MkdirAll(*state, 0o700); err != nil {
		fmt.Fprintf(stderr, "ucmsh useradd: %v\n", err)
		return 1
	}
	err = sshd.AddUserPrivilege(dir, name, pw, *replace, level)
	clear(pw)
	switch {
	case errors.Is(err, sshd.ErrUserExists):
		fmt.Fprintf(stderr, "ucmsh useradd: the account %s exists; add --replace to set a new password\n", name)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "ucmsh useradd: %v\n", err)
		return 1
	}
	verb := "added"
	if *replace {
		verb = "saved"
	}
	fmt.Fprintf(stdout, "ucmsh: account %s %s in %s\n", name, verb, filepath.Join(dir, sshd.UsersFile))
	return 0
}

// readNewPassword reads the password twice from a terminal, without
// echo; from a pipe or file, the first line. Echo goes off before the
// first prompt is printed, so a client that answers the instant the
// prompt appears is not echoed either.
func readNewPassword(in *os.File, prompt io.Writer, name string) ([]byte, error) {
	if !isTerminal(in) {
		line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) == 0 {
			return nil, errors.New("no password on standard input")
		}
		return line, nil
	}
	// Raw mode (no echo) for both questions: nothing typed ahead of
	// either prompt is echoed. term.Terminal reads each line (Enter,
	// Backspace; Control-C or Control-D give up).
	restore, err := noEcho(in)
	if err != nil {
		return nil, fmt.Errorf("cannot turn off echo: %v; pipe the password instead", err)
	}
	defer restore()
	t := xterm.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, prompt}, "")
	first, err := readSecret(t, fmt.Sprintf("Password for %s: ", name))
	if err != nil {
		return nil, err
	}
	again, err := readSecret(t, "Retype the password: ")
	if err != nil {
		return nil, err
	}
	if first != again {
		return nil, errors.New("the passwords differ; nothing was changed")
	}
	return []byte(first), nil
}

func readSecret(t *xterm.Terminal, prompt string) (string, error) {
	line, err := t.ReadPassword(prompt)
	if err != nil || line == "" {
		return "", errors.New("no password was typed")
	}
	if len(line) > 4096 {
		return "", errors.New("the password is too long")
	}
	return line, nil
}
