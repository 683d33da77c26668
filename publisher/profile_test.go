package publisher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/sanitize"
)

// A fresh node needs no profile: the defaults are a realistic lab VM.
func TestProfileDefaults(t *testing.T) {
	p, err := ParseProfile([]byte(`{"hostname":"a","version":"15"}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "15.0.1.12900-234" || p.Release().Major != 15 || p.OSVersion == "" || p.Locale != "en_US.UTF-8" {
		t.Fatalf("version defaults: %+v", p)
	}
	h := p.Hardware
	if h.VCPUs != 2 || h.CPUMHz != 2400 || h.DiskGB != 110 || h.RAMMB != 8192 || !strings.HasPrefix(h.Serial, "VMware-42 ") || h.DiskUsedPercent == nil {
		t.Fatalf("hardware defaults: %+v", h)
	}
	if n := p.Network; n.Mask == "" || n.Gateway == "" || len(n.DNS) != 1 || n.SpeedMbps != 10000 || n.MTU != 1500 {
		t.Fatalf("network defaults: %+v", n)
	}
	if len(p.NTPServers) == 0 || p.Inactive != nil || len(p.Cluster) != 1 || p.Cluster[0].Address == "" {
		t.Fatalf("defaults: %+v", p)
	}
	if pub, sub := p.ServicesFor("publisher"), p.ServicesFor("subscriber"); len(pub.Started) == 0 || len(sub.Started) == 0 {
		t.Fatal("no default services")
	}
	// The uptime moves with the node's clock, and the boot is never
	// after it.
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	if b := p.Boot("a", now); b.After(now) || now.Sub(b) > 90*24*time.Hour || p.Boot("a", now.Add(time.Hour)) != b || p.Boot("b", now) == b {
		t.Fatalf("boot %v for now %v", b, now)
	}
	// Another host gets another serial number.
	q, _ := ParseProfile([]byte(`{"hostname":"b","version":"15"}`))
	if q.Hardware.Serial == h.Serial {
		t.Fatal("two hosts share a serial number")
	}
}

// The new fields are checked: a mistake says what is wrong.
func TestProfilePlatformValidation(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"hostname":"a","version":"11.5.1.12900-21"}`, "not a CUCM version from 12.5 on"},
		{`{"hostname":"a","version":"fourteen"}`, "not a CUCM version"},
		{`{"hostname":"a","version":"14.0.1.13900"}`, "not a CUCM version"},
		{`{"hostname":"a","version":"14","inactive":{"version":"12.5"}}`, `"inactive" "version"`},
		{`{"hostname":"a","version":"14","services":{"imp":{"started":[]}}}`, `"services" has the role "imp"`},
		{`{"hostname":"a","version":"14","network":{"dns":["1.1.1.1","2.2.2.2","3.3.3.3"]}}`, "a primary and a secondary"},
		{`{"hostname":"a","version":"14","hardware":{"disk_gb":10}}`, `"disk_gb" is 10`},
		{`{"hostname":"a","version":"14","hardware":{"disk_used_percent":{"active":101}}}`, "0 to 100"},
		{`{"hostname":"a","version":"14","cop_files":["x\u001b[31m.cop"]}`, "control or invisible character"},
		{`{"hostname":"a\u202e","version":"14"}`, "control or invisible character"},
		{`{"hostname":"a","version":"14","services":{"publisher":{"started":["Cisco\u200bTftp"]}}}`, "control or invisible character"},
	} {
		_, err := ParseProfile([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.json, err, tc.want)
		}
	}
}

// The profile README.md shows is valid as written.
func TestReadmeProfileParses(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "## The node profile")
	_, rest, ok2 := strings.Cut(rest, "```json\n")
	block, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no profile example")
	}
	if _, err := ParseProfile([]byte(block)); err != nil {
		t.Fatalf("the README profile: %v", err)
	}
}

// ParseProfile never panics, and what it accepts is complete: a version
// that parses, a zone, one publisher.
func FuzzParseProfile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/profiles/*.json")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"hostname":"a","version":"14","cluster":[{"hostname":"a","role":"publisher"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile(data)
		if err != nil {
			return
		}
		if _, ok := ParseRelease(p.Version); !ok || p.Location() == nil || p.Publisher().Role != "publisher" {
			t.Fatalf("accepted an incomplete profile: %+v", p)
		}
		if strings.IndexFunc(p.Hostname+p.Publisher().Hostname+strings.Join(p.COPFiles, ""), sanitize.Unsafe) >= 0 {
			t.Fatalf("accepted unprintable text: %+v", p)
		}
		_ = p.Boot(p.Hostname, time.Unix(0, 0))
		_ = p.ServicesFor("subscriber")
	})
}

// ParseRelease reads exactly major.minor.maint.build-rev.
func FuzzParseRelease(f *testing.F) {
	for _, s := range []string{"14.0.1.13900-155", "12.5.1.16900-48", "15.0.1.12900-234", "1.2.3.4-5", "14", "-1.0.0.0-0", "+1.0.0.0-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := ParseRelease(s)
		if !ok {
			return
		}
		if strings.Trim(s, "0123456789.-") != "" || strings.Count(s, "-") != 1 || strings.Count(s, ".") != 3 {
			t.Fatalf("%q accepted", s)
		}
		if again, ok := ParseRelease(r.String()); !ok || again != r || r.SU() < 0 {
			t.Fatalf("%q parsed as %+v, which does not read back", s, r)
		}
	})
}
