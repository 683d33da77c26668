package cssmapi

import (
	"regexp"
	"strings"
)

// ExportFeature is the export authorization key feature name for UCM.
const ExportFeature = "CUCM_Export_Restricted_Authorization_Key"

// Ladders: a higher tier covers shortages only of lower tiers on its own ladder.
const (
	LadderUCM          = "UCM"
	LadderTelePresence = "TelePresence"
)

// Entitlement is one UCM licence type (REFERENCE.md §5).
type Entitlement struct {
	Tier        string // short name used on the cssm command line, e.g. "EnhancedPlus"
	Tag         string
	DisplayName string
	Ladder      string
	Rank        int // 0 is the highest tier of its ladder
}

// Description is the display name without its version suffix, as CUCM shows it.
func (e Entitlement) Description() string { return Description(e.DisplayName) }

// Entitlements lists every UCM entitlement, highest tier first, ladder by ladder.
var Entitlements = []Entitlement{
	{"CUWL", "regid.2017-02.com.cisco.UCM_CUWL,12.0_cc59375a-1cd8-4b36-8366-6f4d2abba965", "UC Manager CUWL License (12.X)", LadderUCM, 0},
	{"EnhancedPlus", "regid.2016-07.com.cisco.UCM_EnhancedPlus,12.0_d8372792-588c-4caa-b279-8587e5ce2f82", "UC Manager Enhanced Plus License (12.x)", LadderUCM, 1},
	{"Enhanced", "regid.2016-07.com.cisco.UCM_Enhanced,12.0_66d0d1cf-4863-4761-91d0-d01d3eb1949a", "UC Manager Enhanced License (12.x)", LadderUCM, 2},
	{"Basic", "regid.2016-07.com.cisco.UCM_Basic,12.0_ef827a2f-f4ae-4ebb-887f-052737063d3a", "UC Manager Basic License  (12.x)", LadderUCM, 3},
	{"Essential", "regid.2016-07.com.cisco.UCM_Essential,12.0_25f9c396-c67c-4519-aa98-d4b3ad18f805", "UC Manager Essential License (12.x)", LadderUCM, 4},
	{"TelePresenceRoom", "regid.2016-07.com.cisco.UCM_TelePresenceRoom,12.0_d9a71418-29e9-4c9a-9d3a-1366ebe38e7c", "UC Manager TelePresence Room License (12.x)", LadderTelePresence, 0},
}

// LookupTag finds an entitlement by its full tag.
func LookupTag(tag string) (Entitlement, bool) {
	for _, e := range Entitlements {
		if e.Tag == tag {
			return e, true
		}
	}
	return Entitlement{}, false
}

// LookupTier finds an entitlement by tier name, ignoring case, spaces, '-' and '_'
// so that "Enhanced Plus", "enhanced-plus" and "EnhancedPlus" all match.
func LookupTier(name string) (Entitlement, bool) {
	fold := func(s string) string {
		return strings.ToLower(strings.NewReplacer(" ", "", "-", "", "_", "").Replace(s))
	}
	want := fold(name)
	for _, e := range Entitlements {
		if fold(e.Tier) == want {
			return e, true
		}
	}
	return Entitlement{}, false
}

// TierNames lists the tier names accepted by LookupTier, highest first.
func TierNames() []string {
	names := make([]string, len(Entitlements))
	for i, e := range Entitlements {
		names[i] = e.Tier
	}
	return names
}

var versionSuffix = regexp.MustCompile(`\s*\(\d+\.[xX]\)$`)

// Description strips the " (12.x)" suffix (and the double space before it on Basic).
func Description(displayName string) string {
	return versionSuffix.ReplaceAllString(displayName, "")
}
