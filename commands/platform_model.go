package commands

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/publisher"
)

// The platform commands read the node profile and the node's clock only:
// each builds a model (printed as text, or as JSON for scripts) with a
// pure function of a NodeView, so golden tests pin every value.

// NodeView is the node as the platform commands see it at one instant.
type NodeView struct {
	Profile *publisher.Profile
	Role    Role
	Now     time.Time
}

func (v NodeView) local() publisher.ClusterMember { return v.Profile.Local(string(v.Role)) }
func (v NodeView) at(t time.Time) time.Time       { return t.In(v.Profile.Location()) }
func (v NodeView) publisher() bool                { return v.Role == Publisher }

// noise is a stable pseudo-random number in [0,1) for a value that varies
// over time on a real node (load, counters): the same node, instant and
// name always give the same number.
func (v NodeView) noise(name string, step time.Duration) float64 {
	return stable(v.local().Hostname, fmt.Sprintf("%s|%d", name, v.Now.Unix()/int64(step/time.Second)))
}

// boot is when this node last started; uptime how long ago that is.
func (v NodeView) boot() time.Time                   { return v.Profile.Boot(v.local().Hostname, v.Now) }
func (v NodeView) uptime(at time.Time) time.Duration { return max(0, at.Sub(v.boot())) }

// stable is a pseudo-random number in [0,1) that never changes for a node.
func stable(host, name string) float64 {
	sum := sha256.Sum256([]byte(host + "|" + name))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// ---- show status ----

// SystemStatus is `show status`.
type SystemStatus struct {
	HostName       string    `json:"host_name"`
	Date           time.Time `json:"date"`
	TimeZone       string    `json:"time_zone"`    // the long name for the season
	TimeZoneID     string    `json:"time_zone_id"` // IANA
	Locale         string    `json:"locale"`
	ProductVersion string    `json:"product_version"`
	OSVersion      string    `json:"unified_os_version"`
	Boot           time.Time `json:"boot_time"`
	UptimeSeconds  int64     `json:"uptime_seconds"`
	Users          int       `json:"users"`
	Load           []float64 `json:"load_average"`
	CPU            CPUUse    `json:"cpu_percent"`
	Memory         Memory    `json:"memory_kb"`
	Disks          []Disk    `json:"disks"`
}

// CPUUse is the CPU time split, in percent.
type CPUUse struct {
	Idle   float64 `json:"idle"`
	System float64 `json:"system"`
	User   float64 `json:"user"`
	IOWait float64 `json:"iowait"`
	IRQ    float64 `json:"irq"`
	Soft   float64 `json:"soft"`
}

// Memory is the memory block of show status, in KiB. As on CUCM, Total
// is Used + Free + Buffers (buffers and page cache together).
type Memory struct {
	Total   int64 `json:"total"`
	Free    int64 `json:"free"`
	Used    int64 `json:"used"`
	Cached  int64 `json:"cached"`
	Shared  int64 `json:"shared"`
	Buffers int64 `json:"buffers"`
}

// Disk is one partition's file system, in KiB.
type Disk struct {
	Name        string `json:"name"`
	Total       int64  `json:"total"`
	Free        int64  `json:"free"`
	Used        int64  `json:"used"`
	UsedPercent int    `json:"used_percent"` // as df: used/(used+free), rounded up
}

// StatusOf builds show status. The uptime line is read a second after
// the date, as on CUCM.
func StatusOf(v NodeView) SystemStatus {
	p := v.Profile
	now := v.Now
	boot := v.boot()
	up := v.uptime(now.Add(time.Second))
	s := SystemStatus{
		HostName:       v.local().Hostname,
		Date:           v.at(now),
		TimeZoneID:     p.Location().String(),
		Locale:         p.Locale,
		ProductVersion: p.Version,
		OSVersion:      p.OSVersion,
		Boot:           v.at(boot),
		UptimeSeconds:  int64(up / time.Second),
		Users:          1, // [ucmsh] the collector's own session, as captured

	}
	s.TimeZone = ZoneName(v.at(now))
	// [ucmsh] the load and CPU split move from minute to minute within
	// a lab node's usual range.
	l1 := 0.3 + 1.2*v.noise("load1", time.Minute)
	l5 := 0.5 + 0.7*v.noise("load5", 5*time.Minute)
	l15 := 0.6 + 0.4*v.noise("load15", 15*time.Minute)
	s.Load = []float64{round2(l1), round2(l5), round2(l15)}
	c := CPUUse{
		System: round2(2 + 6*v.noise("sys", time.Minute)),
		User:   round2(3 + 12*v.noise("user", time.Minute)),
		IOWait: round2(0.2 + 1.3*v.noise("iowait", time.Minute)),
		Soft:   round2(0.5 * v.noise("soft", time.Minute)),
	}
	c.Idle = round2(100 - c.System - c.User - c.IOWait - c.IRQ - c.Soft)
	s.CPU = c
	// [ucmsh] memory and disk shares are those of TAC 221038's 8 GB,
	// 110 GB node: the kernel keeps 4.75 % of the RAM, ext4 1.1 % of the
	// version partitions and 5.1 % of the logging partition.
	total := int64(float64(p.Hardware.RAMMB) * 1024 * 0.9525)
	m := Memory{Total: total}
	m.Used = int64(float64(total) * (0.48 + 0.04*v.noise("mem", time.Minute)))
	m.Free = int64(float64(total) * (0.015 + 0.005*v.noise("free", time.Minute)))
	m.Buffers = total - m.Used - m.Free
	m.Cached = m.Buffers * 83 / 100
	m.Shared = total * 606 / 10000
	s.Memory = m
	lay := DiskLayout(p.Hardware.DiskGB)
	use := p.Hardware.DiskUsedPercent
	s.Disks = []Disk{
		fileSystem("Disk/active", lay.Active*97782/100000, 0.011, use.Active),
		fileSystem("Disk/inactive", lay.Active*97782/100000, 0.011, use.Inactive),
		fileSystem("Disk/logging", lay.Logging*98244/100000, 0.0511, use.Logging),
	}
	return s
}

// fileSystem is an ext4 file system of total KiB with a reserved share,
// filled to pct as df counts it.
func fileSystem(name string, total int64, reserved float64, pct int) Disk {
	avail := total - int64(float64(total)*reserved)
	var used int64
	if pct > 0 {
		used = int64(float64(avail) * (float64(pct) - 0.75) / 100)
	}
	d := Disk{Name: name, Total: total, Used: used, Free: avail - used}
	if used > 0 {
		d.UsedPercent = int((used*100 + avail - 1) / avail)
	}
	return d
}

// Partitions is the VM disk as CUCM lays it out: two equal version
// partitions (active, inactive), a 256 MiB boot area, 4000 MB of swap and
// the logging partition in the rest. Sizes in KiB.
type Partitions struct {
	Sectors          int64 // of 512 bytes
	Cylinders        int64
	Active, Logging  int64
	Start, End, Size [6]int64 // sectors of sda1..sda6
}

// DiskLayout computes the partitions of a disk of gb GiB (it reproduces
// the captured layouts of 80 and 110 GB disks sector for sector).
func DiskLayout(gb int) Partitions {
	var l Partitions
	t := int64(gb) * 2097152
	l.Sectors = t
	l.Cylinders = t * 512 / (255 * 63 * 512)
	const boot, swap, gap = 524288, 8192000, 2048
	avail := t - 3*gap - boot - swap
	s := int64(math.Round(float64(avail)/5.4794/gap)) * gap
	set := func(i int, start, size int64) { l.Start[i], l.Size[i], l.End[i] = start, size, start+size-1 }
	set(0, gap, s)
	set(1, gap+s, s)
	set(2, gap+2*s, boot)
	set(3, l.End[2]+1, t-l.End[2]-1)
	set(4, l.Start[3]+gap, swap)
	set(5, l.End[4]+1+gap, t-l.End[4]-1-gap)
	l.Active, l.Logging = s/2, l.Size[5]/2
	return l
}

// ---- show version ----

// Version is show version active or inactive.
type Version struct {
	Side     string   `json:"side"` // Active or Inactive
	Version  string   `json:"version"`
	COPFiles []string `json:"installed_software_options"`
}

// NoInactiveVersion is what the inactive side holds on a node installed
// fresh. [ucmsh] not captured; the all-zero version is what VOS shows for
// an empty partition.
const NoInactiveVersion = "0.0.0.0000-0000"

// VersionOf builds show version active (or inactive).
func VersionOf(v NodeView, active bool) Version {
	p := v.Profile
	if active {
		return Version{Side: "Active", Version: p.Version, COPFiles: nonNil(p.COPFiles)}
	}
	if p.Inactive == nil {
		return Version{Side: "Inactive", Version: NoInactiveVersion, COPFiles: []string{}}
	}
	return Version{Side: "Inactive", Version: p.Inactive.Version, COPFiles: nonNil(p.Inactive.COPFiles)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ---- show hardware ----

// HardwareInfo is show hardware.
type HardwareInfo struct {
	Platform   string     `json:"hw_platform"`
	Processors int        `json:"processors"`
	Type       string     `json:"type"`
	CPUSpeed   int        `json:"cpu_speed_mhz"`
	MemoryMB   int        `json:"memory_mb"`
	ObjectID   string     `json:"object_id"`
	OSVersion  string     `json:"os_version"`
	Serial     string     `json:"serial_number"`
	BIOS       string     `json:"bios"`
	DiskGB     int        `json:"disk_gb"`
	Layout     Partitions `json:"-"`
}

// HardwareOf builds show hardware. [ucmsh] 14 and 15 print 12.5's layout
// (no capture of theirs has its line breaks).
func HardwareOf(v NodeView) HardwareInfo {
	h := v.Profile.Hardware
	platform := h.Platform
	if platform == "VMware" {
		platform = "VMware Virtual Machine"
	}
	return HardwareInfo{
		Platform: platform, Processors: h.VCPUs, Type: h.CPU, CPUSpeed: h.CPUMHz, MemoryMB: h.RAMMB,
		ObjectID: "1.3.6.1.4.1.9.1.1348", OSVersion: "UCOS " + v.Profile.OSVersion + ".i386",
		Serial: h.Serial, BIOS: h.BIOS, DiskGB: h.DiskGB, Layout: DiskLayout(h.DiskGB),
	}
}

// ---- show network eth0 ----

// Eth0 is show network eth0 [detail].
type Eth0 struct {
	DHCP         bool     `json:"dhcp"`
	Status       string   `json:"status"`
	Address      string   `json:"ip_address"`
	Mask         string   `json:"ip_mask"`
	LinkDetected bool     `json:"link_detected"`
	SpeedMbps    int      `json:"speed_mbps"`
	Duplex       string   `json:"duplex"`
	DuplicateIP  bool     `json:"duplicate_ip"`
	DNS          []string `json:"dns"`
	DNSOptions   string   `json:"dns_options"`
	Domain       string   `json:"domain"`
	Gateway      string   `json:"gateway"`
	// Detail only.
	QueueLength int       `json:"queue_length,omitempty"`
	MTU         int       `json:"mtu,omitempty"`
	MAC         string    `json:"mac_address,omitempty"`
	RX          *Counters `json:"rx,omitempty"`
	TX          *Counters `json:"tx,omitempty"`
}

// Counters are one direction's interface statistics since boot.
type Counters struct {
	Bytes   int64 `json:"bytes"`
	Packets int64 `json:"packets"`
	Errors  int64 `json:"errors"`
	Dropped int64 `json:"dropped"`
	Overrun int64 `json:"overrun"`
	Other   int64 `json:"frame_or_carrier"`
}

// Eth0Of builds show network eth0, with the detail counters if asked.
func Eth0Of(v NodeView, detail bool) Eth0 {
	p := v.Profile
	n := p.Network
	e := Eth0{
		DHCP: n.DHCP, Status: "up", Address: v.local().Address, Mask: n.Mask, LinkDetected: true,
		SpeedMbps: n.SpeedMbps, Duplex: "Full", DNS: n.DNS, DNSOptions: "timeout:5 attempts:2",
		Domain: p.Domain, Gateway: n.Gateway,
	}
	if !detail {
		return e
	}
	secs := int64(v.uptime(v.Now) / time.Second)
	host := v.local().Hostname
	// [ucmsh] traffic of a lab node: tens of KB/s, ~700-byte packets.
	rxRate := 20000 + int64(40000*stable(host, "rx"))
	txRate := 15000 + int64(30000*stable(host, "tx"))
	e.QueueLength, e.MTU, e.MAC = 1000, n.MTU, vmwareMAC(host)
	e.RX = &Counters{Bytes: secs * rxRate, Packets: secs * rxRate / 700, Dropped: secs / 86400}
	e.TX = &Counters{Bytes: secs * txRate, Packets: secs * txRate / 650}
	return e
}

// vmwareMAC is a stable address in VMware's OUI.
func vmwareMAC(host string) string {
	sum := sha256.Sum256([]byte("mac:" + host))
	return fmt.Sprintf("00:50:56:%02x:%02x:%02x", sum[0]&0x3f, sum[1], sum[2])
}

// ---- utils ntp status ----

// NTPStatus is utils ntp status.
type NTPStatus struct {
	PID          int       `json:"pid"`
	Peers        []NTPPeer `json:"peers"`
	Synchronised bool      `json:"synchronised"`
	Server       string    `json:"server"`
	Stratum      int       `json:"stratum"`
	WithinMS     int       `json:"time_correct_within_ms"`
	PollSeconds  int       `json:"polling_seconds"`
	UTC          time.Time `json:"utc"`
	Local        time.Time `json:"local"`
	ZoneID       string    `json:"time_zone_id"`
}

// NTPPeer is one row of ntpq -p.
type NTPPeer struct {
	Tally   string  `json:"tally"` // "*" sync peer, "+" candidate
	Remote  string  `json:"remote"`
	RefID   string  `json:"refid"`
	Stratum int     `json:"stratum"`
	Type    string  `json:"type"`
	When    int     `json:"when"`
	Poll    int     `json:"poll"`
	Reach   int     `json:"reach"` // a bit mask, printed in octal
	Delay   float64 `json:"delay_ms"`
	Offset  float64 `json:"offset_ms"`
	Jitter  float64 `json:"jitter_ms"`
}

// NTPOf builds utils ntp status ([ucmsh]: ntpd's output on 15 too, whose
// chrony output is not captured): a publisher follows its external servers
// (stratum 2, so it is at 3); a subscriber follows the publisher, one
// stratum further down.
func NTPOf(v NodeView) NTPStatus {
	p := v.Profile
	host := v.local().Hostname
	up := v.uptime(v.Now)
	poll := 1024
	if up < 2*time.Hour {
		poll = 64
	}
	when := int(up/time.Second) % poll
	s := NTPStatus{PID: 1000 + int(28000*stable(host, "ntpd")), PollSeconds: poll, UTC: v.Now.UTC(),
		Local: v.at(v.Now), ZoneID: p.Location().String(), Synchronised: true}
	peer := func(tally, remote, refid string, st int, i int) NTPPeer {
		return NTPPeer{Tally: tally, Remote: remote, RefID: refid, Stratum: st, Type: "u",
			When: (when + 37*i) % poll, Poll: poll, Reach: 0o377,
			Delay:  round3(0.2 + 4*stable(host, "delay"+remote)),
			Offset: round3(0.8*stable(host, "offset"+remote) - 0.5 + 0.2*v.noise("offset"+remote, time.Minute)),
			Jitter: round3(0.05 + 0.3*v.noise("jitter"+remote, time.Minute))}
	}
	if v.publisher() {
		for i, srv := range p.NTPServers {
			tally := "+"
			if i == 0 {
				tally = "*"
			}
			s.Peers = append(s.Peers, peer(tally, srv, upstreamRef(srv), 2, i))
		}
		s.Server, s.Stratum = p.NTPServers[0], 3
	} else {
		pub := p.Publisher().Address
		s.Peers = []NTPPeer{peer("*", pub, p.NTPServers[0], 3, 0)}
		s.Server, s.Stratum = pub, 4
	}
	s.WithinMS = 30 + int(20*stable(host, "within"))
	return s
}

// upstreamRef is the reference a stratum-2 server follows ([ucmsh]: an
// address from the documentation range, stable per server).
func upstreamRef(server string) string {
	return fmt.Sprintf("198.51.100.%d", 1+int(250*stable(server, "refid")))
}

// ---- utils dbreplication runtimestate ----

// DBReplication is utils dbreplication runtimestate.
type DBReplication struct {
	ServerTime    time.Time  `json:"server_time"`
	StatusStarted time.Time  `json:"status_started"`
	Tables        int        `json:"tables"`
	LastTable     string     `json:"last_completed_table"`
	DBVersion     string     `json:"db_version"`
	ReplTimeout   int        `json:"repltimeout_seconds"`
	ProcessOption int        `json:"process_option"`
	From          string     `json:"from"`
	Servers       []DBServer `json:"servers"`
	SingleNode    bool       `json:"single_node,omitempty"`
}

// DBServer is one row of the cluster detailed view.
type DBServer struct {
	Name    string  `json:"server_name"`
	Address string  `json:"ip_address"`
	PingMS  float64 `json:"ping_ms"`
	DBMon   string  `json:"db_rpc_dbmon"`
	Queue   int     `json:"repl_queue"`
	Group   string  `json:"group_id"`
	State   int     `json:"replication_state"`
	Setup   string  `json:"setup"`
}

// DBReplicationOf builds the replication state as after the replication
// status check a collector runs first ([ucmsh]: started 15 s before; the
// table count per release is our choice, 15.0.1's is captured).
func DBReplicationOf(v NodeView) DBReplication {
	p := v.Profile
	r := p.Release()
	tables := 745
	switch {
	case r.Major >= 15:
		tables = 754
	case r.Major < 14:
		tables = 727
	}
	d := DBReplication{
		ServerTime: v.at(v.Now), StatusStarted: v.at(v.Now.Add(-15 * time.Second)), Tables: tables,
		LastTable: "functionrole", DBVersion: "ccm" + strings.NewReplacer(".", "_", "-", "_").Replace(p.Version),
		ReplTimeout: 300, ProcessOption: 1, From: v.local().Hostname, SingleNode: len(p.Cluster) < 2,
	}
	local := v.local().Hostname
	sub := 3
	for _, m := range p.Cluster {
		group := "g_2"
		if m.Role != "publisher" {
			group = fmt.Sprintf("g_%d", sub)
			sub++
		}
		ping := 0.1 + 1.7*v.noise("ping"+m.Hostname, time.Minute)
		if m.Hostname == local {
			ping = 0.01 + 0.04*v.noise("ping"+m.Hostname, time.Minute)
		}
		d.Servers = append(d.Servers, DBServer{Name: m.Hostname, Address: m.Address, PingMS: round3(ping),
			DBMon: "Y/Y/Y", Group: group, State: 2, Setup: "Setup Completed"})
	}
	return d
}

// ---- show timezone config ----

// TimeZoneConfig is show timezone config.
type TimeZoneConfig struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Version string `json:"tzdata_version"`
}

// TimeZoneOf builds show timezone config. [ucmsh] the tzdata release per
// CUCM release is our choice.
func TimeZoneOf(v NodeView) TimeZoneConfig {
	r := v.Profile.Release()
	tz := "2023c"
	switch {
	case r.Major >= 15:
		tz = "2024a"
	case r.Major < 14:
		tz = "2021a"
	}
	return TimeZoneConfig{Name: ZoneName(v.at(v.Now)), ID: v.Profile.Location().String(), Version: tz}
}

// ---- utils service list ----

// ServiceList is utils service list.
type ServiceList struct {
	Platform []ServiceState `json:"platform"`
	Services []ServiceState `json:"services"`
	Primary  bool           `json:"primary_node"`
}

// ServiceState is one service and its state.
type ServiceState struct {
	Name   string `json:"name"`
	State  string `json:"state"` // STARTED or STOPPED
	Detail string `json:"detail,omitempty"`
}

// Service states and details as CUCM prints them.
const (
	svcStarted      = "STARTED"
	svcStopped      = "STOPPED"
	svcNotActivated = "Service Not Activated"
	svcNotRunning   = "Component is not running"
	smartLicenseSvc = "Cisco Smart License Manager"
)

// ServicesOf builds utils service list: the platform services (those of
// the 12.5 and HCM-F captures), then the Service Manager's, started ones
// first, then those activated but down, then the deactivated ([ucmsh]:
// each group sorted byte-wise, as a C locale sorts).
func ServicesOf(v NodeView) ServiceList {
	set := v.Profile.ServicesFor(string(v.Role))
	l := ServiceList{Primary: v.publisher(), Platform: []ServiceState{
		{Name: "System SSH", State: svcStarted},
		{Name: "Cluster Manager", State: svcStarted},
		{Name: "Password Reset", State: svcStopped, Detail: "Service Activated"},
		{Name: "Name Service Cache", State: svcStarted},
		{Name: "Entropy Monitoring Daemon", State: svcStarted},
		{Name: "Cisco SCSI Watchdog", State: svcStarted},
		{Name: "Service Manager", State: svcStarted},
	}}
	group := func(names []string, state, detail string, smart bool) {
		var list []string
		for _, n := range names {
			if n != smartLicenseSvc {
				list = append(list, n)
			}
		}
		if smart {
			list = append(list, smartLicenseSvc)
		}
		sort.Strings(list)
		for _, n := range list {
			l.Services = append(l.Services, ServiceState{Name: n, State: state, Detail: detail})
		}
	}
	// The Smart License Manager runs on the publisher only and cannot be
	// stopped, whatever a profile lists.
	group(set.Started, svcStarted, "", v.publisher())
	group(set.Stopped, svcStopped, svcNotRunning, false)
	group(set.NotActivated, svcStopped, svcNotActivated, false)
	return l
}

// ---- show network cluster ----

// Cluster is show network cluster.
type Cluster struct {
	Members []ClusterRow `json:"members"`
	// ProcessNodes is the Server Table, printed by a publisher only.
	ProcessNodes []string `json:"processnode_entries,omitempty"`
}

// ClusterRow is one node as show network cluster lists it.
type ClusterRow struct {
	Address  string     `json:"address"`
	FQDN     string     `json:"fqdn"`
	Hostname string     `json:"hostname"`
	Role     string     `json:"role"` // Publisher or Subscriber
	Product  string     `json:"product"`
	DB       string     `json:"db"` // DBPub or DBSub
	Local    bool       `json:"local"`
	Since    *time.Time `json:"connected_since,omitempty"`
}

// ClusterOf builds show network cluster in the profile's order: the local
// row has no connection time; the others came up shortly after this node
// booted unless the profile says when ([ucmsh]).
func ClusterOf(v NodeView) Cluster {
	p := v.Profile
	local := v.local().Hostname
	boot := v.boot()
	var c Cluster
	for i, m := range p.Cluster {
		row := ClusterRow{Address: m.Address, FQDN: p.FQDN(m.Hostname), Hostname: m.Hostname,
			Role: "Subscriber", Product: "callmanager", DB: "DBSub", Local: m.Hostname == local}
		if row.Address == "" {
			row.Address = m.Hostname
		}
		if m.Role == "publisher" {
			row.Role, row.DB = "Publisher", "DBPub"
		}
		if !row.Local {
			since := boot.Add(time.Duration(95+13*i) * time.Second)
			if m.ConnectedSince != nil {
				since = *m.ConnectedSince
			}
			since = v.at(since)
			row.Since = &since
		}
		c.Members = append(c.Members, row)
		if v.publisher() {
			// [ucmsh] servers defined by FQDN in System > Server.
			c.ProcessNodes = append(c.ProcessNodes, row.FQDN)
		}
	}
	return c
}
