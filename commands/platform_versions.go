package commands

import (
	"context"
	"fmt"

	"github.com/ucmsh/ucmsh/publisher"
)

// The node's version decides its command tree (REFERENCE §2): the 12.5(1)
// CLI reference has no transport ssm-satellite, factory reset or export;
// they come with 14. A command a version lacks is not in its tree, so it
// gets the answer of any unknown command, and Tab, ? and help never offer
// it.

// treeFor is the command tree of the profile's version: Tree itself when
// the version has every command.
func treeFor(p *publisher.Profile) *Command {
	if p == nil {
		return Tree
	}
	major := p.Release().Major
	if !prunes(Tree, major) {
		return Tree
	}
	return link(prune(Tree, major))
}

func prunes(n *Command, major int) bool {
	for _, c := range n.Sub {
		if c.Since > major || prunes(c, major) {
			return true
		}
	}
	return false
}

// prune copies n without the commands newer than major.
func prune(n *Command, major int) *Command {
	cp := *n
	cp.Sub = nil
	for _, c := range n.Sub {
		if c.Since <= major {
			cp.Sub = append(cp.Sub, prune(c, major))
		}
	}
	return &cp
}

// transportGateway is license smart transport gateway <URL>. Until 14SU4
// and 15SU2 it names a Transport Gateway or a satellite; from then on a
// Transport Gateway only, and it is refused in Smart Transport mode (the
// mode of a fresh install) — publisher.Service.SetGateway checks that.
// [ucmsh] a node already on a satellite or a gateway may switch, as an
// upgraded node configured before could; ucmsh's cssm answers a gateway
// as it answers a satellite.
func (r *Runner) transportGateway(ctx context.Context, c *Call) error {
	u, err := serverURL(c.Value(argGatewayURL), msgNotGatewayURL)
	if err != nil {
		return err
	}
	if err := r.Service.SetGateway(u); err != nil {
		return err
	}
	fmt.Fprintln(c.Term, msgTransportUpdated)
	return nil
}

// msgNotGatewayURL says what a gateway URL looks like.
const msgNotGatewayURL = "%s is not a Transport Gateway URL; give an http:// or https:// URL with a host, such as https://tg.example.com:443/Transportgateway/services/DeviceRequestHandler"
