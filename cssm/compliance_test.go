package cssm

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// row describes one tier's expected balance: "status borrowed<-from lent".
func describe(b Balance) string {
	s := b.Status()
	if b.Borrowed > 0 {
		from, _ := cssmapi.LookupTag(b.BorrowedFrom)
		s += fmt.Sprintf(" +%d<-%s", b.Borrowed, from.Tier)
	}
	if b.Lent > 0 {
		s += fmt.Sprintf(" -%d", b.Lent)
	}
	return s
}

func TestTierSubstitution(t *testing.T) {
	type counts map[string]int // tier -> count
	tests := []struct {
		name      string
		purchased counts
		inUse     counts
		want      map[string]string // tier -> describe(); tiers not listed are "InCompliance"
	}{
		{
			name:      "enough of each tier",
			purchased: counts{"Enhanced": 5, "Basic": 2},
			inUse:     counts{"Enhanced": 5, "Basic": 1},
		},
		{
			name:      "shortage with nothing above is out of compliance",
			purchased: counts{"Basic": 2},
			inUse:     counts{"Enhanced": 1, "Basic": 2},
			want:      map[string]string{"Enhanced": "OutOfCompliance"},
		},
		{
			name:      "the nearest higher tier lends first",
			purchased: counts{"CUWL": 3, "EnhancedPlus": 1, "Basic": 0},
			inUse:     counts{"Basic": 2},
			want:      map[string]string{"EnhancedPlus": "InCompliance -1", "CUWL": "InCompliance -1", "Basic": "InCompliance +2<-EnhancedPlus"},
		},
		{
			name:      "higher tiers cover several lower ones in turn",
			purchased: counts{"CUWL": 4, "Enhanced": 1},
			inUse:     counts{"Enhanced": 3, "Essential": 2},
			want:      map[string]string{"CUWL": "InCompliance -4", "Enhanced": "InCompliance +2<-CUWL", "Essential": "InCompliance +2<-CUWL"},
		},
		{
			name:      "a partial cover is still out of compliance",
			purchased: counts{"CUWL": 1},
			inUse:     counts{"Enhanced": 3},
			want:      map[string]string{"CUWL": "InCompliance -1", "Enhanced": "OutOfCompliance +1<-CUWL"},
		},
		{
			name:      "a lower tier never covers a higher one",
			purchased: counts{"Essential": 10},
			inUse:     counts{"CUWL": 1},
			want:      map[string]string{"CUWL": "OutOfCompliance"},
		},
		{
			name:      "TelePresence Room is its own ladder",
			purchased: counts{"CUWL": 10},
			inUse:     counts{"TelePresenceRoom": 1},
			want:      map[string]string{"TelePresenceRoom": "OutOfCompliance"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pool []License
			for tier, n := range tt.purchased {
				pool = append(pool, License{Tag: tag(tier), Count: n, Type: Perpetual})
			}
			inUse := map[string]int{}
			for tier, n := range tt.inUse {
				inUse[tag(tier)] = n
			}
			for _, b := range Balances(pool, inUse, nil, t0) {
				want := tt.want[b.Tier]
				if want == "" {
					want = cssmapi.InCompliance
				}
				if got := describe(b); got != want {
					t.Errorf("%s: %s, want %s", b.Tier, got, want)
				}
			}
		})
	}
}

func TestTermLicencesCountThroughTheirLastDay(t *testing.T) {
	pool := []License{
		{Tag: tag("Enhanced"), Count: 2, Type: Perpetual},
		{Tag: tag("Enhanced"), Count: 3, Type: Term, TermEnd: "2026-03-31"},
	}
	inUse := map[string]int{tag("Enhanced"): 4}
	for _, tt := range []struct {
		now       string
		purchased int
		status    string
	}{
		{"2026-03-31T23:59:59Z", 5, cssmapi.InCompliance},
		{"2026-04-01T00:00:00Z", 2, cssmapi.OutOfCompliance},
	} {
		now, _ := time.Parse(time.RFC3339, tt.now)
		b := Balances(pool, inUse, nil, now)[2]
		if b.Purchased != tt.purchased || b.Status() != tt.status {
			t.Errorf("at %s: purchased %d %s, want %d %s", tt.now, b.Purchased, b.Status(), tt.purchased, tt.status)
		}
	}
}

// servedBy describes which licences serve a tier: "Enhanced:5 HCSFoundation:2".
func servedBy(b Balance) string {
	s := ""
	for _, sh := range b.ServedBy {
		e, _ := cssmapi.LookupTag(sh.Tag)
		s += fmt.Sprintf(" %s:%d", e.Tier, sh.Count)
	}
	return strings.TrimSpace(s)
}

func TestDualParentingServesEnterpriseRequestsFromMappedHCSLicences(t *testing.T) {
	type counts map[string]int // tier -> count
	tests := []struct {
		name      string
		purchased counts
		inUse     counts
		want      map[string]string // tier -> status and servedBy; tiers not listed are InCompliance and unserved
	}{
		{
			name:      "Enterprise licences first when both are available",
			purchased: counts{"Enhanced": 5, "HCSFoundation": 5},
			inUse:     counts{"Enhanced": 5},
			want:      map[string]string{"Enhanced": "InCompliance Enhanced:5"},
		},
		{
			name:      "tier substitution before HCS",
			purchased: counts{"CUWL": 1, "Enhanced": 1, "HCSFoundation": 5},
			inUse:     counts{"Enhanced": 3},
			want:      map[string]string{"CUWL": "InCompliance", "Enhanced": "InCompliance Enhanced:1 CUWL:1 HCSFoundation:1", "HCSFoundation": "InCompliance"},
		},
		{
			name:      "only HCS licences: Foundation serves Essential, Basic and Enhanced",
			purchased: counts{"HCSFoundation": 6},
			inUse:     counts{"Enhanced": 3, "Basic": 2, "Essential": 1},
			want: map[string]string{"Enhanced": "InCompliance HCSFoundation:3", "Basic": "InCompliance HCSFoundation:2",
				"Essential": "InCompliance HCSFoundation:1", "HCSFoundation": "InCompliance"},
		},
		{
			name:      "Standard serves CUWL and Enhanced Plus, and Foundation's tiers after Foundation",
			purchased: counts{"HCSStandard": 4, "HCSFoundation": 1},
			inUse:     counts{"CUWL": 1, "EnhancedPlus": 1, "Basic": 3},
			want: map[string]string{"CUWL": "InCompliance HCSStandard:1", "EnhancedPlus": "InCompliance HCSStandard:1",
				"Basic": "InCompliance HCSFoundation:1 HCSStandard:2", "HCSStandard": "InCompliance", "HCSFoundation": "InCompliance"},
		},
		{
			name:      "Foundation never serves CUWL",
			purchased: counts{"HCSFoundation": 10},
			inUse:     counts{"CUWL": 1},
			want:      map[string]string{"CUWL": "OutOfCompliance", "HCSFoundation": "InCompliance"},
		},
		{
			name:      "HCS TelePresence Room serves TelePresence Room only",
			purchased: counts{"HCSTelePresenceRoom": 1, "HCSStandard": 5},
			inUse:     counts{"TelePresenceRoom": 2},
			want:      map[string]string{"TelePresenceRoom": "OutOfCompliance HCSTelePresenceRoom:1", "HCSTelePresenceRoom": "InCompliance", "HCSStandard": "InCompliance"},
		},
		{
			name:      "HCS-mode requests use their own licences before they serve Enterprise ones",
			purchased: counts{"HCSStandard": 2},
			inUse:     counts{"HCSStandard": 1, "HCSFoundation": 1, "Enhanced": 1},
			want: map[string]string{"HCSStandard": "InCompliance HCSStandard:1", "HCSFoundation": "InCompliance HCSStandard:1",
				"Enhanced": "OutOfCompliance"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pool []License
			for tier, n := range tt.purchased {
				pool = append(pool, License{Tag: tag(tier), Count: n, Type: Perpetual})
			}
			inUse := map[string]int{}
			for tier, n := range tt.inUse {
				inUse[tag(tier)] = n
			}
			lent, borrowed := 0, 0
			for _, b := range Balances(pool, inUse, nil, t0) {
				want := tt.want[b.Tier]
				if want == "" {
					want = cssmapi.InCompliance
				}
				if got := strings.TrimSpace(b.Status() + " " + servedBy(b)); got != want {
					t.Errorf("%s: %q, want %q", b.Tier, got, want)
				}
				lent, borrowed = lent+b.Lent, borrowed+b.Borrowed
			}
			if lent != borrowed {
				t.Errorf("lent %d, borrowed %d: every licence lent serves one request", lent, borrowed)
			}
		})
	}
}
