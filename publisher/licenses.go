package publisher

import "strings"

// License is one CUCM license type (REFERENCE §5). The order of Licenses is
// the tier order, highest first; TelePresence Room is a ladder of its own.
type License struct {
	Key         string // short name used in profiles and flags
	Tag         string // entitlement tag
	DisplayName string
	Version     string
	Ladder      string
}

// Licenses lists every license type a CUCM node reports, in report order.
var Licenses = []License{
	{"CUWL", "regid.2017-02.com.cisco.UCM_CUWL,12.0_cc59375a-1cd8-4b36-8366-6f4d2abba965", "UC Manager CUWL License (12.X)", "12.0", "user"},
	{"EnhancedPlus", "regid.2016-07.com.cisco.UCM_EnhancedPlus,12.0_d8372792-588c-4caa-b279-8587e5ce2f82", "UC Manager Enhanced Plus License (12.x)", "12.0", "user"},
	{"Enhanced", "regid.2016-07.com.cisco.UCM_Enhanced,12.0_66d0d1cf-4863-4761-91d0-d01d3eb1949a", "UC Manager Enhanced License (12.x)", "12.0", "user"},
	{"Basic", "regid.2016-07.com.cisco.UCM_Basic,12.0_ef827a2f-f4ae-4ebb-887f-052737063d3a", "UC Manager Basic License  (12.x)", "12.0", "user"},
	{"Essential", "regid.2016-07.com.cisco.UCM_Essential,12.0_25f9c396-c67c-4519-aa98-d4b3ad18f805", "UC Manager Essential License (12.x)", "12.0", "user"},
	{"TelePresenceRoom", "regid.2016-07.com.cisco.UCM_TelePresenceRoom,12.0_d9a71418-29e9-4c9a-9d3a-1366ebe38e7c", "UC Manager TelePresence Room License (12.x)", "12.0", "room"},
}

// LicenseByKey finds a license type by its short name, ignoring case.
func LicenseByKey(key string) (License, bool) {
	for _, l := range Licenses {
		if strings.EqualFold(l.Key, key) {
			return l, true
		}
	}
	return License{}, false
}

// LicenseKeys lists the short names, for messages.
func LicenseKeys() []string {
	keys := make([]string, len(Licenses))
	for i, l := range Licenses {
		keys[i] = l.Key
	}
	return keys
}
