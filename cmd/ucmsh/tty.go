package main

import (
	"os"

	xterm "golang.org/x/term"
)

func isTerminal(f *os.File) bool { return xterm.IsTerminal(int(f.Fd())) }

// noEcho puts the terminal in raw mode, so nothing typed is echoed, and
// returns what restores it. Raw mode also passes Enter as CR, Backspace
// and Control-C as bytes: readSecretLine handles them.
func noEcho(f *os.File) (func(), error) {
	fd := int(f.Fd())
	old, err := xterm.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	return func() { xterm.Restore(fd, old) }, nil
}
