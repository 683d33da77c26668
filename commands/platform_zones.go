package commands

import (
	"fmt"
	"time"
)

// LongZoneName is the zone's long name for the season t falls in, with
// the IANA id, as show status and show timezone config print it
// ("India Standard Time (Asia/Kolkata)", "Central Daylight Time
// (America/Mexico_City)").
func LongZoneName(t time.Time) string { return ZoneName(t) + " (" + t.Location().String() + ")" }

// ZoneName is the long name alone. The names are Java's, which VOS uses;
// a zone not in the table is named by its offset ("GMT+05:45"), as Java
// does.
func ZoneName(t time.Time) string {
	name, ok := zoneNames[t.Location().String()]
	if !ok {
		_, off := t.Zone()
		sign := '+'
		if off < 0 {
			sign, off = '-', -off
		}
		return fmt.Sprintf("GMT%c%02d:%02d", sign, off/3600, off/60%60)
	}
	if t.IsDST() && name[1] != "" {
		return name[1]
	}
	return name[0]
}

// zoneNames are the standard and daylight names of the zones CUCM nodes
// commonly run in.
var zoneNames = map[string][2]string{
	"UTC":                            {"Coordinated Universal Time"},
	"Etc/UTC":                        {"Coordinated Universal Time"},
	"GMT":                            {"Greenwich Mean Time"},
	"Europe/London":                  {"Greenwich Mean Time", "British Summer Time"},
	"Europe/Dublin":                  {"Greenwich Mean Time", "Irish Summer Time"},
	"Europe/Lisbon":                  {"Western European Time", "Western European Summer Time"},
	"Europe/Paris":                   {"Central European Time", "Central European Summer Time"},
	"Europe/Berlin":                  {"Central European Time", "Central European Summer Time"},
	"Europe/Amsterdam":               {"Central European Time", "Central European Summer Time"},
	"Europe/Brussels":                {"Central European Time", "Central European Summer Time"},
	"Europe/Madrid":                  {"Central European Time", "Central European Summer Time"},
	"Europe/Rome":                    {"Central European Time", "Central European Summer Time"},
	"Europe/Vienna":                  {"Central European Time", "Central European Summer Time"},
	"Europe/Zurich":                  {"Central European Time", "Central European Summer Time"},
	"Europe/Stockholm":               {"Central European Time", "Central European Summer Time"},
	"Europe/Oslo":                    {"Central European Time", "Central European Summer Time"},
	"Europe/Copenhagen":              {"Central European Time", "Central European Summer Time"},
	"Europe/Warsaw":                  {"Central European Time", "Central European Summer Time"},
	"Europe/Prague":                  {"Central European Time", "Central European Summer Time"},
	"Europe/Budapest":                {"Central European Time", "Central European Summer Time"},
	"Europe/Athens":                  {"Eastern European Time", "Eastern European Summer Time"},
	"Europe/Helsinki":                {"Eastern European Time", "Eastern European Summer Time"},
	"Europe/Bucharest":               {"Eastern European Time", "Eastern European Summer Time"},
	"Europe/Kiev":                    {"Eastern European Time", "Eastern European Summer Time"},
	"Europe/Istanbul":                {"Turkey Time"},
	"Europe/Moscow":                  {"Moscow Standard Time"},
	"Asia/Jerusalem":                 {"Israel Standard Time", "Israel Daylight Time"},
	"Asia/Dubai":                     {"Gulf Standard Time"},
	"Asia/Riyadh":                    {"Arabia Standard Time"},
	"Asia/Karachi":                   {"Pakistan Time"},
	"Asia/Kolkata":                   {"India Standard Time"},
	"Asia/Calcutta":                  {"India Standard Time"},
	"Asia/Dhaka":                     {"Bangladesh Time"},
	"Asia/Bangkok":                   {"Indochina Time"},
	"Asia/Jakarta":                   {"West Indonesia Time"},
	"Asia/Singapore":                 {"Singapore Time"},
	"Asia/Kuala_Lumpur":              {"Malaysia Time"},
	"Asia/Hong_Kong":                 {"Hong Kong Time"},
	"Asia/Shanghai":                  {"China Standard Time"},
	"Asia/Taipei":                    {"China Standard Time"},
	"Asia/Manila":                    {"Philippines Time"},
	"Asia/Seoul":                     {"Korea Standard Time"},
	"Asia/Tokyo":                     {"Japan Standard Time"},
	"Australia/Perth":                {"Australian Western Standard Time"},
	"Australia/Adelaide":             {"Australian Central Standard Time", "Australian Central Daylight Time"},
	"Australia/Brisbane":             {"Australian Eastern Standard Time"},
	"Australia/Sydney":               {"Australian Eastern Standard Time", "Australian Eastern Daylight Time"},
	"Australia/Melbourne":            {"Australian Eastern Standard Time", "Australian Eastern Daylight Time"},
	"Pacific/Auckland":               {"New Zealand Standard Time", "New Zealand Daylight Time"},
	"Africa/Johannesburg":            {"South Africa Standard Time"},
	"Africa/Cairo":                   {"Eastern European Time", "Eastern European Summer Time"},
	"Africa/Lagos":                   {"West Africa Time"},
	"Africa/Nairobi":                 {"East Africa Time"},
	"America/St_Johns":               {"Newfoundland Standard Time", "Newfoundland Daylight Time"},
	"America/Halifax":                {"Atlantic Standard Time", "Atlantic Daylight Time"},
	"America/New_York":               {"Eastern Standard Time", "Eastern Daylight Time"},
	"America/Toronto":                {"Eastern Standard Time", "Eastern Daylight Time"},
	"America/Detroit":                {"Eastern Standard Time", "Eastern Daylight Time"},
	"America/Chicago":                {"Central Standard Time", "Central Daylight Time"},
	"America/Winnipeg":               {"Central Standard Time", "Central Daylight Time"},
	"America/Mexico_City":            {"Central Standard Time", "Central Daylight Time"},
	"America/Denver":                 {"Mountain Standard Time", "Mountain Daylight Time"},
	"America/Phoenix":                {"Mountain Standard Time"},
	"America/Edmonton":               {"Mountain Standard Time", "Mountain Daylight Time"},
	"America/Los_Angeles":            {"Pacific Standard Time", "Pacific Daylight Time"},
	"America/Vancouver":              {"Pacific Standard Time", "Pacific Daylight Time"},
	"America/Anchorage":              {"Alaska Standard Time", "Alaska Daylight Time"},
	"Pacific/Honolulu":               {"Hawaii Standard Time"},
	"America/Bogota":                 {"Colombia Time"},
	"America/Lima":                   {"Peru Time"},
	"America/Caracas":                {"Venezuela Time"},
	"America/Santiago":               {"Chile Time", "Chile Summer Time"},
	"America/Sao_Paulo":              {"Brasilia Time"},
	"America/Argentina/Buenos_Aires": {"Argentine Time"},
}
