// Package cli is what the two binaries share on their command lines: the
// version line, flag usage without pflag's "[=true|false]", and the
// loopback rule of --listen.
package cli

import (
	"fmt"
	"net"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
)

// Version is the line --version prints: the module version and the commit
// `go build` stamped in a git checkout (vcs.revision), or "unknown" where
// none was stamped (-buildvcs=false, as CI builds, or a build outside git).
func Version(prog string) string {
	info, ok := debug.ReadBuildInfo()
	return versionLine(prog, info, ok)
}

func versionLine(prog string, info *debug.BuildInfo, ok bool) string {
	version, commit, modified := "unknown", "unknown", false
	if ok {
		if v := info.Main.Version; v != "" {
			version = v
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("%s version %s, commit %s\n", prog, version, commit)
}

// FlagUsages lists fs's visible flags as pflag does, but a boolean flag is
// shown as plain --name: pflag 1.1 writes "--name[=true|false]", which
// reads as if a value were needed. -h, --help (pflag.ErrHelp) ends the list.
func FlagUsages(fs *pflag.FlagSet) string {
	type row struct{ left, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		varname, usage := pflag.UnquoteUsage(f)
		if f.Value.Type() != "bool" && varname != "" {
			left += " " + varname
		}
		if d := f.DefValue; !isZero(d) {
			if f.Value.Type() == "string" {
				usage += fmt.Sprintf(" (default %q)", d)
			} else {
				usage += fmt.Sprintf(" (default %s)", d)
			}
		}
		rows = append(rows, row{left, usage})
		width = max(width, len(left))
	})
	if fs.Lookup("help") == nil {
		// pflag answers -h and --help with ErrHelp when no flag takes them.
		rows = append(rows, row{"  -h, --help", "show this help"})
		width = max(width, len(rows[len(rows)-1].left))
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s   %s\n", width, r.left, r.usage)
	}
	return b.String()
}

// isZero tells a default not worth showing (false, "", 0, 0s, []), as
// pflag leaves them out.
func isZero(def string) bool {
	switch def {
	case "", "false", "0", "0s", "[]", "<nil>":
		return true
	}
	return false
}

// LoopbackListen reports whether a --listen HOST:PORT stays on this machine
// (localhost or a loopback address), which both servers require unless
// --allow-remote is given. An address that is not HOST:PORT is an error.
func LoopbackListen(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}
