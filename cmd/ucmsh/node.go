package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/ucmsh/ucmsh/commands"
	"github.com/ucmsh/ucmsh/internal/clock"
	"github.com/ucmsh/ucmsh/internal/statedir"
	"github.com/ucmsh/ucmsh/publisher"
)

// node is what the shell and the server both run on: the role, the node
// profile and, on a publisher, the licensing service.
type node struct {
	role    commands.Role
	profile *publisher.Profile
	svc     *publisher.Service // nil on a subscriber
	clk     clock.Clock        // the node's time (--now)
	svcErr  error              // why the service cannot run, if so
}

// nodeFlags are the flags of every command that runs a node.
type nodeFlags struct{ state, role, profile, now string }

func (f *nodeFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.state, "state", statedir.DefaultNode(), "the node's state folder")
	fs.StringVar(&f.role, "role", "publisher", "the node's role: publisher or subscriber")
	fs.StringVar(&f.profile, "profile", "", "node profile (JSON: host name, version, time zone, cluster, usage); built-in lab node if empty")
	fs.StringVar(&f.now, "now", "", "the node's current time, RFC 3339 (for simulations)")
}

// open checks the flags and opens the node.
func (f *nodeFlags) open() (*node, error) { return openNode(f.state, f.role, f.profile, f.now) }

// openNode checks the node flags and opens the licensing service. A flag
// error is the caller's exit status 2; a state folder that cannot be
// opened is not: licensing commands report it and the rest still work.
func openNode(state, role, profile, now string) (*node, error) {
	n := &node{role: commands.Role(role), profile: publisher.DefaultProfile()}
	if n.role != commands.Publisher && n.role != commands.Subscriber {
		return nil, fmt.Errorf("--role must be publisher or subscriber, not %q", role)
	}
	clk, err := clock.Parse(now)
	if err != nil {
		return nil, err
	}
	n.clk = clk
	if profile != "" {
		p, err := publisher.LoadProfile(profile)
		if err != nil {
			return nil, err
		}
		n.profile = p
	}
	if n.role == commands.Publisher {
		store, err := publisher.OpenStore(state)
		if err == nil {
			n.svc = publisher.NewService(store, clk, n.profile)
			// A lab or a test can send the direct transport elsewhere.
			if u := os.Getenv("UCMSH_DIRECT_URL"); u != "" {
				n.svc.DirectURL = u
			}
		}
		n.svcErr = err
	}
	return n, nil
}

// runner is a command runner over the node.
func (n *node) runner() *commands.Runner {
	r := commands.NewRunner(n.role, n.profile, n.svc)
	r.Clock = n.clk
	r.ServiceErr = n.svcErr
	return r
}
