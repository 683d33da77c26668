package lab

// The lab's coupling to the licensing service of a node, in one file: its
// timers (RunDue, and when it falls due next), its transport and its
// registration.

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"

	"github.com/ucmsh/ucmsh/publisher"
)

// NodeSpec is what the caller's StartNode needs to serve one node.
type NodeSpec struct {
	Place   Place
	State   string             // the node's state folder (exists, 0700)
	Profile *publisher.Profile // its cluster, with the lab's addresses
	Clock   publisher.Clock    // the lab clock
}

// StartedNode is a node being served.
type StartedNode struct {
	// Service is the publisher's licensing service (nil on a subscriber);
	// the lab runs its timers.
	Service *publisher.Service
	// Stop ends the node's SSH server and waits for it.
	Stop func()
}

// nextDue is when the node's timers next want to run, from its report:
// the next authorization or registration renewal or export retry (zero if
// none is scheduled).
func nextDue(r *publisher.Report) time.Time {
	var t time.Time
	consider := func(p *time.Time) {
		if p != nil && (t.IsZero() || p.Before(t)) {
			t = *p
		}
	}
	consider(r.Authorization.NextCommunication)
	consider(r.Registration.NextRenewal)
	if r.PendingExport != nil {
		consider(&r.PendingExport.Next)
	}
	return t
}

// runDue runs what is due and says when to come back. A panic (a bug) is
// its error: in a shell the command runner recovers it, and here it would
// take every node of the lab down with the one.
func runDue(ctx context.Context, svc *publisher.Service) (_ time.Time, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in the licensing timers: %v\n%s", p, debug.Stack())
		}
	}()
	r, err := svc.ReportDue(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return nextDue(r), nil
}

// pointTransport sends the publisher to its cluster's cssm front, unless
// it already goes there (a change is a line in the trace).
func pointTransport(svc *publisher.Service, url string) error {
	r, err := svc.Report()
	if err != nil {
		return err
	}
	if r.Transport.Type == publisher.TransportSatellite && r.Transport.URL == url {
		return nil
	}
	return svc.SetTransport(publisher.TransportConfig{Mode: publisher.TransportModeSatellite, URL: url})
}

// nodeHealth is one publisher's licensing summary for `lab status`.
func nodeHealth(svc *publisher.Service) (registration, authorization string, err error) {
	r, err := svc.Report()
	if err != nil {
		return "", "", err
	}
	return r.Registration.Status, r.Authorization.Status, nil
}

// register registers the publisher with a token (force: again).
func register(ctx context.Context, svc *publisher.Service, token string) error {
	_, err := svc.Register(ctx, token, true)
	return err
}

// usageSum is the cluster's usage, which its publisher reports (as CUCM's
// publisher reports for the whole cluster).
func usageSum(nodes []Node) map[string]int {
	sum := map[string]int{}
	for _, n := range nodes {
		for k, v := range n.Usage {
			sum[canonicalTier(k)] += v
		}
	}
	return sum
}

// profileFor is a node's profile: its host name, the cluster with the
// lab's addresses, and its usage (the publisher's: the cluster's).
func profileFor(c Cluster, places []Place, n Node) (*publisher.Profile, error) {
	p := &publisher.Profile{
		Hostname: n.Hostname,
		Domain:   c.Domain,
		Version:  c.Version,
		TimeZone: c.TimeZone,
		Hardware: publisher.Hardware{Platform: "VMware", VCPUs: 2, CPU: "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", DiskGB: 110, RAMMB: 8192},
		Usage:    n.Usage,
	}
	if p.Domain == "" {
		p.Domain = DefaultDomain
	}
	if p.Version == "" {
		p.Version = DefaultVersion
	}
	if n.Role == Publisher {
		p.Usage = usageSum(c.Nodes)
	}
	for _, pl := range places {
		if pl.Cluster == c.Name {
			p.Cluster = append(p.Cluster, publisher.ClusterMember{Hostname: pl.Hostname, Address: pl.Host, Role: pl.Role})
		}
	}
	// ParseProfile checks it as it checks a --profile file.
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return publisher.ParseProfile(data)
}

func canonicalTier(k string) string {
	if e, ok := cssmapi.LookupTier(k); ok {
		return e.Tier
	}
	return k
}

// wasRegistered: the publisher holds a registration (valid or not).
func wasRegistered(svc *publisher.Service) bool {
	r, err := svc.Report()
	return err == nil && r.Registration.Status != publisher.Unregistered
}
