// Command ucmsh is the CUCM platform admin shell for Smart Licensing.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/ucmsh/ucmsh/internal/statedir"

	_ "time/tzdata" // node profiles name IANA zones; do not depend on the host's

	"github.com/spf13/pflag"

	"github.com/ucmsh/ucmsh/shell"
)

const usage = `Usage: ucmsh [flags]
       ucmsh serve [flags]          serve the shell over SSH (ucmsh serve --help)
       ucmsh useradd [flags] NAME   add an SSH account (ucmsh useradd --help)
       ucmsh lab up ...             clusters, cssm, a running clock, faults (ucmsh lab --help)

The CUCM admin shell for Smart Licensing. On a terminal it is interactive;
with -c it runs one command; otherwise it runs each line of standard input.

Flags:
`

type options struct {
	nodeFlags
	command    string
	echo, json bool
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			return runServe(args[1:], stdout, stderr)
		case "useradd":
			return runUseradd(args[1:], os.Stdin, stdout, stderr)
		case "lab":
			return runLab(args[1:], stdout, stderr)
		}
	}
	var o options
	fs := pflag.NewFlagSet("ucmsh", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.nodeFlags.add(fs)
	fs.StringVarP(&o.command, "command", "c", "", "run one command and exit")
	fs.BoolVar(&o.echo, "echo", false, "print admin:<command> before each command's output (scripts)")
	fs.BoolVar(&o.json, "json", false, "print reports as JSON (with -c or piped input)")
	help := fs.BoolP("help", "h", false, "show this help")
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ucmsh: "+format+"\n", a...)
		fmt.Fprintln(stderr, "Run ucmsh --help for the flags.")
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return fail("%v", err)
	}
	if *help {
		fmt.Fprint(stdout, usage+fs.FlagUsages())
		return 0
	}
	if fs.NArg() > 0 {
		if a := fs.Arg(0); a == "serve" || a == "useradd" {
			return fail("put %s first, before its flags: ucmsh %s --state DIR ...", a, a)
		}
		return fail("unexpected argument %q; quote a command for -c", fs.Arg(0))
	}
	n, err := o.open()
	if err != nil {
		return fail("%v", err)
	}
	interactive := o.command == "" && isTerminal(os.Stdin)
	if o.json && interactive {
		return fail("--json is for scripts: use it with -c or piped input")
	}
	if o.echo && interactive {
		return fail("--echo is for scripts: use it with -c or piped input")
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

	var ed shell.Editor
	switch {
	case o.command != "":
		ed = shell.NewPlain(nil, stdout, false) // questions get no answer
	case interactive:
		if ed, err = shell.NewTerminal(statedir.Node(o.state).History()); err != nil {
			fmt.Fprintf(stderr, "ucmsh: %v\n", err)
			return 1
		}
	default:
		ed = shell.NewPlain(os.Stdin, stdout, false)
	}
	sess := runner.Session(shell.Config{
		Editor:    ed,
		Echo:      o.echo,
		Privilege: 4, // the local console is the node owner's
	})
	ctx := context.Background()
	switch {
	case o.command != "":
		if !sess.RunLine(ctx, o.command) {
			return 1
		}
		return 0
	case interactive:
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		defer signal.Stop(sig)
		go func() {
			for range sig {
				sess.Interrupt()
			}
		}()
		// Leaving an interactive session is a success whatever was typed;
		// failures only set the status of scripts.
		sess.Run(ctx)
		return 0
	default:
		return exitStatus(sess.Run(ctx))
	}
}

func exitStatus(failures int) int {
	if failures > 0 {
		return 1
	}
	return 0
}
