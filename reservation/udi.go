package reservation

import (
	"strings"
)

// UDI is a node's Unique Device Identifier. UUID is 32 lowercase hex digits
// without dashes and SN is its last five digits, as CUCM reports them.
type UDI struct{ PID, SN, UUID string }

// String gives the form `show license UDI` prints:
// PID:UCM,SN:37624,UUID:6fe83addc80240bc92dc071ac7a37624.
func (u UDI) String() string {
	return "PID:" + u.PID + ",SN:" + u.SN + ",UUID:" + u.UUID
}

// RequestCode gives the code `license smart reservation request` prints:
// P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920 (the UUID dashed).
func RequestCode(u UDI) string {
	return "P:" + u.PID + ",S:" + u.SN + ",U:" + dashUUID(u.UUID)
}

// NewUDI builds a UDI from a product ID and a UUID (dashed or not, any case),
// deriving the serial number, so both sides spell it the same way.
func NewUDI(pid, uuid string) (UDI, error) {
	plain := strings.ToLower(strings.ReplaceAll(uuid, "-", ""))
	sn := ""
	if len(plain) >= 5 {
		sn = plain[len(plain)-5:]
	}
	return ParseUDI("PID:" + pid + ",SN:" + sn + ",UUID:" + plain)
}

// udiForm describes one spelling of a UDI: the long one of `show license UDI`
// or the short one of the request code.
type udiForm struct {
	name               string // what the user calls it
	pid, sn, uuid      string // key prefixes
	dashed             bool
	example, uuidShape string
}

var (
	requestForm = udiForm{
		name: "request code", pid: "P:", sn: "S:", uuid: "U:", dashed: true,
		example:   "P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920",
		uuidShape: "32 hex digits in groups 8-4-4-4-12",
	}
	udiLongForm = udiForm{
		name: "UDI", pid: "PID:", sn: "SN:", uuid: "UUID:",
		example:   "PID:UCM,SN:37624,UUID:6fe83addc80240bc92dc071ac7a37624",
		uuidShape: "32 hex digits without dashes",
	}
)

// ParseRequestCode reads a request code, tolerating CR/LF anywhere (terminal
// wrapping), spaces after the commas and upper-case hex (people retype
// codes), and returns the canonical UDI.
func ParseRequestCode(s string) (UDI, error) { return parseUDI(s, requestForm) }

// ParseUDI reads the long PID:…,SN:…,UUID:… form with the same tolerance.
func ParseUDI(s string) (UDI, error) { return parseUDI(s, udiLongForm) }

const maxUDILen = 256

func parseUDI(s string, f udiForm) (UDI, error) {
	// Like the authorization code, a pasted code may be wrapped anywhere.
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return UDI{}, newErr(ErrBadFormat, msgReqEmpty, f.name, f.example)
	}
	if len(s) > maxUDILen {
		return UDI{}, newErr(ErrBadFormat, msgReqTooLong, f.name, len(s))
	}
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return UDI{}, newErr(ErrBadFormat, msgReqShape, f.name, s, f.example)
	}
	var vals [3]string
	for i, key := range []string{f.pid, f.sn, f.uuid} {
		p := parts[i]
		if i > 0 {
			p = strings.TrimLeft(p, " ")
		}
		v, ok := strings.CutPrefix(p, key)
		if !ok {
			return UDI{}, newErr(ErrBadFormat, msgReqShape, f.name, s, f.example)
		}
		vals[i] = v
	}
	pid, sn, uuid := vals[0], strings.ToLower(vals[1]), strings.ToLower(vals[2])
	if !validPID(pid) {
		return UDI{}, newErr(ErrBadFormat, msgReqPID, f.name, pid)
	}
	plain, ok := plainUUID(uuid, f.dashed)
	if !ok {
		return UDI{}, newErr(ErrBadFormat, msgReqUUID, f.name, vals[2], f.uuidShape)
	}
	if sn != plain[27:] {
		return UDI{}, newErr(ErrBadFormat, msgReqSN, f.name, vals[1], plain[27:])
	}
	return UDI{PID: pid, SN: sn, UUID: plain}, nil
}

func validPID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// plainUUID checks a lowercase UUID in the given shape and returns it as
// 32 hex digits.
func plainUUID(s string, dashed bool) (string, bool) {
	if dashed {
		if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(s) != 32 || !isLowerHex(s) {
		return "", false
	}
	return s, true
}

func dashUUID(s string) string {
	if len(s) != 32 {
		return s
	}
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

func (u UDI) valid() bool {
	_, ok := plainUUID(u.UUID, false)
	return ok && validPID(u.PID) && u.SN == u.UUID[27:]
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
