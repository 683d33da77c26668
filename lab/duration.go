package lab

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxAdvance is the longest jump of the lab clock: a hundred years.
const maxAdvance = 100 * 365 * 24 * time.Hour

var clockUnits = map[string]time.Duration{"h": time.Hour, "m": time.Minute, "s": time.Second}

// ParseAdvance reads a jump of the lab clock from now: whole numbers with
// units y (years), mo (months), w, d, h, m, s, in any combination
// ("30d", "7mo", "1d12h"); years and months are calendar ones.
func ParseAdvance(s string, now time.Time) (time.Duration, error) {
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf(msgBadAdvance, s)
	}
	rest := strings.TrimSpace(s)
	if rest == "" || len(rest) > 64 {
		return bad()
	}
	t := now
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 7 {
			return bad()
		}
		n, _ := strconv.Atoi(rest[:i])
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		switch unit {
		case "y":
			t = t.AddDate(n, 0, 0)
		case "mo":
			t = t.AddDate(0, n, 0)
		case "w":
			t = t.AddDate(0, 0, 7*n)
		case "d":
			t = t.AddDate(0, 0, n)
		case "h", "m", "s":
			unit := clockUnits[unit]
			if time.Duration(n) > maxAdvance/unit {
				return 0, fmt.Errorf(msgAdvanceTooFar, s) // and n*unit would overflow
			}
			t = t.Add(time.Duration(n) * unit)
		default:
			return bad()
		}
	}
	d := t.Sub(now) // saturates rather than overflowing
	if d > maxAdvance {
		return 0, fmt.Errorf(msgAdvanceTooFar, s)
	}
	return d, nil
}
