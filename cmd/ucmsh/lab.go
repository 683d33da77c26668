package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/ucmsh/ucmsh/internal/cli"
	"github.com/ucmsh/ucmsh/internal/statedir"
	ulab "github.com/ucmsh/ucmsh/lab"
)

const labUsage = `Usage: ucmsh lab up [LAB.json] [flags]   start (or resume) a lab: cssm and every node
       ucmsh lab status                  health of every node and cssm, the seeded tokens
       ucmsh lab token NAME              print a seeded registration token
       ucmsh lab clock show | advance DURATION | speed N
       ucmsh lab fault set TARGET KIND [--delay D] [--status N]
       ucmsh lab fault clear [TARGET [KIND]] | list
       ucmsh lab snapshot save NAME | load NAME | list
       ucmsh lab reset                   back to the seed
       ucmsh lab down                    stop the lab

TARGET is cssm (every cluster) or a cluster's name. KIND is one of
` + "  %s.\n" + `DURATION is like 30d, 7mo, 1y, 12h or 1d12h. Every subcommand takes --dir.

Flags:
`

func runLab(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fs := labFlags("ucmsh lab", new(labOptions))
		w, status := stdout, 0
		if len(args) == 0 {
			w, status = stderr, 2 // a mistake: say how, where mistakes go
		}
		fmt.Fprintf(w, labUsage, strings.Join(ulab.FaultKinds, ", "))
		fmt.Fprint(w, cli.FlagUsages(fs))
		return status
	}
	sub, rest := args[0], args[1:]
	var o labOptions
	fs := labFlags("ucmsh lab "+sub, &o)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ucmsh lab %s: "+format+"\n", append([]any{sub}, a...)...)
		fmt.Fprintln(stderr, "Run ucmsh lab --help for the subcommands and flags.")
		return 2
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stdout, labUsage, strings.Join(ulab.FaultKinds, ", "))
			fmt.Fprint(stdout, cli.FlagUsages(fs))
			return 0
		}
		return fail("%v", err)
	}
	words := fs.Args()
	if sub == "up" {
		if len(words) > 1 {
			return fail("unexpected argument %q", words[1])
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return labUp(ctx, o, fs, words, stdout, stderr)
	}
	c, err := ulab.Dial(o.dir)
	if err != nil {
		fmt.Fprintf(stderr, "ucmsh lab %s: %v\n", sub, err)
		return 1
	}
	code, err := labCommand(c, sub, words, o, stdout)
	if err != nil {
		if code == 2 {
			return fail("%v", err)
		}
		fmt.Fprintf(stderr, "ucmsh lab %s: %v\n", sub, err)
	}
	return code
}

type labOptions struct {
	dir                          string
	clusters, subscribers        int
	plan                         string
	firstPort, port              int
	allowRemote                  bool
	speed                        float64
	passwordFile, authorizedKeys string
	readyFile                    string
	json                         bool
	delay                        time.Duration
	shard, cssmURL, cssmKey      string
	status                       int
}

func labFlags(name string, o *labOptions) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.dir, "dir", statedir.DefaultLab(), "the lab folder")
	fs.IntVar(&o.clusters, "clusters", 0, "up without a lab file: this many clusters (default seed)")
	fs.IntVar(&o.subscribers, "subscribers", 0, "up without a lab file: subscribers per cluster")
	fs.StringVar(&o.plan, "plan", "", "up without a lab file: address plan, ports (127.0.0.1, consecutive ports) or hosts (127.1.C.N, one port)")
	fs.IntVar(&o.firstPort, "first-port", ulab.DefaultFirstPort, "ports plan: the first node's port (0: any free port)")
	fs.IntVar(&o.port, "port", ulab.DefaultHostsPort, "hosts plan: every node's port")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow addresses outside 127.0.0.0/8")
	fs.Float64Var(&o.speed, "clock-speed", 1, "up: simulated seconds per real second (1440: a day a minute)")
	fs.StringVar(&o.passwordFile, "password-file", "", "up: account admin's password (first line of FILE)")
	fs.StringVar(&o.authorizedKeys, "authorized-keys", "", "up: OpenSSH public keys that may log in (as admin or any account)")
	fs.StringVar(&o.readyFile, "ready-file", "", "up: write the lab's addresses (JSON) there once every listener accepts, and remove it once the lab stops")
	fs.BoolVar(&o.json, "json", false, "status, fault list, snapshot list: print JSON")
	fs.StringVar(&o.shard, "shard", "", "up: serve only shard I of N of the clusters (cluster c when c mod N = I-1), e.g. 1/2")
	fs.StringVar(&o.cssmURL, "cssm", "", "up: use another shard's cssm instead of starting one: its URL, or better its inventory.json (per-cluster URLs: cluster faults reach here)")
	fs.StringVar(&o.cssmKey, "cssm-key", "", "up --cssm: that cssm's public key (its lab folder's cssm-key.pem)")
	fs.DurationVar(&o.delay, "delay", 0, "fault set ... slow: the delay (default 5s)")
	fs.IntVar(&o.status, "status", 0, "fault set ... http-5xx: the status (default 503)")
	return fs
}

func labUp(ctx context.Context, o labOptions, fs *pflag.FlagSet, words []string, stdout, stderr io.Writer) int {
	cfg := ulab.Config{Dir: o.dir, AllowRemote: o.allowRemote, Speed: o.speed, SetSpeed: fs.Changed("clock-speed")}
	switch {
	case len(words) == 1:
		if fs.Changed("clusters") || fs.Changed("subscribers") || fs.Changed("plan") {
			fmt.Fprintln(stderr, "ucmsh lab up: give a lab file or --clusters, not both")
			return 2
		}
		f, err := ulab.LoadFile(words[0])
		if err != nil {
			fmt.Fprintf(stderr, "ucmsh lab up: %v\n", err)
			return 2
		}
		cfg.File = f
	case fs.Changed("clusters"):
		plan := ulab.Plan{Kind: o.plan}
		switch o.plan {
		case "", ulab.PlanPorts:
			fp := o.firstPort
			plan.FirstPort = &fp
		case ulab.PlanHosts:
			plan.Port = o.port
		default:
			fmt.Fprintf(stderr, "ucmsh lab up: --plan %q: use ports or hosts\n", o.plan)
			return 2
		}
		f, err := ulab.Generate(o.clusters, o.subscribers, plan)
		if err != nil {
			fmt.Fprintf(stderr, "ucmsh lab up: %v\n", err)
			return 2
		}
		cfg.File = f
	}
	if o.shard != "" {
		sh, err := ulab.ParseShard(o.shard)
		if err != nil {
			fmt.Fprintf(stderr, "ucmsh lab up: %v\n", err)
			return 2
		}
		cfg.Shard = sh
	}
	if (o.cssmURL == "") != (o.cssmKey == "") {
		fmt.Fprintln(stderr, "ucmsh lab up: --cssm URL and --cssm-key FILE go together")
		return 2
	}
	if o.cssmURL != "" {
		key, err := os.ReadFile(o.cssmKey)
		if err != nil {
			fmt.Fprintf(stderr, "ucmsh lab up: --cssm-key: %v\n", err)
			return 2
		}
		cfg.CSSM = ulab.ExternalCSSM{URL: o.cssmURL, KeyPEM: string(key)}
		if !strings.HasPrefix(o.cssmURL, "http://") && !strings.HasPrefix(o.cssmURL, "https://") {
			// The inventory of the lab that runs cssm: its per-cluster URLs too.
			data, err := os.ReadFile(o.cssmURL)
			if err == nil {
				cfg.CSSM, err = ulab.ExternalFromInventory(data, string(key))
			}
			if err != nil {
				fmt.Fprintf(stderr, "ucmsh lab up: %v\n", err)
				return 2
			}
		}
	}
	if o.passwordFile != "" || o.authorizedKeys != "" {
		// Absolute: a resumed lab reads them again, from wherever it runs.
		abs := func(p string) string {
			if a, err := filepath.Abs(p); err == nil && p != "" {
				return a
			}
			return p
		}
		cfg.Accounts = []ulab.Account{{Name: "admin", PasswordFile: abs(o.passwordFile), AuthorizedKeysFile: abs(o.authorizedKeys)}}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg.Log = log
	cfg.StartNode = labNodeStarter(log)
	l, err := ulab.Up(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "ucmsh lab up: %v\n", err)
		return 1
	}
	ulab.WriteTable(stdout, l.Places())
	jsonInv, iniInv := ulab.InventoryFiles(o.dir)
	fmt.Fprintf(stdout, "\ncssm:      %s\ncontrol:   %s\ninventory: %s, %s\n", l.CSSMURL(), ulab.ControlFile(o.dir), jsonInv, iniInv)
	fmt.Fprintf(stdout, "lab time:  %s (speed %s)\n", stamp(l.Clock().Now()), speedText(l.Clock().Speed()))
	if o.readyFile != "" {
		if err := l.WriteReady(o.readyFile); err != nil {
			fmt.Fprintf(stderr, "ucmsh lab up: cannot write the ready file: %v\n", err)
			l.Stop()
			return 1
		}
		defer os.Remove(o.readyFile) // once the lab has stopped, as ucmsh serve's
	}
	select {
	case <-ctx.Done():
		l.Stop()
	case <-l.Done():
	}
	log.Info("lab stopped")
	return 0
}

func stamp(t time.Time) string { return ulab.Stamp(t) }

func speedText(s float64) string { return ulab.SpeedText(s) }

// labCommand runs a subcommand against the running ulab. Its status is 2
// for a usage mistake, 1 for a refusal.
func labCommand(c *ulab.Client, sub string, words []string, o labOptions, stdout io.Writer) (int, error) {
	arg := func(i int) string {
		if i < len(words) {
			return words[i]
		}
		return ""
	}
	usage := func(s string) (int, error) { return 2, fmt.Errorf("%s", s) }
	get := func(path string, out any) error { return c.Do(http.MethodGet, path, nil, out) }
	post := func(path string, in, out any) error { return c.Do(http.MethodPost, path, in, out) }
	printJSON := func(v any) {
		data, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintf(stdout, "%s\n", data)
	}
	var err error
	switch sub {
	case "status":
		var st ulab.Status
		if err = get("/v1/status", &st); err == nil {
			if o.json {
				printJSON(st)
			} else {
				ulab.WriteStatus(stdout, st)
			}
		}
	case "clock":
		var cs ulab.ClockState
		switch arg(0) {
		case "show", "":
			err = get("/v1/clock", &cs)
		case "advance":
			if len(words) != 2 {
				return usage("clock advance DURATION, e.g. 30d or 7mo")
			}
			err = post("/v1/clock/advance", map[string]string{"by": words[1]}, &cs)
		case "speed":
			if len(words) != 2 {
				return usage("clock speed N, e.g. 1440 for a day a minute")
			}
			s, perr := strconv.ParseFloat(words[1], 64)
			if perr != nil {
				return usage(fmt.Sprintf("%q is not a speed (a number, e.g. 1440)", words[1]))
			}
			err = post("/v1/clock/speed", map[string]float64{"speed": s}, &cs)
		default:
			return usage("clock show, clock advance DURATION or clock speed N")
		}
		if err == nil {
			fmt.Fprintf(stdout, "Lab time: %s (speed %s)\n", stamp(cs.Now), speedText(cs.Speed))
		}
	case "fault":
		var list []ulab.Fault
		switch arg(0) {
		case "set":
			if len(words) != 3 {
				return usage("fault set TARGET KIND (TARGET: cssm or a cluster)")
			}
			err = post("/v1/faults/set", ulab.Fault{Target: words[1], Kind: words[2], Delay: o.delay, Status: o.status}, &list)
		case "clear":
			if len(words) > 3 {
				return usage("fault clear [TARGET [KIND]]")
			}
			err = post("/v1/faults/clear", ulab.Fault{Target: arg(1), Kind: arg(2)}, &list)
		case "list", "":
			err = get("/v1/faults", &list)
		default:
			return usage("fault set, fault clear or fault list")
		}
		if err == nil {
			if o.json {
				printJSON(list)
			} else {
				ulab.WriteFaults(stdout, list)
			}
		}
	case "snapshot":
		switch arg(0) {
		case "save", "load":
			if len(words) != 2 {
				return usage("snapshot save NAME or snapshot load NAME")
			}
			var s ulab.Snapshot
			if err = post("/v1/snapshots/"+words[0], map[string]string{"name": words[1]}, &s); err == nil {
				verb := "Saved"
				if words[0] == "load" {
					verb = "Loaded"
				}
				fmt.Fprintf(stdout, "%s snapshot %s (lab time %s).\n", verb, s.Name, stamp(s.LabTime))
			}
		case "list", "":
			var list []ulab.Snapshot
			if err = get("/v1/snapshots", &list); err == nil {
				if o.json {
					printJSON(list)
				} else {
					for _, s := range list {
						fmt.Fprintf(stdout, "%s\t%s\n", s.Name, stamp(s.LabTime))
					}
				}
			}
		default:
			return usage("snapshot save NAME, snapshot load NAME or snapshot list")
		}
	case "token":
		if len(words) != 1 {
			return usage("token NAME (a token of the lab file, or a cluster's name with --clusters)")
		}
		var st ulab.Status
		if err = get("/v1/status", &st); err == nil {
			for _, t := range st.Tokens {
				if t.Name == words[0] {
					fmt.Fprintln(stdout, t.Token)
					return 0, nil
				}
			}
			var names []string
			for _, t := range st.Tokens {
				names = append(names, t.Name)
			}
			err = fmt.Errorf("the lab has no token %q; its tokens are %s", words[0], strings.Join(names, ", "))
		}
	case "reset":
		if err = post("/v1/reset", struct{}{}, nil); err == nil {
			fmt.Fprintln(stdout, "The lab is back to its seed (new tokens: ucmsh lab status).")
		}
	case "down":
		if err = post("/v1/down", struct{}{}, nil); err == nil {
			fmt.Fprintln(stdout, "The lab is stopping.")
		}
	default:
		return usage(fmt.Sprintf("%q is not a lab subcommand", sub))
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}
