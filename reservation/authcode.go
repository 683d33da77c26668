package reservation

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ucmsh/ucmsh/internal/sentence"
)

// Licence types an entitlement can have.
const (
	LicensePerpetual = "PERPETUAL"
	LicenseTerm      = "TERM"
)

// Limits that keep a hostile or mangled code cheap to reject.
const (
	MaxAuthCodeSize   = 256 << 10 // bytes, after CR/LF removal
	MaxEntitlements   = 64
	MaxCount          = 1_000_000
	maxSignatureBytes = 512 // a P-256 DER signature is at most 72
	maxTagLen         = 512
	maxNameLen        = 512
	maxDescLen        = 4096
	maxIDLen          = 256
)

// dateLayout is how the code writes entitlement dates: 2020-Mar-04 UTC.
const dateLayout = "2006-Jan-02 UTC"

// AuthCode is a parsed (or to-be-signed) Reservation Authorization Code.
//
// A parsed code remembers the bytes it was signed over, so Verify checks what
// the server signed even where parsing canonicalised the text (hex case,
// spaces in the UDI). Changing a field afterwards makes it verify against the
// new canonical bytes instead, so a modified code never passes as signed.
type AuthCode struct {
	Flag, Version string
	PIID          string    // product instance ID, a dashed lowercase UUID
	Timestamp     time.Time // when the server issued it, ms precision
	Entitlements  []Entitlement
	ExportAllowed bool // [ucmsh] <exportAllowed>true</exportAllowed>
	Signature     []byte
	UDI           UDI

	signed     []byte // signed bytes as received
	signedAsOf string // canonical signed bytes when signed was taken
}

// Entitlement is one reserved licence. Start and End are zero when the code
// leaves them empty (perpetual licences).
type Entitlement struct {
	Tag            string
	Count          int
	Start, End     time.Time
	Type           string // LicensePerpetual or LicenseTerm
	DisplayName    string
	Description    string
	SubscriptionID string
}

// SignedBytes returns the bytes the signature covers: the
// <authorizationCode>…</authorizationCode> span followed by the <udi> text.
func (ac *AuthCode) SignedBytes() []byte {
	canon := ac.canonicalSigned()
	if ac.signed != nil && canon == ac.signedAsOf {
		return ac.signed
	}
	return []byte(canon)
}

func (ac *AuthCode) canonicalSigned() string {
	var b strings.Builder
	ac.writeAuthorization(&b)
	b.WriteString(RequestCode(ac.UDI))
	return b.String()
}

// Render returns the canonical text of the code, on one line.
func (ac *AuthCode) Render() string {
	var b strings.Builder
	b.WriteString("<specificPLR>")
	ac.writeAuthorization(&b)
	b.WriteString("<signature>")
	b.WriteString(base64.StdEncoding.EncodeToString(ac.Signature))
	b.WriteString("</signature><udi>")
	b.WriteString(RequestCode(ac.UDI))
	b.WriteString("</udi></specificPLR>")
	return b.String()
}

func (ac *AuthCode) writeAuthorization(b *strings.Builder) {
	el := func(name, val string) {
		b.WriteString("<" + name + ">" + val + "</" + name + ">")
	}
	b.WriteString("<authorizationCode>")
	el("flag", ac.Flag)
	el("version", ac.Version)
	el("piid", ac.PIID)
	el("timestamp", strconv.FormatInt(ac.Timestamp.UnixMilli(), 10))
	b.WriteString("<entitlements>")
	for _, e := range ac.Entitlements {
		b.WriteString("<entitlement>")
		el("tag", e.Tag)
		el("count", strconv.Itoa(e.Count))
		el("startDate", formatDate(e.Start))
		el("endDate", formatDate(e.End))
		el("licenseType", e.Type)
		el("displayName", e.DisplayName)
		el("tagDescription", e.Description)
		el("subscriptionID", e.SubscriptionID)
		b.WriteString("</entitlement>")
	}
	b.WriteString("</entitlements>")
	if ac.ExportAllowed {
		el("exportAllowed", "true")
	}
	b.WriteString("</authorizationCode>")
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateLayout)
}

// NormalizeAuthCode undoes what pasting does to a code: it removes every CR
// and LF (terminals wrap long lines anywhere, even inside a tag or the
// base64), then surrounding spaces and one pair of double quotes.
func NormalizeAuthCode(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	}
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// ParseAuthCode reads an authorization code as pasted. The parser is strict
// and hand-written on purpose: the format is fixed, and a general XML parser
// would accept entities, DOCTYPEs and other tricks no licensing server sends.
func ParseAuthCode(s string) (*AuthCode, error) {
	// Cheap bound before copying: wrapping adds at most a CR/LF per column.
	if len(s) > 2*MaxAuthCodeSize {
		return nil, newErr(ErrBadFormat, msgAuthTooLong, len(s), MaxAuthCodeSize)
	}
	s = NormalizeAuthCode(s)
	switch {
	case s == "":
		return nil, newErr(ErrBadFormat, msgAuthEmpty)
	case len(s) > MaxAuthCodeSize:
		return nil, newErr(ErrBadFormat, msgAuthTooLong, len(s), MaxAuthCodeSize)
	case !utf8.ValidString(s):
		return nil, newErr(ErrBadFormat, msgAuthNotUTF8)
	case strings.Contains(s, "&"):
		return nil, newErr(ErrBadFormat, msgAuthEntity)
	case strings.Contains(s, "<!"):
		return nil, newErr(ErrBadFormat, msgAuthDecl, "<!")
	case strings.Contains(s, "<?"):
		return nil, newErr(ErrBadFormat, msgAuthDecl, "<?")
	}
	return (&parser{s: s}).code()
}

// parser walks the code left to right; every element is in a fixed place.
type parser struct {
	s string
	i int
}

// lit consumes the literal tag, reporting a truncated code when the input
// stops inside or before it.
func (p *parser) lit(tag string) error {
	rest := p.s[p.i:]
	if strings.HasPrefix(rest, tag) {
		p.i += len(tag)
		return nil
	}
	if strings.HasPrefix(tag, rest) {
		return newErr(ErrBadFormat, msgAuthTruncated, tag)
	}
	return newErr(ErrBadFormat, msgAuthExpected, tag, p.i+1)
}

// peek reports whether the literal comes next, without consuming it.
func (p *parser) peek(tag string) bool { return strings.HasPrefix(p.s[p.i:], tag) }

// cutShort reports whether the input stops partway into an optional tag, so
// that lit reports it as truncated rather than as the wrong tag.
func (p *parser) cutShort(tag string) bool {
	rest := p.s[p.i:]
	return rest != "" && len(rest) < len(tag) && strings.HasPrefix(tag, rest)
}

// text reads <name>value</name> and returns the raw value, which is checked
// to be printable and at most max bytes long.
func (p *parser) text(name string, max int) (string, error) {
	if err := p.lit("<" + name + ">"); err != nil {
		return "", err
	}
	end := strings.IndexByte(p.s[p.i:], '<')
	if end < 0 {
		return "", newErr(ErrBadFormat, msgAuthTruncated, "</"+name+">")
	}
	v := p.s[p.i : p.i+end]
	p.i += end
	if err := p.lit("</" + name + ">"); err != nil {
		return "", err
	}
	if len(v) > max {
		return "", newErr(ErrBadFormat, msgAuthValue, name, "is longer than "+strconv.Itoa(max)+" characters")
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "", newErr(ErrBadFormat, msgAuthValue, name, "contains a control character")
		}
	}
	return v, nil
}

func (p *parser) code() (*AuthCode, error) {
	ac := &AuthCode{}
	if err := p.lit("<specificPLR>"); err != nil {
		return nil, err
	}
	signedStart := p.i
	if err := p.lit("<authorizationCode>"); err != nil {
		return nil, err
	}
	var err error
	if ac.Flag, err = p.word("flag"); err != nil {
		return nil, err
	}
	if ac.Version, err = p.word("version"); err != nil {
		return nil, err
	}
	piid, err := p.text("piid", 36)
	if err != nil {
		return nil, err
	}
	if _, ok := plainUUID(strings.ToLower(piid), true); !ok {
		return nil, newErr(ErrBadFormat, msgAuthValue, "piid", "is not a UUID in groups 8-4-4-4-12")
	}
	ac.PIID = strings.ToLower(piid)
	ts, err := p.text("timestamp", 15)
	if err != nil {
		return nil, err
	}
	ms, ok := parseDecimal(ts)
	if !ok {
		return nil, newErr(ErrBadFormat, msgAuthValue, "timestamp", "is not a time in milliseconds since 1970")
	}
	ac.Timestamp = time.UnixMilli(ms).UTC()
	if err := p.lit("<entitlements>"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for p.peek("<entitlement>") || p.cutShort("<entitlement>") {
		if len(ac.Entitlements) == MaxEntitlements {
			return nil, newErr(ErrBadFormat, msgAuthTooMany, MaxEntitlements)
		}
		e, err := p.entitlement()
		if err != nil {
			return nil, err
		}
		if seen[e.Tag] {
			return nil, newErr(ErrBadFormat, msgAuthDupTag, e.Tag)
		}
		seen[e.Tag] = true
		ac.Entitlements = append(ac.Entitlements, e)
	}
	if err := p.lit("</entitlements>"); err != nil {
		return nil, err
	}
	if p.peek("<exportAllowed>") || p.cutShort("<exportAllowed>") {
		v, err := p.text("exportAllowed", 5)
		if err != nil {
			return nil, err
		}
		switch v {
		case "true":
			ac.ExportAllowed = true
		case "false":
		default:
			return nil, newErr(ErrBadFormat, msgAuthValue, "exportAllowed", "must be true or false")
		}
	}
	if err := p.lit("</authorizationCode>"); err != nil {
		return nil, err
	}
	signedEnd := p.i
	sig, err := p.text("signature", base64.StdEncoding.EncodedLen(maxSignatureBytes))
	if err != nil {
		return nil, err
	}
	if sig == "" {
		return nil, newErr(ErrBadFormat, msgAuthNoSig)
	}
	if ac.Signature, err = base64.StdEncoding.Strict().DecodeString(sig); err != nil {
		return nil, newErr(ErrBadFormat, msgAuthValue, "signature", "is not valid base64")
	}
	udiText, err := p.text("udi", maxUDILen)
	if err != nil {
		return nil, err
	}
	if ac.UDI, err = ParseRequestCode(udiText); err != nil {
		return nil, newErr(ErrBadFormat, msgAuthUDI, sentence.LowerFirst(err.Error()))
	}
	if err := p.lit("</specificPLR>"); err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, newErr(ErrBadFormat, msgAuthTrailing, p.i+1)
	}
	ac.signed = []byte(p.s[signedStart:signedEnd] + udiText)
	ac.signedAsOf = ac.canonicalSigned()
	return ac, nil
}

// word reads a short code letter such as <flag>A</flag>.
func (p *parser) word(name string) (string, error) {
	v, err := p.text(name, 8)
	if err != nil {
		return "", err
	}
	if v == "" {
		return "", newErr(ErrBadFormat, msgAuthValue, name, "is empty")
	}
	for i := 0; i < len(v); i++ {
		if !isAlnum(v[i]) {
			return "", newErr(ErrBadFormat, msgAuthValue, name, "must be letters or digits")
		}
	}
	return v, nil
}

func (p *parser) entitlement() (Entitlement, error) {
	var e Entitlement
	if err := p.lit("<entitlement>"); err != nil {
		return e, err
	}
	var err error
	if e.Tag, err = p.text("tag", maxTagLen); err != nil {
		return e, err
	}
	if e.Tag == "" || strings.ContainsAny(e.Tag, " \u00a0") {
		return e, newErr(ErrBadFormat, msgAuthValue, "tag", "must be a non-empty entitlement tag without spaces")
	}
	count, err := p.text("count", 7)
	if err != nil {
		return e, err
	}
	n, ok := parseDecimal(count)
	if !ok || n > MaxCount {
		return e, newErr(ErrBadFormat, msgAuthValue, "count", "must be a whole number from 0 to "+strconv.Itoa(MaxCount))
	}
	e.Count = int(n)
	if e.Start, err = p.date("startDate"); err != nil {
		return e, err
	}
	if e.End, err = p.date("endDate"); err != nil {
		return e, err
	}
	if e.Type, err = p.text("licenseType", 16); err != nil {
		return e, err
	}
	if e.Type != LicensePerpetual && e.Type != LicenseTerm {
		return e, newErr(ErrBadFormat, msgAuthValue, "licenseType", "must be PERPETUAL or TERM")
	}
	if e.DisplayName, err = p.text("displayName", maxNameLen); err != nil {
		return e, err
	}
	if e.Description, err = p.text("tagDescription", maxDescLen); err != nil {
		return e, err
	}
	if e.SubscriptionID, err = p.text("subscriptionID", maxIDLen); err != nil {
		return e, err
	}
	if err := p.lit("</entitlement>"); err != nil {
		return e, err
	}
	if e.Type == LicenseTerm && (e.Start.IsZero() || e.End.IsZero()) {
		return e, newErr(ErrBadFormat, msgAuthTermDates, e.Tag)
	}
	if !e.Start.IsZero() && !e.End.IsZero() && e.End.Before(e.Start) {
		return e, newErr(ErrBadFormat, msgAuthDateOrder, e.Tag)
	}
	return e, nil
}

// date reads an empty element or a day such as 2020-Mar-04 UTC.
func (p *parser) date(name string) (time.Time, error) {
	v, err := p.text(name, len("2006-Sep-02 UTC"))
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(dateLayout, v)
	// Years before 1970 would collide with the zero time that means "empty".
	if err != nil || t.Year() < 1970 {
		return time.Time{}, newErr(ErrBadFormat, msgAuthValue, name, "is not a date like 2020-Mar-04 UTC")
	}
	return t, nil
}

// parseDecimal accepts plain digits without sign or leading zeros, so each
// number has exactly one spelling.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 15 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
