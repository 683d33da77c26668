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
		command{"token list", "--virtual NAME", "list a virtual account's registration tokens (uses left, expiry)", 0, tokenList},
		command{"token revoke", "TOKEN --virtual NAME", "revoke a registration token", 1, tokenRevoke},
		command{"instance transfer", "ID --to NAME", "move a product instance to another virtual account of its smart account (reserved licences move with it)", 1, instanceTransfer},
		command{"events", "--virtual NAME [--filter TEXT] [--limit N]", "show a virtual account's event log: every change, when and by whom", 0, events},
		command{"alerts", "--virtual NAME", "show a virtual account's alerts", 0, alerts},
	)
}

func tokenList(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name")
	return portalRun(
		func() error { return required("virtual", *virtual) },
		func(p *cssm.Portal) (string, error) {
			ts, err := p.Tokens(*virtual)
			if err != nil {
				return "", err
			}
			var b strings.Builder
			tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "TOKEN\tEXPIRES\tUSES LEFT\tEXPORT\tSTATUS\tDESCRIPTION")
			for _, t := range ts {
				left := "unlimited"
				if t.MaxUses > 0 {
					left = fmt.Sprint(t.UsesLeft())
				}
				export := "not allowed"
				if t.AllowExport {
					export = "allowed"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Token, t.Expires.UTC().Format(time.RFC3339), left, export, t.Status, t.Description)
			}
			tw.Flush()
			return b.String(), nil
		})
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
