package publisher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Profile describes the node the shell runs on: what a real CUCM would learn
// from its installation and database. It is read-only input (--profile).
type Profile struct {
	Hostname string          `json:"hostname"`
	Domain   string          `json:"domain,omitempty"`
	Version  string          `json:"version"`
	TimeZone string          `json:"time_zone"`
	Hardware Hardware        `json:"hardware"`
	Cluster  []ClusterMember `json:"cluster,omitempty"`
	Usage    map[string]int  `json:"usage"`

	loc *time.Location
}

// Hardware feeds the start-up banner.
type Hardware struct {
	Platform string `json:"platform"`
	VCPUs    int    `json:"vcpus"`
	CPU      string `json:"cpu"`
	DiskGB   int    `json:"disk_gb"`
	RAMMB    int    `json:"ram_mb"`
}

// ClusterMember is one node of the cluster, as `show network cluster` lists it.
type ClusterMember struct {
	Hostname string `json:"hostname"`
	Address  string `json:"address"`
	Role     string `json:"role"` // publisher or subscriber
}

// MaxUsage bounds a usage count so reports stay readable and sums never overflow.
const MaxUsage = 1_000_000

// DefaultProfile is a small lab publisher with a few users, so a fresh shell
// shows evaluation mode in use. Addresses are from the documentation range.
func DefaultProfile() *Profile {
	p := &Profile{
		Hostname: "cucm-pub",
		Domain:   "lab.example.com",
		Version:  "14.0.1.13900-155",
		TimeZone: "UTC",
		Hardware: Hardware{Platform: "VMware", VCPUs: 2, CPU: "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", DiskGB: 110, RAMMB: 8192},
		Cluster: []ClusterMember{
			{Hostname: "cucm-pub", Address: "192.0.2.10", Role: "publisher"},
			{Hostname: "cucm-sub1", Address: "192.0.2.11", Role: "subscriber"},
		},
		Usage: map[string]int{"Enhanced": 5, "Basic": 3, "Essential": 2},
	}
	if err := p.validate(); err != nil {
		panic("default profile: " + err.Error()) // a programming error, caught by tests
	}
	return p
}

// LoadProfile reads and validates a profile file.
func LoadProfile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the node profile %s: %w", path, err)
	}
	p, err := ParseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("the node profile %s is not valid: %w", path, err)
	}
	return p, nil
}

// ParseProfile decodes a profile strictly: unknown fields are mistakes.
func ParseProfile(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON object")
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) validate() error {
	if p.Hostname == "" {
		return fmt.Errorf(`"hostname" is required`)
	}
	if p.Version == "" {
		return fmt.Errorf(`"version" is required (e.g. "14.0.1.13900-155")`)
	}
	if p.TimeZone == "" {
		p.TimeZone = "UTC"
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return fmt.Errorf(`"time_zone" %q is not a known IANA time zone (e.g. "Asia/Kolkata")`, p.TimeZone)
	}
	p.loc = loc
	usage := make(map[string]int, len(p.Usage))
	for k, n := range p.Usage {
		l, ok := cssmapi.LookupTier(k)
		if !ok {
			return fmt.Errorf(`"usage" names %q, which is not a license type; use one of %s`, k, strings.Join(cssmapi.TierNames(), ", "))
		}
		if n < 0 || n > MaxUsage {
			return fmt.Errorf(`"usage" of %s is %d; it must be between 0 and %d`, l.Tier, n, MaxUsage)
		}
		usage[l.Tier] = n
	}
	p.Usage = usage
	if len(p.Cluster) == 0 {
		p.Cluster = []ClusterMember{{Hostname: p.Hostname, Role: "publisher"}}
	}
	pubs := 0
	for i, m := range p.Cluster {
		if m.Hostname == "" {
			return fmt.Errorf(`cluster member %d has no "hostname"`, i+1)
		}
		switch m.Role {
		case "publisher":
			pubs++
		case "subscriber":
		default:
			return fmt.Errorf(`cluster member %s has role %q; use "publisher" or "subscriber"`, m.Hostname, m.Role)
		}
	}
	if pubs != 1 {
		return fmt.Errorf("the cluster must have exactly one publisher, not %d", pubs)
	}
	return nil
}

// Location is the node's time zone, in which every time stamp is shown.
func (p *Profile) Location() *time.Location {
	if p.loc == nil {
		return time.UTC
	}
	return p.loc
}

// UsageOf returns how many licenses of a type are in use.
func (p *Profile) UsageOf(key string) int { return p.Usage[key] }

// InUse reports whether any license is consumed.
func (p *Profile) InUse() bool {
	for _, n := range p.Usage {
		if n > 0 {
			return true
		}
	}
	return false
}

// FQDN is the host name with the domain, when there is one.
func (p *Profile) FQDN(host string) string {
	if p.Domain == "" {
		return host
	}
	return host + "." + p.Domain
}

// SortedCluster lists the publisher first, then subscribers by name.
func (p *Profile) SortedCluster() []ClusterMember {
	out := append([]ClusterMember(nil), p.Cluster...)
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Role == "publisher") != (out[j].Role == "publisher") {
			return out[i].Role == "publisher"
		}
		return out[i].Hostname < out[j].Hostname
	})
	return out
}
