package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
)

// Inventory is inventory.json and the ready file: every address of the
// lab once it accepts connections.
type Inventory struct {
	Dir      string            `json:"dir"`
	CSSM     string            `json:"cssm_url"`
	Control  string            `json:"control_file"`
	Clusters []InvCluster      `json:"clusters"`
	Nodes    []Place           `json:"nodes"`
	Tokens   []SeededToken     `json:"tokens"`
	Fronts   map[string]string `json:"cluster_cssm_urls"`
}

// InvCluster is one cluster of the inventory.
type InvCluster struct {
	Name      string   `json:"name"`
	Publisher string   `json:"publisher"`
	Nodes     []string `json:"nodes"`
}

// Inventory describes the running lab.
func (l *Lab) Inventory() Inventory {
	inv := Inventory{Dir: l.dir.root(), CSSM: l.CSSMURL(), Control: l.dir.control(), Nodes: l.Places(), Fronts: map[string]string{}}
	for ci, c := range l.saved.File.Clusters {
		if !l.saved.Shard.has(ci) {
			continue
		}
		ic := InvCluster{Name: c.Name}
		for _, n := range c.Nodes {
			ic.Nodes = append(ic.Nodes, n.Hostname)
			if n.Role == Publisher {
				ic.Publisher = n.Hostname
			}
		}
		inv.Clusters = append(inv.Clusters, ic)
		inv.Fronts[c.Name] = l.cssmURLFor(c.Name)
	}
	for _, a := range l.saved.File.CSSM.Accounts {
		for _, t := range a.Tokens {
			if st, ok := l.saved.Tokens[t.Name]; ok {
				inv.Tokens = append(inv.Tokens, st)
			}
		}
	}
	return inv
}

func (l *Lab) writeInventory() error {
	inv := l.Inventory()
	data, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(l.dir.inventoryJSON(), append(data, '\n'), 0o600); err != nil {
		return err
	}
	var b strings.Builder
	WriteAnsible(&b, inv, l.loginName())
	return atomicfile.Write(l.dir.inventoryINI(), []byte(b.String()), 0o600)
}

// WriteReady writes the ready file (the inventory) atomically.
func (l *Lab) WriteReady(path string) error {
	data, err := json.MarshalIndent(l.Inventory(), "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o600)
}

func (l *Lab) loginName() string {
	if a := l.saved.File.Accounts; len(a) > 0 {
		return a[0].Name
	}
	return "admin"
}

var groupChars = regexp.MustCompile(`[^A-Za-z0-9_]`)

// ansibleGroup makes a name a valid Ansible group name (letters, digits, '_').
func ansibleGroup(name string) string {
	g := groupChars.ReplaceAllString(name, "_")
	if g == "" || (g[0] >= '0' && g[0] <= '9') {
		g = "c_" + g
	}
	return g
}

// WriteAnsible writes an Ansible INI inventory: a group per cluster, the
// groups publishers and subscribers, and the login user.
func WriteAnsible(w io.Writer, inv Inventory, user string) {
	host := func(p Place) string {
		return fmt.Sprintf("%s ansible_host=%s ansible_port=%d ucm_cluster=%s ucm_role=%s\n", p.Hostname, p.Host, p.Port, p.Cluster, p.Role)
	}
	for _, c := range inv.Clusters {
		fmt.Fprintf(w, "[%s]\n", ansibleGroup(c.Name))
		for _, p := range inv.Nodes {
			if p.Cluster == c.Name {
				io.WriteString(w, host(p))
			}
		}
		io.WriteString(w, "\n")
	}
	for _, role := range []string{Publisher, Subscriber} {
		fmt.Fprintf(w, "[%ss]\n", role)
		for _, p := range inv.Nodes {
			if p.Role == role {
				io.WriteString(w, host(p))
			}
		}
		io.WriteString(w, "\n")
	}
	fmt.Fprintf(w, "[all:vars]\nansible_user=%s\nansible_network_os=cucm\n", user)
}

// WriteTable prints the node table.
func WriteTable(w io.Writer, nodes []Place) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tHOST NAME\tROLE\tADDRESS\tPORT")
	for _, p := range nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", p.Cluster, p.Hostname, p.Role, p.Host, p.Port)
	}
	tw.Flush()
}
