package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/ucmsh/ucmsh/cssm"
)

// The web portal's actions that had no subcommand yet; each calls the same
// cssm.Portal operation as the portal and the REST API.
func init() {
	commands = append(commands,
		command{name: "token revoke", args: "TOKEN --virtual NAME", summary: "revoke a registration token", nargs: 1, prepare: tokenRevoke},
		command{name: "instance transfer", args: "ID --to NAME", summary: "move a product instance to another virtual account of its smart account (reserved licenses move with it)", nargs: 1, prepare: instanceTransfer},
		command{name: "events", args: "--virtual NAME [--filter TEXT] [--limit N]", summary: "show a virtual account's event log: every change, when and by whom", prepare: events},
		command{name: "alerts", args: "--virtual NAME", summary: "show a virtual account's alerts", prepare: alerts},
	)
}

func tokenRevoke(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name")
	return func(e *env, args []string) error {
		return portalRun(
			func() error { return required("virtual", *virtual) },
			func(p *cssm.Portal) (string, error) { return p.RevokeToken(*virtual, args[0]) })(e, args)
	}
}

func instanceTransfer(fs *pflag.FlagSet) func(*env, []string) error {
	to := fs.String("to", "", "the virtual account to move it to")
	return func(e *env, args []string) error {
		return portalRun(
			func() error { return required("to", *to) },
			func(p *cssm.Portal) (string, error) { return p.TransferInstance(args[0], *to) })(e, args)
	}
}

func events(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name")
	filter := fs.String("filter", "", "only events whose kind, actor or detail contains this")
	limit := fs.Int("limit", 100, fmt.Sprintf("newest events at most (1 to %d)", cssm.MaxEvents))
	return portalRun(
		func() error {
			if *limit < 1 || *limit > cssm.MaxEvents {
				return usageError{fmt.Errorf("--limit %d is not between 1 and %d", *limit, cssm.MaxEvents)}
			}
			return required("virtual", *virtual)
		},
		func(p *cssm.Portal) (string, error) {
			evs, err := p.Events(*virtual, *filter, *limit)
			if err != nil {
				return "", err
			}
			var b strings.Builder
			tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tEVENT\tBY\tDETAIL")
			for _, ev := range evs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ev.Time.UTC().Format(time.RFC3339), ev.Kind, ev.Actor, ev.Detail)
			}
			tw.Flush()
			return b.String(), nil
		})
}

func alerts(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name")
	return portalRun(
		func() error { return required("virtual", *virtual) },
		func(p *cssm.Portal) (string, error) {
			as, err := p.Alerts(*virtual)
			if err != nil {
				return "", err
			}
			if len(as) == 0 {
				return fmt.Sprintf("Virtual account %q has no alerts.\n", *virtual), nil
			}
			var b strings.Builder
			for _, a := range as {
				fmt.Fprintf(&b, "%-5s  %s: %s\n", a.Severity, a.Kind, a.Message)
			}
			return b.String(), nil
		})
}
