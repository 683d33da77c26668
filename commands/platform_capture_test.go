package commands

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The platform renderers reproduce PLATFORM.md's captures byte for byte
// when given the captured values.

func capture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/platform/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func sameText(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the capture at line %d:\n  want: %q\n  got:  %q", what, i+1, w, g)
			}
		}
		t.Fatalf("%s differs from the capture in its line ends", what)
	}
}

func zone(t *testing.T, id string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(id)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// CUCM 12.5.1.12900-115 (PLATFORM §1).
func TestShowStatusMatchesCapture(t *testing.T) {
	il := zone(t, "Asia/Jerusalem")
	date := time.Date(2026, 3, 2, 0, 36, 32, 0, il)
	s := SystemStatus{
		HostName: "cucm-pub-neta", Date: date, TimeZone: ZoneName(date), TimeZoneID: "Asia/Jerusalem", Locale: "en_US.UTF-8",
		ProductVersion: "12.5.1.12900-115", OSVersion: "7.0.0.0-4",
		UptimeSeconds: int64((79*24*time.Hour + 12*time.Hour + 45*time.Minute + 30*time.Second) / time.Second),
		Users:         1, Load: []float64{1.76, 1.09, 0.94},
		CPU:    CPUUse{Idle: 33.17, System: 23.12, User: 42.21, IOWait: 1.01, IRQ: 0, Soft: 0.5},
		Memory: Memory{Total: 5945116, Free: 148872, Used: 4111244, Cached: 998788, Shared: 470380, Buffers: 1685000},
		Disks: []Disk{
			{Name: "Disk/active", Total: 17921776, Free: 3991112, Used: 13730872, UsedPercent: 78},
			{Name: "Disk/inactive", Total: 17921776, Free: 16943272, Used: 45080, UsedPercent: 1},
			{Name: "Disk/logging", Total: 62681844, Free: 28513908, Used: 30960820, UsedPercent: 53},
		},
	}
	sameText(t, "show status", RenderSystemStatus(s), capture(t, "show_status_12.5.txt"))
}

// The uptime line as procps writes it, including the forms under a day
// and under an hour that no capture shows.
func TestUptimeLine(t *testing.T) {
	at := time.Date(2023, 9, 29, 17, 20, 42, 0, time.UTC)
	load := []float64{2.22, 0.98, 0.82}
	for _, tc := range []struct {
		up   time.Duration
		want string
	}{
		{141*24*time.Hour + 72*time.Minute, " 17:20:42 up 141 days,  1:12,  1 user,  load average: 2.22, 0.98, 0.82"},
		{24*time.Hour + 5*time.Minute, " 17:20:42 up 1 day, 5 min,  1 user,  load average: 2.22, 0.98, 0.82"},
		{10*time.Hour + 47*time.Minute, " 17:20:42 up 10:47,  1 user,  load average: 2.22, 0.98, 0.82"},
		{7 * time.Minute, " 17:20:42 up 7 min,  1 user,  load average: 2.22, 0.98, 0.82"},
	} {
		if got := uptimeLine(at, tc.up, 1, load); got != tc.want {
			t.Errorf("uptime %v:\n  got  %q\n  want %q", tc.up, got, tc.want)
		}
	}
}

// VOS 15.0.1 (PLATFORM §2).
func TestShowVersionMatchesCapture(t *testing.T) {
	got := RenderVersion(Version{Side: "Active", Version: "15.0.1.10100-41"})
	sameText(t, "show version active", got, capture(t, "show_version_15.txt"))
	got = RenderVersion(Version{Side: "Active", Version: "11.5.1.12900-21", COPFiles: []string{"cmterm-devicepack9.1.2.13070-1.cop", "cmterm-devicepack9.1.2.15130-1.cop"}})
	sameText(t, "show version active with COP files", got, "Active Master Version: 11.5.1.12900-21\nActive Version Installed Software Options:\ncmterm-devicepack9.1.2.13070-1.cop\ncmterm-devicepack9.1.2.15130-1.cop\n")
}

// UCOS 6.0 on an 80 GB disk (PLATFORM §3); 12.5 writes "Units:" where
// 6.0 wrote "Units =", and our partition layout reproduces its sectors.
func TestShowHardwareMatchesCapture(t *testing.T) {
	h := HardwareInfo{
		Platform: "VMware Virtual Machine", Processors: 2, Type: "Intel(R) Xeon(R) CPU           E5640  @ 2.67GHz",
		CPUSpeed: 2670, MemoryMB: 6144, ObjectID: "1.3.6.1.4.1.9.1.1348", OSVersion: "UCOS 6.0.0.0-2.i386",
		Serial: "VMware-00 00 00 00 00 00 00 00-00 00 00 00 00 00 00 01", BIOS: "PhoenixTechnologiesLTD 6.00 09/21/2015",
		DiskGB: 80, Layout: DiskLayout(80),
	}
	want := strings.Replace(capture(t, "show_hardware_ucos6.txt"), "Units = sectors", "Units: sectors", 1)
	sameText(t, "show hardware", RenderHardware(h), want)
	// The 110 GB disk of TAC 221038 (CUCM 12.5).
	l := DiskLayout(110)
	if l.Cylinders != 14359 || l.Start[0] != 2048 || l.End[0] != 40511487 || l.Size[5] != 140945408 || l.Start[5] != 89741312 {
		t.Fatalf("110 GB layout %+v differs from TAC 221038", l)
	}
}

// IM&P 2021 (PLATFORM §4; the capture was cut after "Primary").
func TestShowNetworkEth0MatchesCapture(t *testing.T) {
	e := Eth0{Status: "up", Address: "10.0.10.10", Mask: "255.255.255.0", LinkDetected: true, SpeedMbps: 10000,
		Duplex: "Full", DNS: []string{"10.0.10.31", "10.0.10.32"}, DNSOptions: "timeout:5 attempts:2", Domain: "example.com", Gateway: "10.0.10.1"}
	got := RenderEth0(e)
	want := capture(t, "show_network_eth0_2021.txt")
	if !strings.HasPrefix(got, want) {
		sameText(t, "show network eth0", got[:min(len(got), len(want))], want)
	}
	if rest := got[len(want):]; rest != "Options      : timeout:5 attempts:2\nDomain       : example.com\nGateway      : 10.0.10.1 on Ethernet 0\n" {
		t.Fatalf("after the capture: %q", rest)
	}
	e.DNS = e.DNS[:1]
	if got := RenderEth0(e); !strings.Contains(got, "Secondary  : Not Configured\n") {
		t.Fatalf("no secondary DNS:\n%s", got)
	}
}

// CUCM 12.5 (PLATFORM §6), ntpq -p's columns.
func TestNTPStatusMatchesCapture(t *testing.T) {
	il := zone(t, "Asia/Jerusalem")
	utc := time.Date(2025, 12, 31, 19, 54, 53, 0, time.UTC)
	n := NTPStatus{PID: 1250, Synchronised: true, Server: "100.100.99.101", Stratum: 3, WithinMS: 36, PollSeconds: 256,
		UTC: utc, Local: utc.In(il), ZoneID: "Asia/Jerusalem",
		Peers: []NTPPeer{{Tally: "*", Remote: "100.100.99.101", RefID: "172.28.11.101", Stratum: 2, Type: "u",
			When: 247, Poll: 256, Reach: 0o377, Delay: 4.288, Offset: -0.242, Jitter: 0.115}}}
	sameText(t, "utils ntp status", RenderNTP(n, true), capture(t, "utils_ntp_status_12.5.txt"))
}

// CUCM 15.0.1 (PLATFORM §7).
func TestDBReplicationMatchesCapture(t *testing.T) {
	est := time.FixedZone("-05", -5*3600)
	d := DBReplication{
		ServerTime: time.Date(2026, 1, 2, 16, 18, 22, 0, est), StatusStarted: time.Date(2026, 1, 2, 16, 18, 7, 0, est),
		Tables: 754, LastTable: "functionrole", DBVersion: "ccm15_0_1_12900_234", ReplTimeout: 300, ProcessOption: 1, From: "cucm-01",
		Servers: []DBServer{
			{Name: "cucm-01", Address: "172.168.0.101", PingMS: 0.045, DBMon: "Y/Y/Y", Group: "g_2", State: 2, Setup: "Setup Completed"},
			{Name: "cucm-02", Address: "172.168.0.102", PingMS: 1.711, DBMon: "Y/Y/Y", Group: "g_3", State: 2, Setup: "Setup Completed"},
		},
	}
	sameText(t, "utils dbreplication runtimestate", RenderDBReplication(d), capture(t, "utils_dbreplication_15.txt"))
}

// Webex Contact Center Enterprise publisher, 2025 (PLATFORM §12).
func TestShowNetworkClusterMatchesCapture(t *testing.T) {
	at := func(s string) *time.Time {
		tm, err := time.Parse("Mon Jan 2 15:04:05 2006", s)
		if err != nil {
			t.Fatal(err)
		}
		return &tm
	}
	row := func(ip, host, role, product, db, since string) ClusterRow {
		r := ClusterRow{Address: ip, FQDN: host + ".wx051.webexcce.com", Hostname: host, Role: role, Product: product, DB: db}
		if since != "" {
			r.Since = at(since)
		} else {
			r.Local = true
		}
		return r
	}
	c := Cluster{Members: []ClusterRow{
		row("104.156.46.39", "den04wx051ccm01", "Subscriber", "callmanager", "DBSub", "Fri Mar 28 06:07:53 2025"),
		row("104.156.47.39", "aus05wx051ccm01", "Subscriber", "callmanager", "DBSub", "Sat Aug 9 02:49:37 2025"),
		row("104.156.46.17", "den02wx051ccm01", "Subscriber", "callmanager", "DBSub", "Fri Mar 28 06:07:43 2025"),
		row("104.156.47.17", "aus03wx051ccm01", "Subscriber", "callmanager", "DBSub", "Sat May 31 04:08:34 2025"),
		row("104.156.46.18", "den01wx051imp01", "Subscriber", "cups", "DBPub", "Fri Mar 28 06:07:53 2025"),
		row("104.156.47.18", "aus02wx051imp01", "Subscriber", "cups", "DBSub", "Sat Aug 9 02:49:42 2025"),
		row("104.156.46.16", "den01wx051ccm01", "Publisher", "callmanager", "DBPub", ""),
	}, ProcessNodes: []string{"den01wx051ccm01.wx051.webexcce.com"}}
	sameText(t, "show network cluster", RenderCluster(c), capture(t, "show_network_cluster_webex.txt"))
}

// TAC 118744 (PLATFORM §8).
func TestShowTimezoneMatchesCapture(t *testing.T) {
	winter := time.Date(2013, 1, 10, 12, 0, 0, 0, zone(t, "Europe/Warsaw"))
	got := RenderTimeZone(TimeZoneConfig{Name: ZoneName(winter), ID: "Europe/Warsaw", Version: "2012j"})
	sameText(t, "show timezone config", got, capture(t, "show_timezone_config.txt"))
	summer := time.Date(2023, 9, 29, 17, 20, 40, 0, zone(t, "America/Chicago"))
	if got := LongZoneName(summer); got != "Central Daylight Time (America/Chicago)" {
		t.Fatalf("summer in Chicago: %q", got)
	}
	if got := LongZoneName(time.Date(2026, 1, 1, 0, 0, 0, 0, zone(t, "Asia/Kathmandu"))); got != "GMT+05:45 (Asia/Kathmandu)" {
		t.Fatalf("a zone without a name: %q", got)
	}
}
