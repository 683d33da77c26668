package cssmapi_test

import (
	"testing"

	"github.com/ucmsh/ucmsh/cssmapi"
)

func TestDescriptionIsTheDisplayNameWithoutVersion(t *testing.T) {
	for display, want := range map[string]string{
		"UC Manager Enhanced License (12.x)": "UC Manager Enhanced License",
		"UC Manager CUWL License (12.X)":     "UC Manager CUWL License",
		"UC Manager Basic License  (12.x)":   "UC Manager Basic License",
		"Something without a version":        "Something without a version",
	} {
		if got := cssmapi.Description(display); got != want {
			t.Errorf("Description(%q) = %q, want %q", display, got, want)
		}
	}
}

func TestLookupTier(t *testing.T) {
	for name, want := range map[string]string{
		"CUWL":             "UC Manager CUWL License (12.X)",
		"enhanced plus":    "UC Manager Enhanced Plus License (12.x)",
		"Enhanced_Plus":    "UC Manager Enhanced Plus License (12.x)",
		"essential":        "UC Manager Essential License (12.x)",
		"TelePresenceRoom": "UC Manager TelePresence Room License (12.x)",
	} {
		e, ok := cssmapi.LookupTier(name)
		if !ok || e.DisplayName != want {
			t.Errorf("LookupTier(%q) = %q, %v", name, e.DisplayName, ok)
		}
		if back, ok := cssmapi.LookupTag(e.Tag); !ok || back != e {
			t.Errorf("LookupTag(%q) = %+v", e.Tag, back)
		}
	}
	if _, ok := cssmapi.LookupTier("Gold"); ok {
		t.Error("LookupTier(Gold) found something")
	}
}

// Substitution walks the catalog in order, so each ladder must go top down.
func TestCatalogIsOrderedTopDownPerLadder(t *testing.T) {
	next := map[string]int{}
	for _, e := range cssmapi.Entitlements {
		if e.Rank != next[e.Ladder] {
			t.Errorf("%s has rank %d, want %d", e.Tier, e.Rank, next[e.Ladder])
		}
		next[e.Ladder]++
	}
}

func TestHCSLicenceTypesAndTheirMapping(t *testing.T) {
	for tier, want := range map[string]string{
		"Essential": "HCSFoundation", "Basic": "HCSFoundation", "Enhanced": "HCSFoundation",
		"EnhancedPlus": "HCSStandard", "CUWL": "HCSStandard",
		"TelePresenceRoom": "HCSTelePresenceRoom", "hcs foundation": "HCSFoundation",
	} {
		e, ok := cssmapi.LookupTier(tier)
		if !ok {
			t.Fatalf("LookupTier(%q) found nothing", tier)
		}
		p, ok := cssmapi.HCSParent(e.Tier)
		if !ok || p.Tier != want || !p.HCS() {
			t.Errorf("HCSParent(%s) = %s, %v; want %s", tier, p.Tier, ok, want)
		}
		if back, ok := cssmapi.LookupTag(p.Tag); !ok || back != p {
			t.Errorf("LookupTag(%q) = %+v", p.Tag, back)
		}
	}
	if e, _ := cssmapi.LookupTier("Enhanced"); e.HCS() {
		t.Error("Enhanced is not an HCS licence")
	}
	if got := len(cssmapi.EnterpriseTierNames()); got != len(cssmapi.Entitlements) {
		t.Errorf("EnterpriseTierNames has %d names", got)
	}
}
