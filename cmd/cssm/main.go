// Command cssm is the licensing server stand-in: `cssm serve` is the product API,
// the other subcommands are the portal actions an admin would click.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ucmsh/ucmsh/internal/cli"
	"github.com/ucmsh/ucmsh/internal/clock"
	"github.com/ucmsh/ucmsh/internal/sentence"
	"github.com/ucmsh/ucmsh/internal/statedir"

	"github.com/spf13/pflag"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/cssm/web"
	"github.com/ucmsh/ucmsh/cssmapi"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// env is what every subcommand gets once its flags are parsed.
type env struct {
	stdout, stderr io.Writer
	storeDir       string
	database       string
	now            string
}

func (e *env) clock() (cssm.Clock, error) {
	c, err := clock.Parse(e.now)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

func (e *env) store() (*cssm.Store, error) {
	dir := e.storeDir
	if dir == "" {
		dir = statedir.DefaultCSSM()
	}
	return cssm.OpenDatabase(dir, e.database)
}

// checkedStore opens the store for a command that needs no clock, after
// checking --now as every command does.
func (e *env) checkedStore() (*cssm.Store, error) {
	if _, err := e.clock(); err != nil {
		return nil, err
	}
	return e.store()
}

func (e *env) portal() (*cssm.Portal, error) {
	clock, err := e.clock()
	if err != nil {
		return nil, err
	}
	store, err := e.store()
	if err != nil {
		return nil, err
	}
	return &cssm.Portal{Store: store, Clock: clock}, nil
}

// usageError makes run exit 2 instead of 1.
type usageError struct{ error }

// command is one subcommand: prepare declares its flags in fs and returns
// what runs once they are parsed.
type command struct {
	name    string // words, e.g. "account create"
	args    string // synopsis after the name
	summary string
	nargs   int
	prepare func(fs *pflag.FlagSet) func(e *env, args []string) error
}

var commands = []command{
	{name: "account create", args: "--smart NAME --virtual NAME", summary: "create a virtual account (and its smart account if new)", prepare: accountCreate},
	{name: "account list", summary: "list the virtual accounts and their smart accounts", prepare: accountList},
	{name: "license add", args: "--virtual NAME (--tag TAG | --tier TIER) --count N [--term-end YYYY-MM-DD]", summary: "add licenses to a virtual account's pool", prepare: licenseAdd},
	{name: "export-keys add", args: "--virtual NAME --count N", summary: "add export authorization keys to a virtual account", prepare: exportKeysAdd},
	{name: "token create", args: "--virtual NAME [--expires-days 30] [--uses 10] [--allow-export] [--description TEXT]", summary: "create a registration token and print it", prepare: tokenCreate},
	{name: "token list", args: "[--virtual NAME]", summary: "list registration tokens in full, with their uses left, expiry and export setting", prepare: tokenList},
	{name: "instance list", args: "[--virtual NAME] [--limit N [--after ID]]", summary: "list product instances, registered and reserved", prepare: instanceList},
	{name: "instance remove", args: "ID [--return-code CODE | --force-without-return]", summary: "remove a product instance (a reservation instance needs its return code)", nargs: 1, prepare: instanceRemove},
	{name: "reservation create", args: "--virtual NAME --request-code CODE --license TIER=N[:TERM[:YYYY-MM-DD]]... [--allow-export] [--out FILE]", summary: "reserve licenses for a product's request code and print the authorization code", prepare: reservationCreate},
	{name: "reservation update", args: "--request-code CODE --license TIER=N[:TERM[:YYYY-MM-DD]]... [--virtual NAME] [--allow-export | --allow-export=false] [--out FILE]", summary: "issue a new authorization code with the product's new reserved licenses", prepare: reservationUpdate},
	{name: "reservation confirm", args: "--request-code CODE --code CONFIRMATION [--virtual NAME]", summary: "enter the confirmation code a product printed after installing its code", prepare: reservationConfirm},
	{name: "reservation return", args: "--request-code CODE --return-code CODE [--virtual NAME]", summary: "enter a product's return code: its reserved licenses go back to the pool", prepare: reservationReturn},
	{name: "reservation code", args: "--request-code CODE [--virtual NAME] [--out FILE]", summary: "print the newest authorization code issued to a product again", prepare: reservationCode},
	{name: "reservation list", args: "[--virtual NAME]", summary: "list license reservations", prepare: reservationList},
	{name: "usage", args: "--virtual NAME", summary: "show a virtual account's licenses and their use", prepare: usage},
	{name: "api-client create", args: "NAME [--id ID] [--secret-file FILE]", summary: "make an OAuth client for the REST API (client-credentials grant) and print its id and secret", nargs: 1, prepare: apiClientCreate},
	{name: "user add", args: "NAME --password-file FILE --role admin|user|read-only [--smart SA | --virtual VA]", summary: "make a portal and REST user, or grant one a role over an account (none: every account)", nargs: 1, prepare: userAdd},
	{name: "backup", args: "FILE", summary: "write a consistent copy of the SQLite database to FILE, also while serving", nargs: 1, prepare: backup},
	{name: "key", summary: "print the signing public key (PEM) for a node's trust/ folder", prepare: key},
	{name: "cert", summary: "print the TLS certificate (PEM) for a node to pin", prepare: cert},
	{name: "serve", args: "[--listen 127.0.0.1:8443] [--allow-remote] [--tls] [--max-connections N] [--max-connections-per-client N] [--satellite-of URL [--sync-every 24h]] [--ready-file FILE]", summary: "serve the product API, the REST API and the web portal (/portal/)", prepare: serve},
}

func usageText() string {
	var b strings.Builder
	b.WriteString("Usage: cssm <command> [flags]\n\ncssm is the licensing server stand-in for ucmsh (Smart Software Manager).\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s %s\n", width, c.name, c.summary)
	}
	b.WriteString("\nFlags of every command:\n")
	b.WriteString("  --state DIR   cssm's folder (default $XDG_STATE_HOME/ucmsh/cssm, else ~/.local/state/ucmsh/cssm);\n")
	b.WriteString("                --store DIR is its older name\n")
	b.WriteString("  --database DB sqlite (default: cssm.db in the --state folder) or postgres://USER@HOST/DB\n")
	b.WriteString("                (default $CSSM_DATABASE when set)\n")
	b.WriteString("  --now TIME    fix cssm's clock (RFC 3339), for simulations and tests\n")
	b.WriteString("  --            ends the flags: what follows is an argument even if it starts with '-'\n")
	b.WriteString("                (cssm token revoke --virtual TAC -- -TOKEN)\n")
	b.WriteString("\nRun 'cssm help <command>' or 'cssm <command> --help' for a command's flags,\n'cssm --version' for the version.\n")
	return b.String()
}

func run(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, database: os.Getenv("CSSM_DATABASE")}
	top := pflag.NewFlagSet("cssm", pflag.ContinueOnError)
	top.SetOutput(io.Discard)
	top.SetInterspersed(false)
	commonFlags(top, e)
	version := top.Bool("version", false, "print the version and the commit")
	if err := top.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, usageText())
			return exitOK
		}
		fmt.Fprintf(stderr, "cssm: %v\n\n%s", err, usageText())
		return exitUsage
	}
	rest := top.Args()
	if *version {
		fmt.Fprint(stdout, cli.Version("cssm"))
		return exitOK
	}
	if len(rest) == 0 {
		fmt.Fprint(stderr, usageText())
		return exitUsage
	}
	if rest[0] == "help" {
		if len(rest) == 1 {
			fmt.Fprint(stdout, usageText())
			return exitOK
		}
		rest = append(rest[1:], "--help") // cssm help account create
	}
	c, rest := findCommand(rest)
	if c == nil {
		fmt.Fprintf(stderr, "cssm: %s\n\n%s", unknownCommand(top.Args()), usageText())
		return exitUsage
	}

	fs := pflag.NewFlagSet("cssm "+c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	commonFlags(fs, e)
	do := c.prepare(fs)
	cmdUsage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: cssm %s %s\n\n%s.\n\nFlags:\n%s", c.name, c.args, sentence.UpperFirst(c.summary), cli.FlagUsages(fs))
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			cmdUsage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "cssm: %v\n", err)
		cmdUsage(stderr)
		return exitUsage
	}
	if fs.NArg() != c.nargs {
		fmt.Fprintf(stderr, "cssm %s: expected %d argument(s), got %d\n", c.name, c.nargs, fs.NArg())
		cmdUsage(stderr)
		return exitUsage
	}
	if err := do(e, fs.Args()); err != nil {
		fmt.Fprintf(stderr, "cssm: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			cmdUsage(stderr)
			return exitUsage
		}
		return exitFail
	}
	return exitOK
}

// findCommand matches the longest command name at the start of args.
func findCommand(args []string) (*command, []string) {
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == commands[i].name {
			return &commands[i], args[len(words):]
		}
	}
	return nil, nil
}

// unknownCommand says what was typed and, after a first word such as "account",
// which commands start with it.
func unknownCommand(args []string) string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
	}
	var starting []string
	for _, c := range commands {
		if len(words) > 0 && strings.HasPrefix(c.name, words[0]+" ") {
			starting = append(starting, "cssm "+c.name)
		}
	}
	if len(starting) > 0 {
		return fmt.Sprintf("unknown command %q; did you mean %s?", strings.Join(words, " "), strings.Join(starting, " or "))
	}
	return fmt.Sprintf("unknown command %q", strings.Join(words, " "))
}

func commonFlags(fs *pflag.FlagSet, e *env) {
	fs.StringVar(&e.storeDir, "state", e.storeDir, "cssm's folder (its database, keys and certificate)")
	fs.StringVar(&e.storeDir, "store", e.storeDir, "the older name of --state")
	fs.MarkHidden("store")
	fs.StringVar(&e.database, "database", e.database, "the database: sqlite (a file in the --state folder) or a postgres:// URL")
	fs.StringVar(&e.now, "now", e.now, "fix cssm's clock (RFC 3339)")
}

func required(name, value string) error {
	if strings.TrimSpace(value) == "" {
		return usageError{fmt.Errorf("--%s is required", name)}
	}
	return nil
}

// portalRun wraps a portal action that returns the line(s) to print.
func portalRun(check func() error, act func(p *cssm.Portal) (string, error)) func(*env, []string) error {
	return func(e *env, _ []string) error {
		if err := check(); err != nil {
			return err
		}
		return say(e, act)
	}
}

// say runs a portal action and writes the line(s) it returns.
func say(e *env, act func(p *cssm.Portal) (string, error)) error {
	return show(e, act, func(w io.Writer, out string) error {
		_, err := io.WriteString(w, out)
		return err
	})
}

func accountCreate(fs *pflag.FlagSet) func(*env, []string) error {
	smart := fs.String("smart", "", "smart account name")
	virtual := fs.String("virtual", "", "virtual account name")
	return portalRun(
		func() error { return errors.Join(required("smart", *smart), required("virtual", *virtual)) },
		func(p *cssm.Portal) (string, error) { return p.CreateAccount(*smart, *virtual) })
}

// show runs a listing or report: fetch it through the portal, write it.
func show[T any](e *env, fetch func(*cssm.Portal) (T, error), write func(io.Writer, T) error) error {
	p, err := e.portal()
	if err != nil {
		return err
	}
	v, err := fetch(p)
	if err != nil {
		return err
	}
	return write(e.stdout, v)
}

func accountList(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		return show(e, (*cssm.Portal).Accounts, cssm.WriteAccounts)
	}
}

func tokenList(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "only this virtual account")
	return func(e *env, _ []string) error {
		return show(e, func(p *cssm.Portal) ([]cssm.TokenInfo, error) { return p.Tokens(*virtual) }, cssm.WriteTokens)
	}
}

func licenseAdd(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name")
	var spec cssm.LicenseSpec
	fs.StringVar(&spec.Tag, "tag", "", "entitlement tag (regid....)")
	fs.StringVar(&spec.Tier, "tier", "", "tier: "+strings.Join(cssmapi.TierNames(), "|"))
	fs.IntVar(&spec.Count, "count", 0, "number of licenses")
	fs.StringVar(&spec.TermEnd, "term-end", "", "last day of a TERM license (YYYY-MM-DD); perpetual without it")
	return portalRun(
		func() error {
			if (spec.Tag == "") == (spec.Tier == "") {
				return usageError{errors.New("give exactly one of --tag and --tier")}
			}
			return required("virtual", *virtual)
		},
		func(p *cssm.Portal) (string, error) { return p.AddLicense(*virtual, spec) })
}

func exportKeysAdd(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name")
	count := fs.Int("count", 0, "number of keys")
	return portalRun(
		func() error { return required("virtual", *virtual) },
		func(p *cssm.Portal) (string, error) { return p.AddExportKeys(*virtual, *count) })
}

func tokenCreate(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name")
	var opt cssm.TokenOptions
	fs.IntVar(&opt.ExpiresDays, "expires-days", 30, "days until the token expires (1-365)")
	fs.IntVar(&opt.MaxUses, "uses", 10, "registrations allowed (0: unlimited)")
	fs.BoolVar(&opt.AllowExport, "allow-export", false, "allow export-controlled functionality on products registered with it")
	fs.StringVar(&opt.Description, "description", "", "what the token is for (at most 100 characters)")
	return portalRun(
		func() error { return required("virtual", *virtual) },
		func(p *cssm.Portal) (string, error) {
			tok, err := p.CreateToken(*virtual, opt)
			return tok + "\n", err
		})
}

func instanceList(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "only this virtual account")
	limit := fs.Int("limit", 0, fmt.Sprintf("list one page of at most this many (1 to %d; 0: all)", cssm.MaxInstancePage))
	after := fs.String("after", "", "with --limit: the page after this instance id")
	return func(e *env, _ []string) error {
		if *limit < 0 || *limit > cssm.MaxInstancePage {
			return usageError{fmt.Errorf("--limit %d is not between 0 and %d", *limit, cssm.MaxInstancePage)}
		}
		if *after != "" && *limit == 0 {
			return usageError{errors.New("--after needs --limit")}
		}
		p, err := e.portal()
		if err != nil {
			return err
		}
		if *limit == 0 {
			list, err := p.Instances(*virtual)
			if err != nil {
				return err
			}
			return cssm.WriteInstances(e.stdout, list)
		}
		var cur cssm.InstanceCursor
		if *after != "" {
			if cur, err = p.CursorAfter(*after); err != nil {
				return err
			}
		}
		list, next, err := p.InstancePage(*virtual, cur, *limit)
		if err != nil {
			return err
		}
		if err := cssm.WriteInstances(e.stdout, list); err != nil {
			return err
		}
		if next != (cssm.InstanceCursor{}) {
			fmt.Fprintf(e.stderr, "cssm: more instances: --limit %d --after %s\n", *limit, next.ID)
		}
		return nil
	}
}

func instanceRemove(fs *pflag.FlagSet) func(*env, []string) error {
	var opt cssm.RemoveOptions
	fs.StringVar(&opt.ReturnCode, "return-code", "", "a reservation instance's return code (from 'license smart reservation return' on the node); its licenses go back to the pool")
	fs.BoolVar(&opt.ForceWithoutReturn, "force-without-return", false, "remove a reservation instance without its return code: its licenses stay out of the pool")
	return func(e *env, args []string) error {
		if opt.ReturnCode != "" && opt.ForceWithoutReturn {
			return usageError{errors.New("give either --return-code or --force-without-return, not both")}
		}
		p, err := e.portal()
		if err != nil {
			return err
		}
		out, err := p.RemoveInstance(args[0], opt)
		if err != nil {
			return err
		}
		_, err = io.WriteString(e.stdout, out)
		return err
	}
}

// productFlag declares how every reservation command names the product:
// --request-code, which takes the UDI too; --udi-or-request-code, its
// older name on some subcommands, is accepted (hidden).
func productFlag(fs *pflag.FlagSet) *string {
	var v string
	fs.StringVar(&v, "request-code", "", "the product's request code (P:UCM,S:…,U:…) or its UDI (PID:UCM,SN:…,UUID:…)")
	fs.StringVar(&v, "udi-or-request-code", "", "the older name of --request-code")
	fs.MarkHidden("udi-or-request-code")
	return &v
}

// licenseFlag declares --license (repeatable; tags contain commas, so no splitting).
func licenseFlag(fs *pflag.FlagSet) *[]string {
	return fs.StringArray("license", nil, "TIER=COUNT, TIER=COUNT:TERM or TIER=COUNT:TERM:YYYY-MM-DD (tier or full tag); repeat for each tier")
}

func parseLicenses(specs []string) ([]cssm.LicenseRequest, error) {
	if len(specs) == 0 {
		return nil, usageError{errors.New("give at least one --license TIER=COUNT (for example --license Enhanced=5)")}
	}
	var out []cssm.LicenseRequest
	for _, s := range specs {
		r, err := cssm.ParseLicenseRequest(s)
		if err != nil {
			return nil, usageError{err}
		}
		out = append(out, r)
	}
	return out, nil
}

// issue runs a reservation create or update: the code alone on stdout (so that
// CODE=$(cssm reservation create ...) works), what happened on stderr.
func issue(fs *pflag.FlagSet, act func(*cssm.Portal, cssm.ReserveOptions) (*cssm.Issued, error), virtualRequired bool) func(*env, []string) error {
	var opt cssm.ReserveOptions
	fs.StringVar(&opt.Virtual, "virtual", "", "virtual account name")
	product := productFlag(fs)
	licenses := licenseFlag(fs)
	allowExport := fs.Bool("allow-export", false, "allow export-controlled functionality on the product (on update, omitted keeps the current setting)")
	out := fs.String("out", "", "also write the code to this file (mode 0600), for the node's install-file")
	return func(e *env, _ []string) error {
		var errs []error
		if virtualRequired {
			errs = append(errs, required("virtual", opt.Virtual))
		}
		errs = append(errs, required("request-code", *product))
		if err := errors.Join(errs...); err != nil {
			return err
		}
		var err error
		if opt.Licenses, err = parseLicenses(*licenses); err != nil {
			return err
		}
		opt.Product = *product
		if fs.Changed("allow-export") || virtualRequired {
			opt.AllowExport = allowExport
		}
		p, err := e.portal()
		if err != nil {
			return err
		}
		res, err := act(p, opt)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(e.stdout, res.Code); err != nil {
			return err
		}
		io.WriteString(e.stderr, res.Message())
		return writeCode(e, *out, res.RequestCode, res.Code)
	}
}

func writeCode(e *env, path, requestCode, code string) error {
	if path == "" {
		return nil
	}
	if err := cssm.WriteCodeFile(path, code); err != nil {
		return fmt.Errorf("%v; the code was printed above, and cssm reservation code --request-code %s --out FILE writes it again", err, requestCode)
	}
	fmt.Fprintf(e.stderr, "cssm: wrote the authorization code to %s\n", path)
	return nil
}

func reservationCreate(fs *pflag.FlagSet) func(*env, []string) error {
	return issue(fs, (*cssm.Portal).Reserve, true)
}

func reservationUpdate(fs *pflag.FlagSet) func(*env, []string) error {
	return issue(fs, (*cssm.Portal).UpdateReservation, false)
}

func reservationConfirm(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name (checked if given)")
	product := productFlag(fs)
	code := fs.String("code", "", "the confirmation code the node printed (8 hex digits)")
	return portalRun(
		func() error { return errors.Join(required("request-code", *product), required("code", *code)) },
		func(p *cssm.Portal) (string, error) { return p.ConfirmReservation(*virtual, *product, *code) })
}

func reservationReturn(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name (checked if given)")
	product := productFlag(fs)
	code := fs.String("return-code", "", "the return code the node printed")
	return portalRun(
		func() error {
			return errors.Join(required("request-code", *product), required("return-code", *code))
		},
		func(p *cssm.Portal) (string, error) { return p.ReturnReservation(*virtual, *product, *code) })
}

func reservationCode(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name (checked if given)")
	product := productFlag(fs)
	out := fs.String("out", "", "also write the code to this file (mode 0600)")
	return func(e *env, _ []string) error {
		if err := required("request-code", *product); err != nil {
			return err
		}
		p, err := e.portal()
		if err != nil {
			return err
		}
		code, err := p.ReservationCode(*virtual, *product)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(e.stdout, code); err != nil {
			return err
		}
		return writeCode(e, *out, *product, code)
	}
}

func reservationList(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "only this virtual account")
	return func(e *env, _ []string) error {
		return show(e, func(p *cssm.Portal) ([]cssm.ReservationInfo, error) { return p.Reservations(*virtual) }, cssm.WriteReservations)
	}
}

func usage(fs *pflag.FlagSet) func(*env, []string) error {
	virtual := fs.String("virtual", "", "virtual account name")
	return func(e *env, _ []string) error {
		if err := required("virtual", *virtual); err != nil {
			return err
		}
		return show(e, func(p *cssm.Portal) (*cssm.UsageReport, error) { return p.Usage(*virtual) }, cssm.WriteUsage)
	}
}

// readSecret reads a secret from a file (its first line), "-" for standard input.
func readSecret(path string) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(os.Stdin, 4096))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimRight(line, "\r"), nil
}

func apiClientCreate(fs *pflag.FlagSet) func(*env, []string) error {
	id := fs.String("id", "", "the client id (default: generated)")
	secretFile := fs.String("secret-file", "", "read the secret from this file's first line (default: generated); - for standard input")
	return func(e *env, args []string) error {
		secret := ""
		if *secretFile != "" {
			var err error
			if secret, err = readSecret(*secretFile); err != nil {
				return err
			}
		}
		p, err := e.portal()
		if err != nil {
			return err
		}
		c, err := p.CreateAPIClient(args[0], *id, secret)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Client ID: %s\nClient secret: %s\n", c.ID, c.Secret)
		fmt.Fprintf(e.stderr, "cssm: API client %q created; the secret is stored hashed and cannot be shown again.\n", c.Name)
		return nil
	}
}

func userAdd(fs *pflag.FlagSet) func(*env, []string) error {
	passwordFile := fs.String("password-file", "", "read the password from this file's first line; - for standard input")
	role := fs.String("role", "", "admin, user or read-only")
	smart := fs.String("smart", "", "over this smart account (admin, read-only); repeat the command for more grants")
	virtual := fs.String("virtual", "", "over this virtual account (user, read-only)")
	return func(e *env, args []string) error {
		if err := errors.Join(required("password-file", *passwordFile), required("role", *role)); err != nil {
			return usageError{err}
		}
		password, err := readSecret(*passwordFile)
		if err != nil {
			return err
		}
		p, err := e.portal()
		if err != nil {
			return err
		}
		msg, err := p.AddUser(args[0], password, *role, *smart, *virtual)
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, msg)
		return nil
	}
}

func backup(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		store, err := e.store()
		if err != nil {
			return err
		}
		defer store.Close()
		if err := store.Backup(args[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Backed up %s to %s.\n", store.Database(), args[0])
		return nil
	}
}

func key(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		store, err := e.checkedStore()
		if err != nil {
			return err
		}
		pub, wrote, err := store.PublishKey()
		if err != nil {
			return err
		}
		if wrote != "" {
			fmt.Fprintf(e.stderr, "cssm: wrote the signing public key to %s\n", wrote)
		}
		_, err = e.stdout.Write(pub)
		return err
	}
}

func cert(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		store, err := e.checkedStore()
		if err != nil {
			return err
		}
		c, certPEM, err := store.TLSCertificate()
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "cssm: SHA-256 fingerprint %s\n", cssmapi.Fingerprint(c.Certificate[0]))
		_, err = e.stdout.Write(certPEM)
		return err
	}
}

func serve(fs *pflag.FlagSet) func(*env, []string) error {
	cfg := cssm.ServeConfig{}
	fs.StringVar(&cfg.Listen, "listen", cssm.DefaultListen, "address to listen on")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a non-loopback --listen address")
	fs.BoolVar(&cfg.TLS, "tls", false, "serve HTTPS with a self-signed certificate kept in the store")
	fs.IntVar(&cfg.Limits.MaxConnections, "max-connections", cssm.DefaultMaxConnections, "open connections at most; at the cap a new one closes the oldest idle one")
	fs.IntVar(&cfg.Limits.PerClient, "max-connections-per-client", cssm.DefaultMaxConnectionsPerClient, "open connections at most from one client address")
	fs.StringVar(&cfg.SatelliteOf, "satellite-of", "", "serve as a connected satellite of the parent cssm at URL (after `cssm satellite setup`)")
	fs.DurationVar(&cfg.SyncEvery, "sync-every", cssm.DefaultSyncEvery, "a connected satellite's synchronization schedule")
	fs.StringVar(&cfg.ReadyFile, "ready-file", "", `write {"url":"http://ADDR"} there (JSON) once the server accepts requests, and remove it once it stops (for tests: --listen 127.0.0.1:0)`)
	return func(e *env, _ []string) error {
		if cfg.Limits.MaxConnections < 1 || cfg.Limits.PerClient < 1 {
			return usageError{errors.New("--max-connections and --max-connections-per-client must be at least 1")}
		}
		clock, err := e.clock()
		if err != nil {
			return err
		}
		store, err := e.store()
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		cfg.Out = e.stdout
		cfg.Log = log.New(e.stderr, "cssm: ", log.LstdFlags)
		cfg.Portal = web.New(&cssm.Portal{Store: store, Clock: clock}, cfg.TLS)
		return cssm.Serve(ctx, store, clock, cfg)
	}
}
