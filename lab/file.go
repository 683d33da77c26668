// Package lab runs whole CUCM clusters and a cssm in one process: the lab
// file, the address plan, the shared running clock, the node timers on it,
// injected faults, snapshots, the inventory and the control plane. How one
// node is served (the shell over SSH) is given to it by the caller
// (Config.StartNode), so this package knows nothing of the shell.
package lab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/sshd"
)

// File is a lab file (README "Lab"): what to run and what to seed.
type File struct {
	// Plan is how nodes get addresses.
	Plan Plan `json:"address_plan"`
	// CSSM is the licensing server's listener and its seed.
	CSSM CSSM `json:"cssm"`
	// Accounts may log in to every node over SSH.
	Accounts []Account `json:"accounts"`
	Clusters []Cluster `json:"clusters"`
}

// Plan kinds.
const (
	PlanPorts = "ports" // one host (127.0.0.1), consecutive ports
	PlanHosts = "hosts" // one loopback address per node (127.1.C.N), one port
)

// Plan is the address plan.
type Plan struct {
	Kind string `json:"kind"` // PlanPorts (default) or PlanHosts
	// Ports: Host (default 127.0.0.1) and FirstPort (default 2201; 0: any
	// free port for each node, see the ready file).
	Host      string `json:"host,omitempty"`
	FirstPort *int   `json:"first_port,omitempty"`
	// Hosts: node N of cluster C (both from 1) gets Prefix.C.N (default
	// prefix 127.1), all on Port (default 2222, as ucmsh serve: 22 needs root and collides with a system sshd listening on all addresses).
	Prefix string `json:"prefix,omitempty"`
	Port   int    `json:"port,omitempty"`
}

// CSSM is the lab's licensing server.
type CSSM struct {
	// Listen is its product API's address (default 127.0.0.1:0, any free port).
	Listen   string        `json:"listen,omitempty"`
	Accounts []CSSMAccount `json:"accounts"`
}

// CSSMAccount is a virtual account to create, with its pools and tokens.
type CSSMAccount struct {
	Smart      string    `json:"smart_account"`
	Virtual    string    `json:"virtual_account"`
	Licenses   []License `json:"licenses,omitempty"`
	ExportKeys int       `json:"export_keys,omitempty"`
	Tokens     []Token   `json:"tokens,omitempty"`
}

// License is a purchase in a pool.
type License struct {
	Tier    string `json:"tier"`
	Count   int    `json:"count"`
	TermEnd string `json:"term_end,omitempty"` // YYYY-MM-DD; perpetual without it
}

// Token is a registration token to create; the lab names it so that
// clusters and `ucmsh lab status` can refer to it.
type Token struct {
	Name        string `json:"name"`
	ExpiresDays int    `json:"expires_days,omitempty"` // default 365
	MaxUses     int    `json:"max_uses,omitempty"`     // 0: unlimited
	AllowExport bool   `json:"allow_export,omitempty"`
}

// Account is an SSH account on every node: a password file (its first
// line), an authorized_keys file, or both. There is no default password.
type Account struct {
	Name               string `json:"name"`
	PasswordFile       string `json:"password_file,omitempty"`
	AuthorizedKeysFile string `json:"authorized_keys_file,omitempty"`
}

// Cluster is one CUCM cluster: exactly one publisher and its subscribers.
type Cluster struct {
	Name     string `json:"name"`
	Domain   string `json:"domain,omitempty"`
	Version  string `json:"version,omitempty"`
	TimeZone string `json:"time_zone,omitempty"`
	// Token names the cssm token the publisher registers with (`ucmsh lab
	// register`, the instance-removed fault's repair).
	Token string `json:"token,omitempty"`
	Nodes []Node `json:"nodes"`
}

// Node is one node of a cluster.
type Node struct {
	Hostname string         `json:"hostname"`
	Role     string         `json:"role"` // publisher or subscriber
	Usage    map[string]int `json:"usage,omitempty"`
	// Address overrides the plan: "HOST:PORT".
	Address string `json:"address,omitempty"`
}

// Roles.
const (
	Publisher  = "publisher"
	Subscriber = "subscriber"
)

// Defaults of the plan.
const (
	DefaultHost      = "127.0.0.1"
	DefaultFirstPort = 2201
	DefaultPrefix    = "127.1"
	DefaultHostsPort = 2222
	DefaultVersion   = "14.0.1.13900-155"
	DefaultDomain    = "lab.example.com"
)

// FieldError is a mistake in the lab file, at a JSON path.
type FieldError struct {
	Path string // e.g. clusters[1].nodes[0].hostname
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

func fieldErr(path, format string, a ...any) error {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, a...)}
}

// LoadFile reads a lab file; relative file names in it are relative to
// the file's folder.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf(msgReadLabFile, err)
	}
	f, err := ParseFile(data)
	if err != nil {
		return nil, fmt.Errorf(msgLabFileInvalid, path, err)
	}
	dir := filepath.Dir(path)
	for i := range f.Accounts {
		a := &f.Accounts[i]
		for _, p := range []*string{&a.PasswordFile, &a.AuthorizedKeysFile} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(dir, *p)
			}
		}
	}
	return f, nil
}

// ParseFile decodes a lab file strictly (unknown fields are mistakes) and
// checks it; it does not yet check the addresses (Resolve does).
func ParseFile(data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, jsonError(data, err)
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object")
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return &f, nil
}

var unknownField = regexp.MustCompile(`^json: unknown field "(.*)"$`)

// jsonError names the place of a decoding error: the line, and for an
// unknown field the field.
func jsonError(data []byte, err error) error {
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf(msgUnknownField, m[1])
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return fieldErr(te.Field, "must be a JSON %s, not %s", te.Type.Kind(), te.Value)
	case errors.As(err, &se):
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Errorf("line %d: %v", line, err)
	}
	return err
}

var (
	// Lengths are checked apart (validName): counted repeats ({0,61})
	// compile to programs of tens of kilobytes each, held as long as
	// the process.
	hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)
	labNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

func (f *File) check() error {
	switch f.Plan.Kind {
	case "", PlanPorts:
		if f.Plan.Prefix != "" || f.Plan.Port != 0 {
			return fieldErr("address_plan", `"prefix" and "port" belong to the "hosts" plan; the "ports" plan takes "host" and "first_port"`)
		}
		if p := f.Plan.FirstPort; p != nil && (*p < 0 || *p > 65535) {
			return fieldErr("address_plan.first_port", "%d is not a port (1 to 65535, or 0 for any free port)", *p)
		}
	case PlanHosts:
		if f.Plan.Host != "" || f.Plan.FirstPort != nil {
			return fieldErr("address_plan", `"host" and "first_port" belong to the "ports" plan; the "hosts" plan takes "prefix" and "port"`)
		}
		if f.Plan.Port < 0 || f.Plan.Port > 65535 {
			return fieldErr("address_plan.port", "%d is not a port", f.Plan.Port)
		}
		if p := f.Plan.Prefix; p != "" {
			if _, err := netip.ParseAddr(p + ".1.1"); err != nil || strings.Count(p, ".") != 1 {
				return fieldErr("address_plan.prefix", "%q is not the first two parts of an IPv4 address (e.g. 127.1)", p)
			}
		}
	default:
		return fieldErr("address_plan.kind", "%q is not an address plan; use %q or %q", f.Plan.Kind, PlanPorts, PlanHosts)
	}

	tokens := map[string]string{} // name -> virtual account
	vas := map[string]bool{}
	for i, a := range f.CSSM.Accounts {
		p := fmt.Sprintf("cssm.accounts[%d]", i)
		if a.Smart == "" {
			return fieldErr(p+".smart_account", "is required")
		}
		if a.Virtual == "" {
			return fieldErr(p+".virtual_account", "is required")
		}
		if vas[a.Virtual] {
			return fieldErr(p+".virtual_account", "%q is named twice; virtual account names are unique", a.Virtual)
		}
		vas[a.Virtual] = true
		for j, l := range a.Licenses {
			lp := fmt.Sprintf("%s.licenses[%d]", p, j)
			if _, ok := cssmapi.LookupTier(l.Tier); !ok {
				return fieldErr(lp+".tier", "%q is not a license type; use one of %s", l.Tier, strings.Join(cssmapi.TierNames(), ", "))
			}
			if l.Count <= 0 {
				return fieldErr(lp+".count", "must be at least 1")
			}
		}
		if a.ExportKeys < 0 {
			return fieldErr(p+".export_keys", "must not be negative")
		}
		for j, t := range a.Tokens {
			tp := fmt.Sprintf("%s.tokens[%d]", p, j)
			if !validName(labNameRE, t.Name, 63) {
				return fieldErr(tp+".name", "%q is not a token name (letters, digits, '.', '_', '-')", t.Name)
			}
			if _, dup := tokens[t.Name]; dup {
				return fieldErr(tp+".name", "token %q is named twice", t.Name)
			}
			if t.ExpiresDays < 0 || t.ExpiresDays > 365 {
				return fieldErr(tp+".expires_days", "must be 1 to 365 (0: 365)")
			}
			if t.MaxUses < 0 {
				return fieldErr(tp+".max_uses", "must not be negative (0: unlimited)")
			}
			tokens[t.Name] = a.Virtual
		}
	}

	names := map[string]bool{}
	for i, a := range f.Accounts {
		p := fmt.Sprintf("accounts[%d]", i)
		if sshd.ValidUserName(a.Name) != nil {
			return fieldErr(p+".name", "%q is not a valid account name (lower-case letters, digits, '_', '.', '-')", a.Name)
		}
		if names[a.Name] {
			return fieldErr(p+".name", "account %q is named twice", a.Name)
		}
		names[a.Name] = true
		if a.PasswordFile == "" && a.AuthorizedKeysFile == "" {
			return fieldErr(p, `give "password_file" or "authorized_keys_file" (there is no default password)`)
		}
	}

	if len(f.Clusters) == 0 {
		return fieldErr("clusters", "the lab needs at least one cluster")
	}
	clusters, hosts := map[string]bool{}, map[string]string{}
	for i, c := range f.Clusters {
		p := fmt.Sprintf("clusters[%d]", i)
		if !validName(labNameRE, c.Name, 63) {
			return fieldErr(p+".name", "%q is not a cluster name (letters, digits, '.', '_', '-')", c.Name)
		}
		if clusters[c.Name] {
			return fieldErr(p+".name", "cluster %q is named twice", c.Name)
		}
		clusters[c.Name] = true
		if c.Token != "" {
			if _, ok := tokens[c.Token]; !ok {
				return fieldErr(p+".token", "names token %q, which cssm.accounts does not create", c.Token)
			}
		}
		pubs := 0
		for j, n := range c.Nodes {
			np := fmt.Sprintf("%s.nodes[%d]", p, j)
			if !validName(hostnameRE, n.Hostname, 63) {
				return fieldErr(np+".hostname", "%q is not a host name (letters, digits and '-', at most 63)", n.Hostname)
			}
			key := strings.ToLower(n.Hostname)
			if other, dup := hosts[key]; dup {
				return fieldErr(np+".hostname", "host name %q is used twice (also at %s)", n.Hostname, other)
			}
			hosts[key] = np
			switch n.Role {
			case Publisher:
				pubs++
			case Subscriber:
			default:
				return fieldErr(np+".role", "%q is not a role; use %q or %q", n.Role, Publisher, Subscriber)
			}
			for k, v := range n.Usage {
				if e, ok := cssmapi.LookupTier(k); !ok || e.HCS() {
					return fieldErr(np+".usage", "names %q, which is not a license type; use one of %s", k, strings.Join(cssmapi.EnterpriseTierNames(), ", "))
				}
				if v < 0 || v > 1_000_000 {
					return fieldErr(np+".usage."+k, "must be 0 to 1000000")
				}
			}
		}
		if pubs != 1 {
			return fieldErr(p+".nodes", "a cluster has exactly one publisher, not %d", pubs)
		}
	}
	return nil
}

// Generate is the lab of `ucmsh lab up --clusters N --subscribers M`: the
// default seed. Cluster i (from 1) is "cluster<i>" with publisher
// "c<i>-pub" and subscribers "c<i>-sub<j>"; one virtual account per
// cluster with a pool that covers it and a token that allows export.
func Generate(clusters, subscribers int, plan Plan) (*File, error) {
	if clusters < 1 || clusters > 1000 {
		return nil, errors.New("--clusters must be 1 to 1000")
	}
	if subscribers < 0 || subscribers > 99 {
		return nil, errors.New("--subscribers must be 0 to 99")
	}
	f := &File{Plan: plan}
	for i := 1; i <= clusters; i++ {
		name := fmt.Sprintf("cluster%d", i)
		f.CSSM.Accounts = append(f.CSSM.Accounts, CSSMAccount{
			Smart: "Lab Smart Account", Virtual: name,
			Licenses: []License{
				{Tier: "Enhanced", Count: 100}, {Tier: "Basic", Count: 50}, {Tier: "Essential", Count: 50},
			},
			ExportKeys: 2,
			Tokens:     []Token{{Name: name, AllowExport: true}},
		})
		c := Cluster{Name: name, Token: name, Nodes: []Node{
			{Hostname: fmt.Sprintf("c%d-pub", i), Role: Publisher, Usage: map[string]int{"Enhanced": 5, "Basic": 3, "Essential": 2}},
		}}
		for j := 1; j <= subscribers; j++ {
			c.Nodes = append(c.Nodes, Node{Hostname: fmt.Sprintf("c%d-sub%d", i, j), Role: Subscriber, Usage: map[string]int{"Enhanced": 2, "Basic": 1}})
		}
		f.Clusters = append(f.Clusters, c)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}

// validName: re matches the whole of s, which is at most n bytes long.
func validName(re *regexp.Regexp, s string, n int) bool {
	return len(s) <= n && re.MatchString(s)
}
