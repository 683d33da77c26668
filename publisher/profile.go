package publisher

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/sanitize"
)

// Profile describes the node the shell runs on: what a real CUCM would learn
// from its installation and database. It is read-only input (--profile).
// Every field but hostname and version has a realistic default, so a fresh
// node needs no profile; README.md "The node profile" documents the format.
type Profile struct {
	Hostname string `json:"hostname"`
	Domain   string `json:"domain,omitempty"`
	// Version is the active version, major.minor.maint.build-rev; "12.5",
	// "14" or "15" stand for a typical build of that release.
	Version string `json:"version"`
	// OSVersion is the Unified OS version; default per release.
	OSVersion string   `json:"os_version,omitempty"`
	TimeZone  string   `json:"time_zone"`
	Locale    string   `json:"locale,omitempty"`
	Hardware  Hardware `json:"hardware"`
	Network   Network  `json:"network"`
	// NTPServers are the publisher's external time sources (subscribers
	// synchronise with the publisher).
	NTPServers []string `json:"ntp_servers,omitempty"`
	// COPFiles are the software options installed on the active version.
	COPFiles []string `json:"cop_files,omitempty"`
	// Inactive is the other partition's version, if one is installed.
	Inactive *InactiveVersion `json:"inactive,omitempty"`
	// BootTime is when the node last started; by default the uptime
	// follows the node's clock (see Boot).
	BootTime *time.Time `json:"boot_time,omitempty"`
	// Services lists the Service Manager services per role ("publisher",
	// "subscriber"); a role not given gets CUCM's usual set.
	Services map[string]ServiceSet `json:"services,omitempty"`
	Cluster  []ClusterMember       `json:"cluster,omitempty"`
	Usage    map[string]int        `json:"usage"`
	// LicensingMode is Enterprise (the default) or HCS (REFERENCE.md §6): in
	// HCS mode the node requests the HCS licences its usage maps to.
	LicensingMode string `json:"licensing_mode,omitempty"`

	loc     *time.Location
	release Release
}

// Hardware is the virtual machine (banner, show hardware, show status).
type Hardware struct {
	Platform string `json:"platform"`
	VCPUs    int    `json:"vcpus"`
	CPU      string `json:"cpu"`
	// CPUMHz defaults to the speed in the CPU name ("@ 2.40GHz").
	CPUMHz int `json:"cpu_mhz,omitempty"`
	DiskGB int `json:"disk_gb"`
	RAMMB  int `json:"ram_mb"`
	// Serial is the VMware UUID form; derived from the host name if empty.
	Serial string `json:"serial,omitempty"`
	BIOS   string `json:"bios,omitempty"`
	// DiskUsedPercent is how full the active, inactive and logging
	// partitions are (show status).
	DiskUsedPercent *DiskUse `json:"disk_used_percent,omitempty"`
}

// DiskUse is the fill level of the three partitions, in percent.
type DiskUse struct {
	Active   int `json:"active"`
	Inactive int `json:"inactive"`
	Logging  int `json:"logging"`
}

// Network is the settings of eth0 shared by the cluster; each node's
// address is its cluster member's.
type Network struct {
	Mask    string   `json:"mask,omitempty"`
	Gateway string   `json:"gateway,omitempty"`
	DNS     []string `json:"dns,omitempty"` // primary, secondary
	// SpeedMbps is the link speed (VMXNET3: 10000).
	SpeedMbps int  `json:"speed_mbps,omitempty"`
	MTU       int  `json:"mtu,omitempty"`
	DHCP      bool `json:"dhcp,omitempty"`
}

// InactiveVersion is the version on the inactive partition.
type InactiveVersion struct {
	Version  string   `json:"version"`
	COPFiles []string `json:"cop_files,omitempty"`
}

// ServiceSet is the Service Manager services of one role.
type ServiceSet struct {
	Started      []string `json:"started"`
	NotActivated []string `json:"not_activated,omitempty"`
	// Stopped services are activated but not running.
	Stopped []string `json:"stopped,omitempty"`
}

// ClusterMember is one node of the cluster, as `show network cluster` lists it.
type ClusterMember struct {
	Hostname string `json:"hostname"`
	Address  string `json:"address"`
	Role     string `json:"role"` // publisher or subscriber
	// ConnectedSince is when this node's connection to the others came
	// up; by default shortly after the local node booted.
	ConnectedSince *time.Time `json:"connected_since,omitempty"`
}

// MaxUsage bounds a usage count so reports stay readable and sums never overflow.
const MaxUsage = 1_000_000

// DefaultProfile is a small lab publisher with a few users, so a fresh shell
// shows evaluation mode in use. Addresses are from the documentation range.
func DefaultProfile() *Profile {
	p := &Profile{
		Hostname: "cucm-pub",
		Domain:   "lab.example.com",
		Version:  "14.0.1.13900-155",
		TimeZone: "UTC",
		Hardware: Hardware{Platform: "VMware", VCPUs: 2, CPU: "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", DiskGB: 110, RAMMB: 8192},
		Cluster: []ClusterMember{
			{Hostname: "cucm-pub", Address: "192.0.2.10", Role: "publisher"},
			{Hostname: "cucm-sub1", Address: "192.0.2.11", Role: "subscriber"},
		},
		Usage: map[string]int{"Enhanced": 5, "Basic": 3, "Essential": 2},
	}
	if err := p.validate(); err != nil {
		panic("default profile: " + err.Error()) // a programming error, caught by tests
	}
	return p
}

// LoadProfile reads and validates a profile file.
func LoadProfile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the node profile %s: %w", path, err)
	}
	p, err := ParseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("the node profile %s is not valid: %w", path, err)
	}
	return p, nil
}

// ParseProfile decodes a profile strictly: unknown fields are mistakes.
func ParseProfile(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON object")
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) validate() error {
	if p.Hostname == "" {
		return fmt.Errorf(`"hostname" is required`)
	}
	if p.Version == "" {
		return fmt.Errorf(`"version" is required (e.g. "14.0.1.13900-155")`)
	}
	if p.TimeZone == "" {
		p.TimeZone = "UTC"
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return fmt.Errorf(`"time_zone" %q is not a known IANA time zone (e.g. "Asia/Kolkata")`, p.TimeZone)
	}
	p.loc = loc
	switch strings.ToLower(p.LicensingMode) {
	case "", "enterprise":
		p.LicensingMode = cssmapi.ModeEnterprise
	case "hcs":
		p.LicensingMode = cssmapi.ModeHCS
	default:
		return fmt.Errorf(`"licensing_mode" is %q; use "Enterprise" or "HCS"`, p.LicensingMode)
	}
	usage := make(map[string]int, len(p.Usage))
	for k, n := range p.Usage {
		l, ok := cssmapi.LookupTier(k)
		if !ok || l.HCS() {
			return fmt.Errorf(`"usage" names %q, which is not a license type; use one of %s`, k, strings.Join(cssmapi.EnterpriseTierNames(), ", "))
		}
		if n < 0 || n > MaxUsage {
			return fmt.Errorf(`"usage" of %s is %d; it must be between 0 and %d`, l.Tier, n, MaxUsage)
		}
		usage[l.Tier] = n
	}
	p.Usage = usage
	if err := p.printable(); err != nil {
		return err
	}
	if err := p.platformDefaults(); err != nil {
		return err
	}
	if len(p.Cluster) == 0 {
		p.Cluster = []ClusterMember{{Hostname: p.Hostname, Address: DefaultAddress, Role: "publisher"}}
	}
	pubs := 0
	for i, m := range p.Cluster {
		if m.Hostname == "" {
			return fmt.Errorf(`cluster member %d has no "hostname"`, i+1)
		}
		switch ip := net.ParseIP(m.Address); {
		case m.Address == "":
			// [ucmsh] a member without an address gets one from the
			// documentation range, as every CUCM node has one.
			p.Cluster[i].Address = fmt.Sprintf("192.0.2.%d", 10+i%240)
		case ip == nil || ip.To4() == nil:
			return fmt.Errorf(`cluster member %s has "address" %q; give its IPv4 address`, m.Hostname, m.Address)
		}
		switch m.Role {
		case "publisher":
			pubs++
		case "subscriber":
		default:
			return fmt.Errorf(`cluster member %s has role %q; use "publisher" or "subscriber"`, m.Hostname, m.Role)
		}
	}
	if pubs != 1 {
		return fmt.Errorf("the cluster must have exactly one publisher, not %d", pubs)
	}
	return nil
}

// Location is the node's time zone, in which every time stamp is shown.
func (p *Profile) Location() *time.Location {
	if p.loc == nil {
		return time.UTC
	}
	return p.loc
}

// UsageOf returns how many licenses of a type are in use. An HCS type counts
// the Enterprise usage that maps to it (REFERENCE.md §6).
func (p *Profile) UsageOf(key string) int {
	e, ok := cssmapi.LookupTier(key)
	if !ok || !e.HCS() {
		return p.Usage[key]
	}
	n := 0
	for _, ent := range cssmapi.Entitlements {
		if parent, _ := cssmapi.HCSParent(ent.Tier); parent.Tier == e.Tier {
			n += p.Usage[ent.Tier]
		}
	}
	return n
}

// Catalog is the licence types the node requests: Enterprise, or in HCS mode
// the HCS types.
func (p *Profile) Catalog() []cssmapi.Entitlement {
	if p.LicensingMode == cssmapi.ModeHCS {
		return cssmapi.HCSEntitlements
	}
	return cssmapi.Entitlements
}

// InUse reports whether any license is consumed.
func (p *Profile) InUse() bool {
	for _, n := range p.Usage {
		if n > 0 {
			return true
		}
	}
	return false
}

// FQDN is the host name with the domain, when there is one.
func (p *Profile) FQDN(host string) string {
	if p.Domain == "" {
		return host
	}
	return host + "." + p.Domain
}

// Release is a parsed CUCM version, major.minor.maint.build-rev.
type Release struct{ Major, Minor, Maint, Build, Rev int }

// Typical builds for a version given as a release alone.
var releaseBuilds = map[string]string{
	"12.5": "12.5.1.16900-48",
	"14":   "14.0.1.13900-155",
	"14.0": "14.0.1.13900-155",
	"15":   "15.0.1.12900-234",
	"15.0": "15.0.1.12900-234",
}

// ParseRelease reads a full CUCM version such as 14.0.1.13900-155.
func ParseRelease(v string) (Release, bool) {
	var r Release
	main, rev, ok := strings.Cut(v, "-")
	parts := strings.Split(main, ".")
	if !ok || len(parts) != 4 {
		return r, false
	}
	nums := []*int{&r.Major, &r.Minor, &r.Maint, &r.Build, &r.Rev}
	for i, s := range append(parts, rev) {
		if s == "" || len(s) > 6 || strings.Trim(s, "0123456789") != "" {
			return r, false
		}
		n, _ := strconv.Atoi(s)
		*nums[i] = n
	}
	return r, true
}

// String is the version as CUCM writes it.
func (r Release) String() string {
	return fmt.Sprintf("%d.%d.%d.%d-%d", r.Major, r.Minor, r.Maint, r.Build, r.Rev)
}

// AtLeast reports whether r is major.minor or later.
func (r Release) AtLeast(major, minor int) bool {
	return r.Major > major || r.Major == major && r.Minor >= minor
}

// SU is the service update of the release: build 10000 is the first
// release, 11900 SU1, 12900 SU2 and so on.
func (r Release) SU() int { return max(0, (r.Build-10900)/1000) }

// GatewayOnly reports whether license smart transport gateway means a
// Transport Gateway only, as from 14SU4 and 15SU2 on; before, it could
// also name a satellite (REFERENCE §2).
func (r Release) GatewayOnly() bool {
	switch {
	case r.Major == 14:
		return r.SU() >= 4
	case r.Major == 15:
		return r.SU() >= 2
	}
	return r.Major > 15
}

// Release is the node's parsed version.
func (p *Profile) Release() Release { return p.release }

// DefaultAddress is a single node's address when the profile has no cluster.
const DefaultAddress = "192.0.2.10"

// The defaults of the platform values, those of a lab VM on VMware.
const (
	defaultLocale = "en_US.UTF-8"
	defaultBIOS   = "PhoenixTechnologiesLTD 6.00 11/12/2020"
)

// platformDefaults fills what the profile leaves out and checks the rest.
func (p *Profile) platformDefaults() error {
	v := p.Version
	if full, ok := releaseBuilds[v]; ok {
		v = full
	}
	r, ok := ParseRelease(v)
	if !ok || !r.AtLeast(12, 5) {
		return fmt.Errorf(`"version" %q is not a CUCM version from 12.5 on (e.g. "14.0.1.13900-155", or "12.5", "14", "15")`, p.Version)
	}
	p.Version, p.release = v, r
	if p.OSVersion == "" {
		p.OSVersion = defaultOSVersion(r)
	}
	if p.Locale == "" {
		p.Locale = defaultLocale
	}
	h := &p.Hardware
	if h.Platform == "" {
		h.Platform = "VMware"
	}
	if h.VCPUs <= 0 {
		h.VCPUs = 2
	}
	if h.CPU == "" {
		h.CPU = "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz"
	}
	if h.CPUMHz <= 0 {
		h.CPUMHz = cpuMHz(h.CPU)
	}
	if h.DiskGB <= 0 {
		h.DiskGB = 110
	}
	if h.DiskGB < 40 || h.DiskGB > 4096 {
		return fmt.Errorf(`"hardware" "disk_gb" is %d; CUCM needs 40 to 4096`, h.DiskGB)
	}
	if h.RAMMB <= 0 {
		h.RAMMB = 8192
	}
	if h.BIOS == "" {
		h.BIOS = defaultBIOS
	}
	if h.Serial == "" {
		h.Serial = vmwareSerial(p.Hostname)
	}
	if h.DiskUsedPercent == nil {
		// An upgraded node's inactive partition holds the old version.
		inactive := 1
		if p.Inactive != nil {
			inactive = 67
		}
		h.DiskUsedPercent = &DiskUse{Active: 69, Inactive: inactive, Logging: 41}
	}
	for _, u := range []int{h.DiskUsedPercent.Active, h.DiskUsedPercent.Inactive, h.DiskUsedPercent.Logging} {
		if u < 0 || u > 100 {
			return fmt.Errorf(`"hardware" "disk_used_percent" values must be 0 to 100, not %d`, u)
		}
	}
	n := &p.Network
	if n.Mask == "" {
		n.Mask = "255.255.255.0"
	}
	if n.Gateway == "" {
		n.Gateway = "192.0.2.1"
	}
	if len(n.DNS) == 0 {
		n.DNS = []string{"192.0.2.53"}
	}
	if len(n.DNS) > 2 {
		return fmt.Errorf(`"network" "dns" has %d servers; CUCM takes a primary and a secondary`, len(n.DNS))
	}
	if n.SpeedMbps <= 0 {
		n.SpeedMbps = 10000
	}
	if n.MTU <= 0 {
		n.MTU = 1500
	}
	if len(p.NTPServers) == 0 {
		p.NTPServers = []string{"192.0.2.123"}
	}
	if p.Inactive != nil {
		if _, ok := ParseRelease(p.Inactive.Version); !ok {
			return fmt.Errorf(`"inactive" "version" %q is not a full CUCM version such as 12.5.1.16900-48`, p.Inactive.Version)
		}
	}
	for role := range p.Services {
		if role != "publisher" && role != "subscriber" {
			return fmt.Errorf(`"services" has the role %q; use "publisher" or "subscriber"`, role)
		}
	}
	return nil
}

// printable refuses text the platform commands could not print as is:
// control characters and invisible formatting (internal/sanitize).
func (p *Profile) printable() error {
	texts := []string{p.Hostname, p.Domain, p.Version, p.OSVersion, p.TimeZone, p.Locale,
		p.Hardware.Platform, p.Hardware.CPU, p.Hardware.Serial, p.Hardware.BIOS,
		p.Network.Mask, p.Network.Gateway}
	texts = append(append(append(texts, p.Network.DNS...), p.NTPServers...), p.COPFiles...)
	if p.Inactive != nil {
		texts = append(append(texts, p.Inactive.Version), p.Inactive.COPFiles...)
	}
	for _, s := range p.Services {
		texts = append(append(append(texts, s.Started...), s.Stopped...), s.NotActivated...)
	}
	for _, m := range p.Cluster {
		texts = append(texts, m.Hostname, m.Address)
	}
	for _, t := range texts {
		if strings.IndexFunc(t, sanitize.Unsafe) >= 0 {
			return fmt.Errorf("%s contains a control or invisible character; the profile must be plain text", strconv.QuoteToASCII(t))
		}
	}
	return nil
}

// defaultOSVersion is the Unified OS version of a release. [ucmsh] 12.5's
// is captured (7.0.0.0-4); 14 runs on the same OS generation; 15's is
// not public and is our choice.
func defaultOSVersion(r Release) string {
	if r.Major >= 15 {
		return "8.0.0.0-2"
	}
	return "7.0.0.0-4"
}

// cpuMHz reads the clock speed from a CPU name such as "... @ 2.40GHz".
func cpuMHz(cpu string) int {
	_, speed, ok := strings.Cut(cpu, "@")
	ghz, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(speed), "GHz"), 64)
	if !ok || err != nil {
		return 2400
	}
	return int(ghz*1000 + 0.5)
}

// vmwareSerial is a stable VMware UUID serial ("VMware-42 16 ... -36 d7 ...")
// derived from the host name, as each VM has its own.
func vmwareSerial(host string) string {
	sum := sha256.Sum256([]byte("vmware-serial:" + host))
	var b strings.Builder
	b.WriteString("VMware-42")
	for i := 1; i < 16; i++ {
		sep := " "
		if i == 8 {
			sep = "-"
		}
		fmt.Fprintf(&b, "%s%02x", sep, sum[i])
	}
	return b.String()
}

// Local is this node's cluster member for its role: the member named by
// the host name when its role matches, else the first member of that role
// (so the built-in profile also describes a subscriber).
func (p *Profile) Local(role string) ClusterMember {
	for _, m := range p.Cluster {
		if m.Hostname == p.Hostname && m.Role == role {
			return m
		}
	}
	for _, m := range p.Cluster {
		if m.Role == role {
			return m
		}
	}
	return ClusterMember{Hostname: p.Hostname, Address: DefaultAddress, Role: role}
}

// Publisher is the cluster's publisher.
func (p *Profile) Publisher() ClusterMember { return p.Local("publisher") }

// Boot is when the node host last started. Without boot_time in the
// profile each node restarts every 90 days, in the night of a maintenance
// window that starts at 02:00 UTC and takes the nodes one after the other
// (a stable offset of up to 4 hours per host), so the uptime moves with
// the node's clock ([ucmsh]).
func (p *Profile) Boot(host string, now time.Time) time.Time {
	if p.BootTime != nil {
		return *p.BootTime
	}
	const period = 90 * 24 * time.Hour
	sum := sha256.Sum256([]byte("boot:" + host))
	offset := 2*time.Hour + time.Duration(int64(sum[0])<<8|int64(sum[1]))*(4*time.Hour)/65536
	offset = offset.Truncate(time.Second)
	return now.Add(-offset).Truncate(period).Add(offset)
}

// ServicesFor is the Service Manager services of a role.
func (p *Profile) ServicesFor(role string) ServiceSet {
	if s, ok := p.Services[role]; ok {
		return s
	}
	if role == "publisher" {
		return defaultPublisherServices
	}
	return defaultSubscriberServices
}

// The services a CUCM 12.5–15 node usually runs: the network services of
// every node, the feature services a lab activates, and those left
// deactivated. Cisco Smart License Manager runs on the publisher only
// (REFERENCE §2); the commands add or drop it by role whatever the profile
// says, since it cannot be started or stopped.
var (
	networkServices = []string{
		"A Cisco DB", "A Cisco DB Replicator", "Cisco AMC Service", "Cisco Audit Event Service",
		"Cisco CDP", "Cisco CDP Agent", "Cisco CallManager Serviceability", "Cisco CallManager Serviceability RTMT",
		"Cisco Certificate Change Notification", "Cisco Certificate Expiry Monitor", "Cisco Change Credential Application",
		"Cisco DRF Local", "Cisco Database Layer Monitor", "Cisco Log Partition Monitoring Tool",
		"Cisco Management Agent Service", "Cisco RIS Data Collector", "Cisco RTMT Reporter Servlet",
		"Cisco Syslog Agent", "Cisco Tomcat", "Cisco Tomcat Stats Servlet", "Cisco Trace Collection Service",
		"Cisco Trace Collection Servlet", "Cisco Trust Verification Service", "Cisco UXL Web Service",
		"Cisco User Data Services", "Host Resources Agent", "MIB2 Agent", "Platform Administrative Web Service",
		"Platform Communication Web Service", "SNMP Master Agent", "SOAP -Log Collection APIs",
		"SOAP -Performance Monitoring APIs", "SOAP -Real-Time Service APIs", "System Application Agent",
	}
	defaultPublisherServices = ServiceSet{
		Started: append(append([]string{}, networkServices...),
			"Cisco AXL Web Service", "Cisco Bulk Provisioning Service", "Cisco CTIManager", "Cisco CallManager",
			"Cisco DRF Master", "Cisco Push Notification Service", "Cisco Smart License Manager", "Cisco Tftp"),
		NotActivated: []string{
			"Cisco CAR Web Service", "Cisco DHCP Monitor Service", "Cisco Dialed Number Analyzer",
			"Cisco Dialed Number Analyzer Server", "Cisco DirSync", "Cisco Extended Functions",
			"Cisco Extension Mobility", "Cisco IP Voice Media Streaming App", "Cisco Location Bandwidth Manager",
			"Cisco SOAP - CDRonDemand Service", "Cisco Serviceability Reporter", "Cisco TAPS Service",
			"Cisco Wireless Controller Synchronization Service", "Self Provisioning IVR",
		},
	}
	defaultSubscriberServices = ServiceSet{
		Started: append(append([]string{}, networkServices...),
			"Cisco CTIManager", "Cisco CallManager", "Cisco IP Voice Media Streaming App", "Cisco Location Bandwidth Manager", "Cisco Tftp"),
		NotActivated: []string{
			"Cisco AXL Web Service", "Cisco DHCP Monitor Service", "Cisco Dialed Number Analyzer",
			"Cisco Dialed Number Analyzer Server", "Cisco Extended Functions", "Cisco Extension Mobility",
			"Cisco SOAP - CDRonDemand Service", "Self Provisioning IVR",
		},
	}
)
