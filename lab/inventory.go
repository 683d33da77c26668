package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

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
	}
	for _, c := range l.saved.File.Clusters {
		if u := l.cssmURLFor(c.Name); l.saved.External.URL == "" || l.mineCluster(c.Name) {
			inv.Fronts[c.Name] = u
		}
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
	if err := atomicfile.Write(l.dir.inventoryINI(), []byte(b.String()), 0o600); err != nil {
		return err
	}
	b.Reset()
	WriteAnsibleYAML(&b, inv, l.loginName())
	return atomicfile.Write(l.dir.inventoryYAML(), []byte(b.String()), 0o600)
}

// WriteAnsibleYAML writes the same inventory as WriteAnsible in Ansible's
// YAML form. Names are quoted as JSON strings, which YAML reads as they are.
func WriteAnsibleYAML(w io.Writer, inv Inventory, user string) {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	host := func(p Place) {
		fmt.Fprintf(w, "        %s: {ansible_host: %s, ansible_port: %d, ucm_cluster: %s, ucm_role: %s}\n", q(p.Hostname), q(p.Host), p.Port, q(p.Cluster), q(p.Role))
	}
	fmt.Fprintf(w, "all:\n  vars:\n    ansible_user: %s\n    ansible_network_os: cucm\n  children:\n", q(user))
	group := func(name string, keep func(Place) bool) {
		fmt.Fprintf(w, "    %s:\n      hosts:\n", ansibleGroup(name))
		n := 0
		for _, p := range inv.Nodes {
			if keep(p) {
				host(p)
				n++
			}
		}
		if n == 0 {
			io.WriteString(w, "        {}\n")
		}
	}
	for _, c := range inv.Clusters {
		group(c.Name, func(p Place) bool { return p.Cluster == c.Name })
	}
	for _, role := range []string{Publisher, Subscriber} {
		group(role+"s", func(p Place) bool { return p.Role == role })
	}
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

// Stamp is how the lab prints an instant of its clock.
func Stamp(t time.Time) string { return t.UTC().Format("Mon Jan 2 15:04:05 2006 UTC") }

// SpeedText prints a clock speed.
func SpeedText(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) }

// WriteStatus prints `ucmsh lab status`.
func WriteStatus(w io.Writer, st Status) {
	fmt.Fprintf(w, "Lab time: %s (speed %s)\n", Stamp(st.Clock.Now), SpeedText(st.Clock.Speed))
	health := "not answering"
	if st.CSSM.OK {
		health = "ok"
	}
	fmt.Fprintf(w, "cssm: %s %s\n\n", st.CSSM.URL, health)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tHOST NAME\tROLE\tADDRESS\tPORT\tSSH\tREGISTRATION\tAUTHORIZATION")
	for _, n := range st.Nodes {
		ssh := "down"
		if n.Accepting {
			ssh = "ok"
		}
		reg, auth := n.Registration, n.Authorization
		if n.Role == Subscriber {
			reg, auth = "-", "-"
		}
		if n.Error != "" {
			reg, auth = "error: "+n.Error, ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", n.Cluster, n.Hostname, n.Role, n.Host, n.Port, ssh, reg, auth)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nTokens:")
	for _, t := range st.Tokens {
		fmt.Fprintf(w, "  %s (virtual account %s): %s\n", t.Name, t.VirtualAccount, t.Token)
	}
	fmt.Fprintln(w)
	WriteFaults(w, st.Faults)
}

// WriteFaults prints the faults in force.
func WriteFaults(w io.Writer, list []Fault) {
	if len(list) == 0 {
		fmt.Fprintln(w, "No faults.")
		return
	}
	fmt.Fprintln(w, "Faults:")
	for _, f := range list {
		fmt.Fprintf(w, "  %s (since %s)\n", f, Stamp(f.Since))
	}
}
