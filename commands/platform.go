package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"
	"github.com/ucmsh/ucmsh/internal/sanitize"

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
	fmt.Fprintf(c.Term, "Machine Name    : %s\naccount name    : %s\nprivilege level : %d\ncommand count   : %d\nlogging setting : No\npagination      : %s\n",
		r.Profile.Local(string(r.Role)).Hostname, c.Term.User(), c.Term.Privilege(), c.Term.CommandCount(), onOff(c.Term.Pagination()))
	return nil
}

// The platform commands: each builds its model from the profile and the
// node's clock (platform_model.go) and prints it as text or, with --json,
// as JSON.

// view is the node as the platform commands see it now.
func (r *Runner) view() NodeView {
	return NodeView{Profile: r.Profile, Role: r.Role, Now: r.clock().Now()}
}

// clock is the node's clock: the system's unless one was injected.
func (r *Runner) clock() clock.Clock {
	if r.Clock == nil {
		return clock.System{}
	}
	return r.Clock
}

// platformOut prints a model as text, or as JSON for scripts.
func platformOut[M any](c *Call, m M, text func(M) string) error {
	if !c.JSON {
		_, err := io.WriteString(c.Term, text(m))
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	_, err = c.Term.Write(append(sanitize.JSON(data), '\n'))
	return err
}

func (r *Runner) showSystemStatus(ctx context.Context, c *Call) error {
	return platformOut(c, StatusOf(r.view()), RenderSystemStatus)
}

func (r *Runner) showVersionActive(ctx context.Context, c *Call) error {
	return platformOut(c, VersionOf(r.view(), true), RenderVersion)
}

func (r *Runner) showVersionInactive(ctx context.Context, c *Call) error {
	return platformOut(c, VersionOf(r.view(), false), RenderVersion)
}

func (r *Runner) showHardware(ctx context.Context, c *Call) error {
	return platformOut(c, HardwareOf(r.view()), RenderHardware)
}

func (r *Runner) showEth0(ctx context.Context, c *Call) error {
	return platformOut(c, Eth0Of(r.view(), c.Given(argDetail)), RenderEth0)
}

func (r *Runner) ntpStatus(ctx context.Context, c *Call) error {
	pub := r.Role == Publisher
	return platformOut(c, NTPOf(r.view()), func(n NTPStatus) string { return RenderNTP(n, pub) })
}

func (r *Runner) dbReplicationRuntimeState(ctx context.Context, c *Call) error {
	return platformOut(c, DBReplicationOf(r.view()), RenderDBReplication)
}

func (r *Runner) showTimeZone(ctx context.Context, c *Call) error {
	return platformOut(c, TimeZoneOf(r.view()), RenderTimeZone)
}

func (r *Runner) showCluster(ctx context.Context, c *Call) error {
	return platformOut(c, ClusterOf(r.view()), RenderCluster)
}

// ServiceListPause is how long Service Manager takes to answer utils
// service list ([ucmsh]: a few seconds on a real node; collectors allow
// 120 s).
const ServiceListPause = 3 * time.Second

// serviceList prints the first line at once and the list after Service
// Manager's pause, which Control-C aborts. The pause is on the node's
// clock: a simulated node (--now) or a test does not wait.
func (r *Runner) serviceList(ctx context.Context, c *Call) error {
	v := r.view()
	if !c.JSON {
		fmt.Fprintln(c.Term, MsgServiceListWait)
		if f, ok := c.Term.(interface{ Flush() }); ok {
			f.Flush()
		}
	}
	if err := clock.Sleep(ctx, r.clock(), ServiceListPause); err != nil {
		return err
	}
	return platformOut(c, ServicesOf(v), RenderServiceList)
}

// Banner is what an interactive session prints before its first prompt
// (REFERENCE §1); the values come from the node profile.
func Banner(p *publisher.Profile) string {
	h := p.Hardware
	return fmt.Sprintf("Command Line Interface is starting up, please wait ...\n\n   Welcome to the Platform Command Line Interface\n\n%s Installation:\n\t%d vCPU: %s\n\tDisk 1: %dGB, Partitions aligned\n\t%d Mbytes RAM\n\n",
		h.Platform, h.VCPUs, h.CPU, h.DiskGB, h.RAMMB)
}
