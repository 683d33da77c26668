package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/ucmsh/ucmsh/publisher"
)

func (r *Runner) quit(*Call) error { return errQuit }

func (r *Runner) paginationOn(c *Call) error {
	c.T.SetPagination(true)
	fmt.Fprintln(c.T, msgPaginationOn)
	return nil
}

func (r *Runner) paginationOff(c *Call) error {
	c.T.SetPagination(false)
	fmt.Fprintln(c.T, msgPaginationOff)
	return nil
}

func onOff(on bool) string {
	if on {
		return "On"
	}
	return "Off"
}

func (r *Runner) showPagination(c *Call) error {
	fmt.Fprintf(c.T, "Automatic Pagination : %s.\n", onOff(c.T.Pagination()))
	return nil
}

// showMyself: [ucmsh] layout, in the style of the VOS CLI.
func (r *Runner) showMyself(c *Call) error {
	fmt.Fprintf(c.T, "Machine Name    : %s\naccount name    : %s\nprivilege level : 4\ncommand count   : %d\nlogging setting : No\npagination      : %s\n",
		r.Profile.Hostname, c.T.User(), c.T.CommandCount(), onOff(c.T.Pagination()))
	return nil
}

func (r *Runner) showVersion(c *Call) error {
	fmt.Fprintf(c.T, "Active Master Version: %s\nActive Version Installed Software Options:\nNo Installed Software Options Found.\n", r.Profile.Version)
	return nil
}

func (r *Runner) showCluster(c *Call) error {
	var b strings.Builder
	members := r.Profile.SortedCluster()
	for _, m := range members {
		role, db := "Subscriber", "DBSub"
		if m.Role == "publisher" {
			role, db = "Publisher", "DBPub"
		}
		addr := m.Address
		if addr == "" {
			addr = m.Hostname
		}
		fmt.Fprintf(&b, "%s %s %s %s callmanager %s authenticated\n", addr, r.Profile.FQDN(m.Hostname), m.Hostname, role, db)
	}
	b.WriteString("\nServer Table (processnode) Entries\n----------------------------------\n")
	for _, m := range members {
		b.WriteString(r.Profile.FQDN(m.Hostname) + "\n")
	}
	b.WriteString("\nSuccessful\n")
	io.WriteString(c.T, b.String())
	return nil
}

// Banner is what an interactive session prints before its first prompt
// (REFERENCE §1); the values come from the node profile.
func Banner(p *publisher.Profile) string {
	h := p.Hardware
	return fmt.Sprintf("Command Line Interface is starting up, please wait ...\n\n   Welcome to the Platform Command Line Interface\n\n%s Installation:\n\t%d vCPU: %s\n\tDisk 1: %dGB, Partitions aligned\n\t%d Mbytes RAM\n\n",
		h.Platform, h.VCPUs, h.CPU, h.DiskGB, h.RAMMB)
}
