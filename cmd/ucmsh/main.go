// Command ucmsh is the CUCM platform admin shell for Smart Licensing.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	_ "time/tzdata" // node profiles name IANA zones; do not depend on the host's

	"github.com/spf13/pflag"

	"github.com/ucmsh/ucmsh/internal/cli"
	"github.com/ucmsh/ucmsh/internal/statedir"
	"github.com/ucmsh/ucmsh/shell"
)

// subcommand is one of ucmsh's subcommands; without one ucmsh is the shell.
// Its flags may come before or after its name (ucmsh --state DIR serve).
type subcommand struct {
	name, args, summary string
	run                 func(args []string, stdout, stderr io.Writer) int
	// nested: the first word after the name is a subcommand of its own
	// (lab up), so flags given before the name go after that word.
	nested bool
}

var subcommands = []subcommand{
	{name: "serve", summary: "serve the shell over SSH", run: runServe},
	{name: "useradd", args: "NAME", summary: "add an SSH account", run: func(args []string, stdout, stderr io.Writer) int {
		return runUseradd(args, os.Stdin, stdout, stderr)
	}},
	{name: "lab", args: "up ...", summary: "clusters, cssm, a running clock, faults", run: runLab, nested: true},
}

func usageText(fs *pflag.FlagSet) string {
	var b strings.Builder
	b.WriteString("Usage: ucmsh [flags]\n")
	for _, c := range subcommands {
		fmt.Fprintf(&b, "       ucmsh %-22s %s (ucmsh %s --help)\n", c.name+" [flags] "+c.args, c.summary, c.name)
	}
	b.WriteString(`       ucmsh help [COMMAND]         this help, or a subcommand's

The CUCM admin shell for Smart Licensing. On a terminal it is interactive;
with -c it runs one command; otherwise it runs each line of standard input.
A failed command's sentences go to standard error, except on a terminal
and with --echo (a transcript keeps them in place).

Flags:
`)
	b.WriteString(cli.FlagUsages(fs))
	return b.String()
}

type options struct {
	nodeFlags
	command          string
	echo, json, vers bool
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// fail reports a usage error: exit status 2.
func failUsage(stderr io.Writer, prog, format string, a ...any) int {
	fmt.Fprintf(stderr, prog+": "+format+"\n", a...)
	fmt.Fprintf(stderr, "Run %s --help for the flags.\n", prog)
	return 2
}

func shellFlags(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("ucmsh", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.nodeFlags.add(fs)
	fs.StringVarP(&o.command, "command", "c", "", "run one command and exit")
	fs.BoolVar(&o.echo, "echo", false, "print admin:<command> before each command's output (scripts)")
	fs.BoolVar(&o.json, "json", false, "print reports as JSON (with -c or piped input)")
	fs.BoolVar(&o.vers, "version", false, "print the version and the commit, and exit")
	return fs
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := shellFlags(&o)
	fs.SetInterspersed(false) // the first word that is not a flag may be a subcommand
	switch err := fs.Parse(args); {
	case errors.Is(err, pflag.ErrHelp):
		fmt.Fprint(stdout, usageText(fs))
		return 0
	case err != nil:
		return failUsage(stderr, "ucmsh", "%v", err)
	}
	if fs.NArg() > 0 && fs.ArgsLenAtDash() != 0 {
		at := len(args) - fs.NArg() // the subcommand's word
		word := fs.Arg(0)
		if word == "help" {
			return help(fs, fs.Args()[1:], stdout, stderr)
		}
		for _, c := range subcommands {
			if c.name == word {
				// Flags before the name are the subcommand's too.
				before, after := args[:at:at], args[at+1:]
				if c.nested && len(after) > 0 {
					before, after = append([]string{after[0]}, before...), after[1:]
				}
				return c.run(append(before, after...), stdout, stderr)
			}
		}
	}
	switch {
	case o.vers:
		fmt.Fprint(stdout, cli.Version("ucmsh"))
		return 0
	case fs.NArg() > 0:
		return failUsage(stderr, "ucmsh", "unexpected argument %q; quote a command for -c", fs.Arg(0))
	}
	return runShell(o, stdout, stderr)
}

// help is ucmsh help [COMMAND], as cssm help.
func help(fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usageText(fs))
		return 0
	}
	for _, c := range subcommands {
		if c.name == args[0] {
			return c.run([]string{"--help"}, stdout, stderr)
		}
	}
	return failUsage(stderr, "ucmsh", "no help for %q: the subcommands are serve and useradd", args[0])
}

// runShell is ucmsh without a subcommand: the admin shell on the local
// terminal, one command (-c), or the lines of standard input.
func runShell(o options, stdout, stderr io.Writer) int {
	n, err := o.open()
	if err != nil {
		return failUsage(stderr, "ucmsh", "%v", err)
	}
	interactive := o.command == "" && isTerminal(os.Stdin)
	if o.json && interactive {
		return failUsage(stderr, "ucmsh", "--json is for scripts: use it with -c or piped input")
	}
	if o.echo && interactive {
		return failUsage(stderr, "ucmsh", "--echo is for scripts: use it with -c or piped input")
	}

	if n.svc != nil {
		n.svc.InstallFile.UserKeys = true // install-file may use the local user's agent and ~/.ssh keys; serve never does
	}
	runner := n.runner()
	runner.JSON = o.json
	switch {
	case n.svc != nil && interactive:
		// A fresh node gets its identity and timers as it starts;
		// scripts create them with their first licensing command.
		// A state problem is reported again by each such command.
		if err := n.svc.Init(); err != nil {
			fmt.Fprintf(stderr, "ucmsh: %v\n", err)
		}
	case n.svc == nil && interactive:
		if err := os.MkdirAll(o.state, 0o700); err != nil {
			fmt.Fprintf(stderr, "ucmsh: cannot create %s; history will not be kept: %v\n", o.state, err)
		}
	}

	cfg := shell.Config{Echo: o.echo, Privilege: 4} // the local console is the node owner's
	if !interactive && !o.echo {
		cfg.Err = stderr // REQ=$(ucmsh -c ...) never captures an error
	}
	switch {
	case o.command != "":
		cfg.Editor = shell.NewPlain(nil, stdout, false) // questions get no answer
	case interactive:
		if cfg.Editor, err = shell.NewTerminal(statedir.Node(o.state).History()); err != nil {
			fmt.Fprintf(stderr, "ucmsh: %v\n", err)
			return 1
		}
	default:
		cfg.Editor = shell.NewPlain(os.Stdin, stdout, false)
	}
	sess := runner.Session(cfg)
	ctx := context.Background()
	if o.command != "" {
		return sess.ExitLine(ctx, o.command)
	}
	if interactive {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		defer signal.Stop(sig)
		go func() {
			for range sig {
				sess.Interrupt()
			}
		}()
	}
	return sess.Exit(ctx)
}

// parseFlags parses a subcommand's flags: --help prints its usage (exit
// 0), an error says so (exit 2); done reports that the caller should
// return code.
func parseFlags(fs *pflag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (code int, done bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, pflag.ErrHelp):
		fmt.Fprint(stdout, usage+cli.FlagUsages(fs))
		return 0, true
	case err != nil:
		return failUsage(stderr, fs.Name(), "%v", err), true
	}
	return 0, false
}
