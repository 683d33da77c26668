package commands

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Text renderers of the platform commands, in the layouts of PLATFORM.md
// (§ numbers below). Each is a pure function of its model.

// dateLayout is date(1)'s, day space-padded (PLATFORM §6, §7).
const dateLayout = "Mon Jan _2 15:04:05 MST 2006"

type text struct{ strings.Builder }

func (b *text) line(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }

// RenderSystemStatus is show status (PLATFORM §1, the 12.5 capture).
func RenderSystemStatus(s SystemStatus) string {
	var b text
	b.line("")
	for _, kv := range [][2]string{
		{"Host Name", s.HostName},
		{"Date", s.Date.Format("Mon Jan 2, 2006 15:04:05")},
		{"Time Zone", s.TimeZone + " (" + s.TimeZoneID + ")"},
		{"Locale", s.Locale},
		{"Product Ver", s.ProductVersion},
		{"Unified OS Version", s.OSVersion},
	} {
		b.line("%-19s: %s", kv[0], kv[1])
	}
	b.line("")
	b.line("Uptime:")
	b.line("%s", uptimeLine(s.Date.Add(time.Second), time.Duration(s.UptimeSeconds)*time.Second, s.Users, s.Load))
	b.line("")
	c := s.CPU
	b.line("%s%s%s", cpuField("CPU Idle", c.Idle), cpuField("System", c.System), cpuField("User", c.User))
	b.line("%s%s%s", cpuField("IOWAIT", c.IOWait), cpuField("IRQ", c.IRQ), cpuField("Soft", c.Soft))
	b.line("")
	m := s.Memory
	for _, kv := range []struct {
		k string
		v int64
	}{{"Memory Total", m.Total}, {"Free", m.Free}, {"Used", m.Used}, {"Cached", m.Cached}, {"Shared", m.Shared}, {"Buffers", m.Buffers}} {
		b.line("%12s:%15dK", kv.k, kv.v)
	}
	b.line("")
	b.line("%29s%16s%16s", "Total", "Free", "Used")
	for _, d := range s.Disks {
		b.line("%-13s%16s%16s%16s (%d%%)", d.Name, kilo(d.Total), kilo(d.Free), kilo(d.Used), d.UsedPercent)
	}
	b.line("")
	return b.String()
}

func kilo(n int64) string { return strconv.FormatInt(n, 10) + "K" }

// cpuField is one "Label:   NN.NN%" of the CPU block: labels right-aligned
// in 8 columns, values zero-padded to 5.
func cpuField(label string, pct float64) string { return fmt.Sprintf("%8s:   %05.2f%%", label, pct) }

// uptimeLine is uptime(1)'s line (procps), with its leading space.
func uptimeLine(at time.Time, up time.Duration, users int, load []float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, " %s up ", at.Format("15:04:05"))
	mins := int(up / time.Minute)
	days, hours, mins := mins/1440, mins/60%24, mins%60
	if days > 0 {
		plural := "s"
		if days == 1 {
			plural = ""
		}
		fmt.Fprintf(&b, "%d day%s, ", days, plural)
	}
	if hours > 0 {
		fmt.Fprintf(&b, "%2d:%02d, ", hours, mins)
	} else {
		fmt.Fprintf(&b, "%d min, ", mins)
	}
	plural := "s"
	if users == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, "%2d user%s,  load average: %.2f, %.2f, %.2f", users, plural, load[0], load[1], load[2])
	return b.String()
}

// RenderVersion is show version active|inactive (PLATFORM §2).
func RenderVersion(v Version) string {
	var b text
	b.line("%s Master Version: %s", v.Side, v.Version)
	b.line("%s Version Installed Software Options:", v.Side)
	if len(v.COPFiles) == 0 {
		b.line("No Installed Software Options Found.")
	}
	for _, f := range v.COPFiles {
		b.line("%s", f)
	}
	return b.String()
}

// hwRule is the 71-dash rule of show hardware.
var hwRule = strings.Repeat("-", 71)

// RenderHardware is show hardware (PLATFORM §3: the UCOS 6.0 capture's
// layout, with 12.5's "Units:" line).
func RenderHardware(h HardwareInfo) string {
	var b text
	kv := func(k, v string) { b.line("%-18s: %s", k, v) }
	kv("HW Platform", h.Platform)
	kv("Processors", strconv.Itoa(h.Processors))
	kv("Type", h.Type)
	kv("CPU Speed", strconv.Itoa(h.CPUSpeed))
	kv("Memory", fmt.Sprintf("%d MBytes", h.MemoryMB))
	kv("Object ID", h.ObjectID)
	kv("OS Version", h.OSVersion)
	kv("Serial Number", h.Serial)
	b.line("")
	b.line("%-18s:", "RAID Version")
	b.line("No RAID controller information is available")
	b.line("")
	b.line("%-18s:", "BIOS Information")
	b.line("%s", h.BIOS)
	b.line("")
	b.line("%-18s:", "RAID Details")
	b.line("No RAID information is available")
	b.line("%s", hwRule)
	b.line("Physical device information")
	b.line("%s", hwRule)
	kv("Number of Disks", "1")
	b.line("Hard Disk #1")
	kv("Size (in GB)", strconv.Itoa(h.DiskGB))
	b.line("")
	b.line("Partition Details :")
	b.line("")
	l := h.Layout
	b.line("Disk /dev/sda: %d cylinders, 255 heads, 63 sectors/track", l.Cylinders)
	b.line("Units: sectors of 512 bytes, counting from 0")
	b.line("")
	b.line("   Device Boot    Start       End   #sectors  Id  System")
	for i, sys := range []struct{ id, name string }{
		{"83", "Linux"}, {"83", "Linux"}, {"83", "Linux"}, {"5", "Extended"}, {"82", "Linux swap / Solaris"}, {"83", "Linux"},
	} {
		boot := ""
		if i == 0 {
			boot = "*"
		}
		b.line("%-10s%3s%10d%10d%11d%4s  %s", fmt.Sprintf("/dev/sda%d", i+1), boot, l.Start[i], l.End[i], l.Size[i], sys.id, sys.name)
	}
	return b.String()
}

// pair is one line of two "label : value" pairs of show network (the
// 2021 IM&P capture: the right pair at column 34).
func pair(l1, v1, l2, v2 string) string { return fmt.Sprintf("%-13s: %-19s%-11s: %s", l1, v1, l2, v2) }

// zeroPadMask writes a mask as CUCM does: 255.255.255.000 in every
// capture; [ucmsh] each octet padded to three digits.
func zeroPadMask(mask string) string {
	parts := strings.Split(mask, ".")
	for i, p := range parts {
		if n, err := strconv.Atoi(p); err == nil {
			parts[i] = fmt.Sprintf("%03d", n)
		}
	}
	return strings.Join(parts, ".")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// RenderEth0 is show network eth0 [detail] (PLATFORM §4). [ucmsh] what
// detail adds (queue, MTU, MAC and the RX/TX counters) is not captured;
// it follows the same two-pair layout.
func RenderEth0(e Eth0) string {
	var b text
	dhcp := "disabled"
	if e.DHCP {
		dhcp = "enabled"
	}
	b.line("Ethernet 0")
	b.line("%s", pair("DHCP", dhcp, "Status", e.Status))
	b.line("%s", pair("IP Address", e.Address, "IP Mask", zeroPadMask(e.Mask)))
	b.line("%s", pair("Link Detected", yesNo(e.LinkDetected), "Mode", fmt.Sprintf("Auto disabled, %s, %d Mbits/s", e.Duplex, e.SpeedMbps)))
	b.line("%-13s: %s", "Duplicate IP", yesNo(e.DuplicateIP))
	if e.RX != nil {
		b.line("%s", pair("Queue Length", strconv.Itoa(e.QueueLength), "MTU", strconv.Itoa(e.MTU)))
		b.line("%-13s: %s", "MAC Address", e.MAC)
		counters := func(title string, c *Counters, last string) {
			b.line("%s", title)
			b.line("%s", pair("Bytes", strconv.FormatInt(c.Bytes, 10), "Packets", strconv.FormatInt(c.Packets, 10)))
			b.line("%s", pair("Errors", strconv.FormatInt(c.Errors, 10), "Dropped", strconv.FormatInt(c.Dropped, 10)))
			b.line("%s", pair("Overrun", strconv.FormatInt(c.Overrun, 10), last, strconv.FormatInt(c.Other, 10)))
		}
		counters("RX stats:", e.RX, "Frame")
		counters("TX stats:", e.TX, "Carrier")
		b.line("%-13s: 0", "Collisions")
	}
	b.line("")
	b.line("DNS")
	secondary := "Not Configured"
	if len(e.DNS) > 1 {
		secondary = e.DNS[1]
	}
	primary := "Not Configured"
	if len(e.DNS) > 0 {
		primary = e.DNS[0]
	}
	b.line("%s", pair("Primary", primary, "Secondary", secondary))
	b.line("%-13s: %s", "Options", e.DNSOptions)
	b.line("%-13s: %s", "Domain", e.Domain)
	b.line("%-13s: %s on Ethernet 0", "Gateway", e.Gateway)
	return b.String()
}

// RenderNTP is utils ntp status (PLATFORM §6, the 12.5 capture; ntpq -p's
// row format).
func RenderNTP(n NTPStatus, publisher bool) string {
	var b text
	b.line("")
	b.line("ntpd (pid %d) is running...", n.PID)
	b.line("")
	b.line("     remote           refid      st t when poll reach   delay   offset  jitter")
	b.line("%s", strings.Repeat("=", 78))
	for _, p := range n.Peers {
		b.line("%1s%-15.15s %-15.15s %2d %1s %4d %4d  %3o  %7.3f %8.3f %7.3f",
			p.Tally, p.Remote, p.RefID, p.Stratum, p.Type, p.When, p.Poll, p.Reach, p.Delay, p.Offset, p.Jitter)
	}
	b.line("")
	b.line("")
	if n.Synchronised {
		// The captures spell it so on a publisher, the American way on a
		// subscriber (TAC 215013).
		word := "synchronised"
		if !publisher {
			word = "synchronized"
		}
		b.line("%s to NTP server (%s) at stratum %d", word, n.Server, n.Stratum)
		b.line("   time correct to within %d ms", n.WithinMS)
	} else {
		b.line("unsynchronised")
	}
	b.line("   polling server every %d s", n.PollSeconds)
	b.line("")
	b.line("Current time in UTC is : %s", n.UTC.Format(dateLayout))
	b.line("Current time in %s is : %s", n.ZoneID, n.Local.Format(dateLayout))
	return b.String()
}

// The single-node answer of utils dbreplication runtimestate (PLATFORM §7;
// [ucmsh] printed after a blank line, without the failure line).
const msgSingleNodeReplication = "Runtime state cannot be performed on a cluster with a single active node; aborting operation"

// RenderDBReplication is utils dbreplication runtimestate (PLATFORM §7,
// the 15.0.1 status form; columns of the 14 guide).
func RenderDBReplication(d DBReplication) string {
	var b text
	if d.SingleNode {
		b.line("")
		b.line("%s", msgSingleNodeReplication)
		return b.String()
	}
	b.line("")
	b.line("Server Time: %s", d.ServerTime.Format(dateLayout))
	b.line("")
	b.line("Cluster Replication State: Replication status command started at: %s", d.StatusStarted.Format("2006-01-02-15-04"))
	b.line("     Replication status command COMPLETED. Checked %d tables out of %d", d.Tables, d.Tables)
	b.line("     Last Completed Table: %s", d.LastTable)
	b.line("     No Errors or Mismatches found.")
	b.line("")
	b.line("     Use 'file view activelog cm/trace/dbl/sdi/ReplicationStatus.%s.out' to see the details", d.StatusStarted.Format("2006_01_02_15_04_05"))
	b.line("")
	b.line("")
	b.line("DB Version: %s", d.DBVersion)
	b.line("")
	b.line("Repltimeout set to: %ds", d.ReplTimeout)
	b.line("PROCESS option set to: %d", d.ProcessOption)
	b.line("")
	b.line("")
	b.line("Cluster Detailed View from %s (%d Servers):", d.From, len(d.Servers))
	b.line("")
	b.line("                                           PING      DB/RPC/   REPL.    Replication    REPLICATION SETUP")
	b.line("SERVER-NAME              IP ADDRESS        (msec)    DbMon?    QUEUE    Group ID       (RTMT) & Details")
	b.line("-----------              ----------        ------    -------   -----    -----------    ------------------")
	for _, s := range d.Servers {
		b.line("%-25s%-18s%-10s%-10s%-9d%-15s(%d) %s", s.Name, s.Address, fmt.Sprintf("%.3f", s.PingMS), s.DBMon, s.Queue, "("+s.Group+")", s.State, s.Setup)
	}
	return b.String()
}

// RenderTimeZone is show timezone config (PLATFORM §8, TAC 118744; [ucmsh]
// its "Current timezone:" label of the two seen).
func RenderTimeZone(z TimeZoneConfig) string {
	return fmt.Sprintf("Current timezone: %s (%s)\nTimezone version: %s\n", z.Name, z.ID, z.Version)
}

// MsgServiceListWait is the first line of utils service list, printed
// before the seconds Service Manager takes to answer (PLATFORM §5).
const MsgServiceListWait = "Requesting service status, please wait..."

// RenderServiceList is the rest of utils service list (PLATFORM §5): the
// platform services as "Name [STATE]", then Service Manager's as
// "Name[STATE]". [ucmsh] a subscriber ends "Primary Node =false"; CUCM
// prints no "Command successful" (only VVB's capture has it).
func RenderServiceList(l ServiceList) string {
	var b text
	for _, s := range l.Platform {
		if s.Detail != "" {
			b.line("%s [%s] %s", s.Name, s.State, s.Detail)
		} else {
			b.line("%s [%s]", s.Name, s.State)
		}
	}
	b.line("Service Manager is running")
	b.line("Getting list of all services")
	b.line(">> Return code = 0")
	for _, s := range l.Services {
		switch s.Detail {
		case "":
			b.line("%s[%s]", s.Name, s.State)
		case svcNotRunning:
			b.line("%s[ %s ]  %s", s.Name, s.State, s.Detail)
		default:
			b.line("%s[%s]  %s", s.Name, s.State, s.Detail)
		}
	}
	b.line("Primary Node =%t", l.Primary)
	return b.String()
}

// RenderCluster is show network cluster (PLATFORM §12): the headerless
// rows, "using TCP since" on every row but the local node's, and the
// Server Table on a publisher only. No "Successful" (CER prints it, CUCM
// does not).
func RenderCluster(c Cluster) string {
	var b text
	for _, m := range c.Members {
		row := fmt.Sprintf("%s %s %s %s %s %s authenticated", m.Address, m.FQDN, m.Hostname, m.Role, m.Product, m.DB)
		if m.Since != nil {
			row += " using TCP since " + m.Since.Format("Mon Jan 2 15:04:05 2006")
		}
		b.line("%s", row)
	}
	if len(c.ProcessNodes) > 0 {
		b.line("")
		b.line("Server Table (processnode) Entries")
		b.line("%s", strings.Repeat("-", 34))
		for _, n := range c.ProcessNodes {
			b.line("%s", n)
		}
	}
	return b.String()
}
