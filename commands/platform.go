package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ucmsh/ucmsh/publisher"
)

func (r *Runner) quit(context.Context, *Call) error { return errQuit }

func (r *Runner) paginationOn(ctx context.Context, c *Call) error {
	c.Term.SetPagination(true)
	fmt.Fprintln(c.Term, msgPaginationOn)
	return nil
}

func (r *Runner) paginationOff(ctx context.Context, c *Call) error {
	c.Term.SetPagination(false)
	fmt.Fprintln(c.Term, msgPaginationOff)
	return nil
}

func onOff(on bool) string {
	if on {
		return "On"
	}
	return "Off"
}

func (r *Runner) showPagination(ctx context.Context, c *Call) error {
	fmt.Fprintf(c.Term, "Automatic Pagination : %s.\n", onOff(c.Term.Pagination()))
	return nil
}

// showMyself: [ucmsh] layout, in the style of the VOS CLI.
func (r *Runner) showMyself(ctx context.Context, c *Call) error {
	fmt.Fprintf(c.Term, "Machine Name    : %s\naccount name    : %s\nprivilege level : 4\ncommand count   : %d\nlogging setting : No\npagination      : %s\n",
		r.Profile.Hostname, c.Term.User(), c.Term.CommandCount(), onOff(c.Term.Pagination()))
	return nil
}

func (r *Runner) showVersion(ctx context.Context, c *Call) error {
	fmt.Fprintf(c.Term, "Active Master Version: %s\nActive Version Installed Software Options:\nNo Installed Software Options Found.\n", r.Profile.Version)
	return nil
}

func (r *Runner) showCluster(ctx context.Context, c *Call) error {
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
	io.WriteString(c.Term, b.String())
	return nil
}

// Banner is what an interactive session prints before its first prompt
// (REFERENCE §1); the values come from the node profile.
func Banner(p *publisher.Profile) string {
	h := p.Hardware
	return fmt.Sprintf("Command Line Interface is starting up, please wait ...\n\n   Welcome to the Platform Command Line Interface\n\n%s Installation:\n\t%d vCPU: %s\n\tDisk 1: %dGB, Partitions aligned\n\t%d Mbytes RAM\n\n",
		h.Platform, h.VCPUs, h.CPU, h.DiskGB, h.RAMMB)
}
