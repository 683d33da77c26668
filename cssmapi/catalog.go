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
	// HCS ladders (REFERENCE.md §6): Standard covers Foundation; the HCS
	// TelePresence Room licence stands alone.
	LadderHCS             = "HCS"
	LadderHCSTelePresence = "HCSTelePresence"
)

// Licensing modes of a node (REFERENCE.md §6).
const (
	ModeEnterprise = "Enterprise"
	ModeHCS        = "HCS"
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

// HCSEntitlements lists the Hosted Collaboration licence types, highest first.
// [ucmsh] Their tags and display names are not public; these follow the style
// of the Enterprise tags (REFERENCE.md §5) and are documented in README.md and
// DESIGN.md.
var HCSEntitlements = []Entitlement{
	{"HCSStandard", "regid.2016-07.com.cisco.HCS_UCM_Standard,12.0_bdad8a85-5100-42fa-bd25-59b5b5df677e", "HCS UCM Standard License (12.x)", LadderHCS, 0},
	{"HCSFoundation", "regid.2016-07.com.cisco.HCS_UCM_Foundation,12.0_2e015660-d8fa-4d9b-9fb2-de6ded6ea633", "HCS UCM Foundation License (12.x)", LadderHCS, 1},
	{"HCSTelePresenceRoom", "regid.2016-07.com.cisco.HCS_UCM_TelePresenceRoom,12.0_37dabd77-8361-42c4-a25e-c3fb2cf94657", "HCS UCM TelePresence Room License (12.x)", LadderHCSTelePresence, 0},
}

// AllEntitlements is the licensing server's catalogue: Enterprise, then HCS.
var AllEntitlements = append(append([]Entitlement{}, Entitlements...), HCSEntitlements...)

// HCSParent is the HCS licence mapped to an Enterprise tier (REFERENCE.md §6,
// seed Table 1): the one a node in HCS mode requests instead, and the first
// HCS licence that serves an Enterprise request by dual parenting. An HCS
// tier maps to itself.
func HCSParent(tier string) (Entitlement, bool) {
	name := map[string]string{
		"Essential": "HCSFoundation", "Basic": "HCSFoundation", "Enhanced": "HCSFoundation",
		"EnhancedPlus": "HCSStandard", "CUWL": "HCSStandard",
		"TelePresenceRoom": "HCSTelePresenceRoom",
	}[tier]
	if name == "" {
		name = tier
	}
	for _, e := range HCSEntitlements {
		if e.Tier == name {
			return e, true
		}
	}
	return Entitlement{}, false
}

// LookupTag finds an entitlement, Enterprise or HCS, by its full tag.
func LookupTag(tag string) (Entitlement, bool) {
	for _, e := range AllEntitlements {
		if e.Tag == tag {
			return e, true
		}
	}
	return Entitlement{}, false
}

// LookupTier finds an entitlement by tier name, ignoring case, spaces, '-' and '_'
// so that "Enhanced Plus", "enhanced-plus" and "EnhancedPlus" all match.
func LookupTier(name string) (Entitlement, bool) {
	want := foldTier(name)
	for i, e := range AllEntitlements {
		if foldedTiers[i] == want {
			return e, true
		}
	}
	return Entitlement{}, false
}

// A report looks tiers up for every line: the replacer is built once and
// the catalog's names are folded once.
var (
	tierFolder  = strings.NewReplacer(" ", "", "-", "", "_", "")
	foldedTiers = func() []string {
		out := make([]string, len(AllEntitlements))
		for i, e := range AllEntitlements {
			out[i] = foldTier(e.Tier)
		}
		return out
	}()
)

func foldTier(s string) string { return strings.ToLower(tierFolder.Replace(s)) }

// TierNames lists the tier names accepted by LookupTier, highest first,
// Enterprise then HCS.
func TierNames() []string {
	names := make([]string, len(AllEntitlements))
	for i, e := range AllEntitlements {
		names[i] = e.Tier
	}
	return names
}

// EnterpriseTierNames lists the Enterprise tiers only, highest first: the
// usage a node's profile counts.
func EnterpriseTierNames() []string { return TierNames()[:len(Entitlements)] }

// HCS reports whether the entitlement is a Hosted Collaboration licence.
func (e Entitlement) HCS() bool { return e.Ladder == LadderHCS || e.Ladder == LadderHCSTelePresence }

var versionSuffix = regexp.MustCompile(`\s*\(\d+\.[xX]\)$`)

// Description strips the " (12.x)" suffix (and the double space before it on Basic).
func Description(displayName string) string {
	return versionSuffix.ReplaceAllString(displayName, "")
}
