package lab

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Place is where one node listens.
type Place struct {
	Cluster  string `json:"cluster"`
	Hostname string `json:"hostname"`
	Role     string `json:"role"`
	Host     string `json:"address"`
	Port     int    `json:"port"` // 0 until bound when the plan asks for any free port
	path     string // the node's path in the lab file, for errors
	cluster  int    // index in File.Clusters
	node     int    // index in Cluster.Nodes
}

// Addr is HOST:PORT.
func (p Place) Addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

// Resolve applies the address plan: every node's address, in the order of
// the file. Addresses outside 127.0.0.0/8 are refused unless allowRemote;
// two nodes on one address are refused, naming both.
func Resolve(f *File, allowRemote bool) ([]Place, error) {
	var out []Place
	seen := map[string]string{}
	next := DefaultFirstPort
	if f.Plan.FirstPort != nil {
		next = *f.Plan.FirstPort
	}
	host := f.Plan.Host
	if host == "" {
		host = DefaultHost
	}
	prefix, port := f.Plan.Prefix, f.Plan.Port
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if port == 0 {
		port = DefaultHostsPort
	}
	for ci, c := range f.Clusters {
		for ni, n := range c.Nodes {
			p := Place{Cluster: c.Name, Hostname: n.Hostname, Role: n.Role, path: fmt.Sprintf("clusters[%d].nodes[%d]", ci, ni), cluster: ci, node: ni}
			switch {
			case n.Address != "":
				h, ps, err := net.SplitHostPort(n.Address)
				pn, perr := strconv.Atoi(ps)
				if err != nil || perr != nil || pn < 1 || pn > 65535 {
					return nil, fieldErr(p.path+".address", "%q is not HOST:PORT with a port from 1 to 65535", n.Address)
				}
				p.Host, p.Port = h, pn
			case f.Plan.Kind == PlanHosts:
				if ci+1 > 255 || ni+1 > 254 {
					return nil, fieldErr(p.path, "the hosts plan gives at most 255 clusters of 254 nodes (%s.C.N)", prefix)
				}
				p.Host, p.Port = fmt.Sprintf("%s.%d.%d", prefix, ci+1, ni+1), port
			default:
				p.Host, p.Port = host, next
				if next != 0 {
					if next > 65535 {
						return nil, fieldErr(p.path, "the ports plan ran out of ports (first_port %d and %d nodes)", *f.Plan.FirstPort, len(out)+1)
					}
					next++
				}
			}
			where := p.path + ".address"
			if n.Address == "" {
				where = p.path + " (address_plan)"
			}
			if err := checkHost(p.Host, allowRemote); err != nil {
				return nil, fieldErr(where, "%v", err)
			}
			if p.Port != 0 {
				key := p.Addr()
				if other, dup := seen[key]; dup {
					return nil, fieldErr(where, "address %s is also %s's", key, other)
				}
				seen[key] = p.path + " (" + n.Hostname + ")"
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// checkHost allows loopback addresses (127.0.0.0/8, ::1) only, unless
// allowRemote: a lab of admin shells is not for the network by accident.
func checkHost(host string, allowRemote bool) error {
	a, err := netip.ParseAddr(host)
	if err != nil {
		if allowRemote {
			return nil
		}
		return fmt.Errorf(msgNotIP, host)
	}
	if !a.IsLoopback() && !allowRemote {
		return fmt.Errorf(msgNotLoopback, host)
	}
	return nil
}
