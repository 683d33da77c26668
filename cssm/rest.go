package cssm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/sentence"
	"github.com/ucmsh/ucmsh/reservation"
)

// The REST API that automation written for CSSM and SSM On-Prem uses
// (/work/shared/CSSM-API.md): OAuth token endpoints, then registration
// tokens, licences, transfers, reservations and devices under the path
// prefixes real clients use. Bodies are JSON; errors are
// {"status": "ERROR", "statusMessage": "..."} (token endpoint: {"error": ...}).

// tokenPaths are the OAuth token endpoints of CSSM, id.cisco.com and On-Prem.
var tokenPaths = map[string]bool{"/as/token.oauth2": true, "/oauth2/default/v1/token": true, "/oauth/token": true, "/backend/oauth/token": true}

// restPrefixes are the path prefixes of the resources, longest first.
var restPrefixes = []string{
	"/services/api/smart-accounts-and-licensing/v1",
	"/services/api/smart-accounts-and-licensing/v2",
	"/v1/software/apis/licensing/v2",
	"/backend/api/v1",
	"/api/v1",
}

// maxRESTBody bounds a REST request body.
const maxRESTBody = 1 << 20

// cleanPath collapses doubled slashes: a client writes //services/... and a
// redirect would turn its POST into a GET.
func cleanPath(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

// isREST reports whether path belongs to the REST API.
func isREST(path string) bool {
	path = cleanPath(path)
	if tokenPaths[path] {
		return true
	}
	for _, p := range restPrefixes {
		if strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// restError is an answer {"status": "ERROR", "statusMessage": msg}.
type restError struct {
	status int
	msg    string
	extra  map[string]any
}

func (e *restError) Error() string { return e.msg }

func restFail(status int, format string, args ...any) *restError {
	return &restError{status: status, msg: fmt.Sprintf(format, args...)}
}

func writeREST(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // codes are XML: <specificPLR>, not \u003cspecificPLR\u003e
	_ = enc.Encode(v)
}

func writeRESTError(w http.ResponseWriter, err error) {
	var re *restError
	if !errors.As(err, &re) {
		if dbe, ok := errors.AsType[*dbError](err); ok {
			re = restFail(http.StatusServiceUnavailable, "%s", errDatabase(dbe).Error())
		} else if ae, ok := errors.AsType[*cssmapi.Error](err); ok {
			re = restFail(http.StatusBadRequest, "%s", ae.Message)
		} else {
			re = restFail(http.StatusBadRequest, "%s", sentence.UpperFirst(err.Error())+".")
		}
	}
	body := map[string]any{"status": "ERROR", "statusMessage": re.msg}
	for k, v := range re.extra {
		body[k] = v
	}
	writeREST(w, re.status, body)
}

// serveREST answers the REST API.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	path := cleanPath(r.URL.Path)
	if tokenPaths[path] {
		s.serveToken(w, r)
		return
	}
	prefix := ""
	for _, p := range restPrefixes {
		if strings.HasPrefix(path, p+"/") {
			prefix = p
			break
		}
	}
	now := s.clock.Now()
	var g *grant
	tok := bearer(r)
	if err := s.store.View(func(st *State) error { g = st.bearerGrant(tok, now); return nil }); err != nil {
		writeRESTError(w, err)
		return
	}
	if g == nil {
		// On-Prem's /backend answers 403 (a client waits for exactly that);
		// the cloud answers 401, which clients take as "get a new token".
		status := http.StatusUnauthorized
		if prefix == "/backend/api/v1" {
			status = http.StatusForbidden
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cssm"`)
		}
		writeREST(w, status, map[string]any{"status": "ERROR", "statusMessage": msgRESTNoBearer, "error": "invalid_token"})
		return
	}
	segs := strings.Split(strings.Trim(strings.TrimPrefix(path, prefix), "/"), "/")
	h, readOnly, ok := route(r.Method, segs)
	if !ok {
		writeRESTError(w, restFail(http.StatusNotFound, msgRESTNoResource, r.Method, path))
		return
	}
	if !readOnly && !g.access.Writes() {
		writeRESTError(w, restFail(http.StatusForbidden, msgRESTReadOnly, g.subject))
		return
	}
	if err := s.store.View(func(st *State) error { return st.restAllowed(g, segs, readOnly) }); err != nil {
		writeRESTError(w, err)
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxRESTBody))
		if err != nil {
			writeRESTError(w, restFail(http.StatusRequestEntityTooLarge, msgRESTBodyTooLarge, maxRESTBody))
			return
		}
	}
	status, v, err := h(s, &restCall{segs: segs, query: r.URL.Query(), body: body, now: now, grant: g})
	if err != nil {
		writeRESTError(w, err)
		return
	}
	writeREST(w, status, v)
}

type restCall struct {
	segs  []string
	query url.Values
	body  []byte
	now   time.Time
	grant *grant
}

type restHandler func(s *Server, c *restCall) (int, any, error)

// route matches accounts/{a}/... paths; readOnly marks calls that change nothing.
func route(method string, segs []string) (restHandler, bool, bool) {
	n := len(segs)
	if n == 1 && segs[0] == "accounts" && method == http.MethodGet {
		return listAccounts, true, true
	}
	if n == 2 && segs[0] == "accounts" && segs[1] == "search" && method == http.MethodGet {
		return searchAccounts, true, true
	}
	if n < 2 || segs[0] != "accounts" || segs[1] == "" {
		return nil, false, false
	}
	tail := strings.Join(segs[2:], "/")
	isVA := n >= 4 && segs[2] == "virtual-accounts" && segs[3] != ""
	vaTail := ""
	if isVA {
		vaTail = strings.Join(segs[4:], "/")
	}
	if h, ro, ok := routePortal(method, isVA, vaTail); ok {
		return h, ro, ok
	}
	switch {
	case isVA && vaTail == "tokens" && method == http.MethodGet:
		return listTokens, true, true
	case isVA && vaTail == "tokens" && method == http.MethodPost:
		return createToken, false, true
	case isVA && vaTail == "tokens/revoke" && method == http.MethodPost:
		return revokeTokens, false, true
	case isVA && vaTail == "licenses/transfer" && method == http.MethodPost:
		return transferLicenses, false, true
	case isVA && vaTail == "reserve-licenses" && method == http.MethodPost:
		return reserveLicenses, false, true
	case isVA && vaTail == "update-licenses" && method == http.MethodPost:
		return updateLicenses, false, true
	case isVA && vaTail == "confirm-licenses" && method == http.MethodPost:
		return confirmLicenses, false, true
	case isVA && vaTail == "devices/remove" && method == http.MethodPost:
		return removeDevices, false, true
	case tail == "licenses" && method == http.MethodPost:
		return listLicenses, true, true
	case tail == "devices" && method == http.MethodGet:
		return listDevices, true, true
	case tail == "customer/virtual-accounts" && method == http.MethodGet:
		return listVirtualAccounts, true, true
	}
	return nil, false, false
}

// decodeStrict decodes a JSON object, refusing unknown fields except those
// in ignore (stray fields real clients send).
func decodeStrict(body []byte, v any, ignore ...string) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return restFail(http.StatusBadRequest, msgRESTNotJSON, err)
	}
	for _, k := range ignore {
		delete(raw, k)
	}
	clean, _ := json.Marshal(raw)
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return restFail(http.StatusBadRequest, msgRESTBadFields, err)
	}
	return nil
}

// flexInt is a count sent as 30, 30.0 or "30".
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1e9 {
		return fmt.Errorf("%s is not a whole number", b)
	}
	*f = flexInt(v)
	return nil
}

// restSmartAccount finds the smart account by name (as On-Prem) or domain.
func (st *State) restSmartAccount(account string) (*SmartAccount, error) {
	sa := st.findSA(account)
	if sa == nil {
		for _, x := range st.smartAccounts() {
			if strings.EqualFold(x.Name, account) {
				sa = x
			}
		}
	}
	if sa == nil {
		return nil, restFail(http.StatusNotFound, msgRESTNoSmartAccount, account)
	}
	return sa, nil
}

// restAccount finds the smart account and its virtual account va. An empty
// va (a body's "virtualAccounts":[""]) names no virtual account.
func (st *State) restAccount(account, va string) (*SmartAccount, *VirtualAccount, error) {
	sa, err := st.restSmartAccount(account)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range sa.VirtualAccounts {
		if v.Name == va {
			return sa, v, nil
		}
	}
	return nil, nil, restFail(http.StatusNotFound, msgRESTNoVirtualAccount, sa.Name, va)
}

type tokenInfo struct {
	Token            string `json:"token"`
	Description      string `json:"description"`
	ExpirationDate   string `json:"expirationDate"`
	ExportControlled string `json:"exportControlled"`
	MaxUses          int    `json:"maxUses,omitempty"`
	Uses             int    `json:"usesCount"`
	Status           string `json:"status"`
	CreatedBy        string `json:"createdBy,omitempty"`
}

func exportText(allowed bool) string {
	if allowed {
		return "Allowed"
	}
	return "Not Allowed"
}

func infoOf(text string, t *Token, now time.Time) tokenInfo {
	status := "VALID"
	switch {
	case !t.Revoked.IsZero():
		status = "REVOKED"
	case !now.Before(t.Expires):
		status = "EXPIRED"
	case t.MaxUses > 0 && t.Uses >= t.MaxUses:
		status = "USED"
	}
	return tokenInfo{Token: text, Description: t.Description, ExpirationDate: t.Expires.UTC().Format(time.RFC3339),
		ExportControlled: exportText(t.AllowExport), MaxUses: t.MaxUses, Uses: t.Uses, Status: status}
}

// listTokens: GET .../virtual-accounts/{va}/tokens; usable tokens first (a
// client registers with the first), newest first.
func listTokens(s *Server, c *restCall) (int, any, error) {
	var out []tokenInfo
	err := s.store.View(func(st *State) error {
		if _, _, err := st.restAccount(c.segs[1], c.segs[3]); err != nil {
			return err
		}
		for _, r := range st.tokensOf(c.segs[3], c.now) {
			out = append(out, r.info)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if out == nil {
		out = []tokenInfo{}
	}
	return http.StatusOK, map[string]any{"tokens": out, "status": "SUCCESS", "statusMessage": ""}, nil
}

// createToken: POST .../virtual-accounts/{va}/tokens.
func createToken(s *Server, c *restCall) (int, any, error) {
	var req struct {
		Description      string   `json:"description"`
		ExpiresAfterDays *flexInt `json:"expiresAfterDays"`
		ExportControlled *string  `json:"exportControlled"`
		MaxUses          *flexInt `json:"maxUses"`
	}
	if err := decodeStrict(c.body, &req, "limit", "offset"); err != nil {
		return 0, nil, err
	}
	opt := TokenOptions{ExpiresDays: 30}
	if req.ExpiresAfterDays != nil {
		opt.ExpiresDays = int(*req.ExpiresAfterDays)
	}
	if req.MaxUses != nil {
		opt.MaxUses = int(*req.MaxUses)
	}
	if req.ExportControlled != nil {
		switch strings.ToLower(strings.TrimSpace(*req.ExportControlled)) {
		case "allowed":
			opt.AllowExport = true
		case "not allowed", "notallowed", "not_allowed":
		default:
			return 0, nil, restFail(http.StatusBadRequest, msgRESTExportControlled, *req.ExportControlled)
		}
	}
	if len(req.Description) > 255 {
		return 0, nil, restFail(http.StatusBadRequest, msgRESTDescription)
	}
	if err := checkText("description", req.Description, false); err != nil {
		return 0, nil, err
	}
	var info tokenInfo
	err := s.store.Update(func(st *State) error {
		st.actor, st.now = c.grant.subject, c.now
		if _, _, err := st.restAccount(c.segs[1], c.segs[3]); err != nil {
			return err
		}
		text, t, err := newToken(c.segs[3], opt, c.now)
		if err != nil {
			return err
		}
		t.Description = req.Description
		st.putToken(text, t)
		st.event(c.segs[3], EventTokenCreated, tokenDetail(text, t))
		info = infoOf(text, t, c.now)
		info.CreatedBy = c.grant.subject
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"tokenInfo": info, "status": "SUCCESS", "statusMessage": ""}, nil
}

// revokeTokens: POST .../virtual-accounts/{va}/tokens/revoke
// {"tokens": [{"token": "...", "reason": "..."}]}; all or none.
func revokeTokens(s *Server, c *restCall) (int, any, error) {
	var req struct {
		Tokens []struct {
			Token  string `json:"token"`
			Reason string `json:"reason"`
		} `json:"tokens"`
	}
	if err := decodeStrict(c.body, &req); err != nil {
		return 0, nil, err
	}
	if len(req.Tokens) == 0 || len(req.Tokens) > 100 {
		return 0, nil, restFail(http.StatusBadRequest, msgRESTRevokeCount, len(req.Tokens))
	}
	err := s.store.Update(func(st *State) error {
		st.actor, st.now = c.grant.subject, c.now
		if _, _, err := st.restAccount(c.segs[1], c.segs[3]); err != nil {
			return err
		}
		for _, r := range req.Tokens {
			if !st.revokeToken(c.segs[3], r.Token, c.now) {
				return restFail(http.StatusNotFound, msgRESTNoToken, c.segs[3], shorten(r.Token))
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"status": "SUCCESS", "statusMessage": fmt.Sprintf(msgRESTRevoked, len(req.Tokens))}, nil
}

func shorten(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

type licenseDetail struct {
	LicenseType    string `json:"licenseType"`
	Quantity       int    `json:"quantity"`
	StartDate      string `json:"startDate"`
	EndDate        string `json:"endDate"`
	SubscriptionID string `json:"subscriptionId"`
	Status         string `json:"status"`
}

type licenseSubstitution struct {
	LicenseName         string `json:"licenseName"`
	SubstitutedLicense  string `json:"substitutedLicense"`
	SubstitutedQuantity int    `json:"substitutedQuantity"`
	SubstitutionType    string `json:"substitutionType"`
}

type licenseRecord struct {
	License              string                `json:"license"`
	EntitlementTag       string                `json:"entitlementTag"`
	VirtualAccount       string                `json:"virtualAccount"`
	Quantity             int                   `json:"quantity"`
	InUse                int                   `json:"inUse"`
	Available            int                   `json:"available"`
	Reserved             int                   `json:"reserved"`
	PendingQuantity      int                   `json:"pendingQuantity"`
	Status               string                `json:"status"`
	BillingType          string                `json:"billingType"`
	IsPortable           bool                  `json:"isPortable"`
	AhaApps              bool                  `json:"ahaApps"`
	LicenseDetails       []licenseDetail       `json:"licenseDetails"`
	LicenseSubstitutions []licenseSubstitution `json:"licenseSubstitutions"`
}

// listLicenses: POST accounts/{a}/licenses {"virtualAccounts": [...], "limit", "offset"}.
func listLicenses(s *Server, c *restCall) (int, any, error) {
	var req struct {
		VirtualAccounts []string `json:"virtualAccounts"`
		Limit           *flexInt `json:"limit"`
		Offset          *flexInt `json:"offset"`
	}
	if len(bytes.TrimSpace(c.body)) == 0 {
		c.body = []byte("{}")
	}
	if err := decodeStrict(c.body, &req); err != nil {
		return 0, nil, err
	}
	limit, offset := 50, 0
	if req.Limit != nil {
		limit = int(*req.Limit)
	}
	if req.Offset != nil {
		offset = int(*req.Offset)
	}
	if limit < 1 || limit > 1000 || offset < 0 {
		return 0, nil, restFail(http.StatusBadRequest, msgRESTPaging, limit, offset)
	}
	var all []licenseRecord
	err := s.store.View(func(st *State) error {
		sa, err := st.restSmartAccount(c.segs[1])
		if err != nil {
			return err
		}
		var vas []*VirtualAccount
		if len(req.VirtualAccounts) == 0 {
			vas = sa.VirtualAccounts
		}
		for _, name := range req.VirtualAccounts {
			_, va, err := st.restAccount(sa.Name, name)
			if err != nil {
				return err
			}
			vas = append(vas, va)
		}
		for _, va := range vas {
			all = append(all, licenseRecords(st, va, c.now)...)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	total := len(all)
	page := all[min(offset, total):min(offset+limit, total)]
	if page == nil {
		page = []licenseRecord{}
	}
	return http.StatusOK, map[string]any{"totalRecords": total, "status": "SUCCESS", "statusMessage": "", "licenses": page}, nil
}

// licenseRecords is one record per entitlement the virtual account holds or uses.
func licenseRecords(st *State, va *VirtualAccount, now time.Time) []licenseRecord {
	var out []licenseRecord
	display := map[string]string{}
	for _, e := range cssmapi.AllEntitlements {
		display[e.Tag] = e.DisplayName
	}
	for _, b := range st.balances(va, now) {
		if b.Purchased == 0 && b.InUse == 0 && b.Reserved == 0 {
			continue
		}
		rec := licenseRecord{
			License: b.DisplayName, EntitlementTag: b.Tag, VirtualAccount: va.Name,
			Quantity: b.Purchased, InUse: b.InUse, Reserved: b.Reserved, Available: max(0, b.Balance()),
			Status: b.Status(), BillingType: "PREPAID",
			LicenseDetails: []licenseDetail{}, LicenseSubstitutions: []licenseSubstitution{},
		}
		for _, l := range va.Licenses {
			if l.Tag != b.Tag {
				continue
			}
			d := licenseDetail{LicenseType: l.Type, Quantity: l.Count, StartDate: l.Added.UTC().Format(time.DateOnly), EndDate: l.TermEnd, Status: "ACTIVE"}
			if !l.validAt(now) {
				d.Status = "EXPIRED"
			}
			rec.LicenseDetails = append(rec.LicenseDetails, d)
		}
		// One substitution per licence that serves this one's use: a higher
		// tier, or an HCS licence by dual parenting ([ucmsh] type name).
		for _, sh := range b.ServedBy {
			if sh.Tag == b.Tag {
				continue
			}
			kind := "HIGHER_TIER"
			if e, _ := cssmapi.LookupTag(sh.Tag); e.HCS() != b.HCS() {
				kind = "DUAL_PARENTING"
			}
			rec.LicenseSubstitutions = append(rec.LicenseSubstitutions, licenseSubstitution{
				LicenseName: b.DisplayName, SubstitutedLicense: display[sh.Tag], SubstitutedQuantity: sh.Count, SubstitutionType: kind})
		}
		out = append(out, rec)
	}
	return out
}

// transferLicenses: POST .../virtual-accounts/{va}/licenses/transfer: all
// entries or none; each from licences the source has free (purchased, less
// reserved and in use after substitution).
func transferLicenses(s *Server, c *restCall) (int, any, error) {
	var req struct {
		Licenses []struct {
			License              string   `json:"license"`
			LicenseType          string   `json:"licenseType"`
			Quantity             *flexInt `json:"quantity"`
			TargetVirtualAccount string   `json:"targetVirtualAccount"`
		} `json:"licenses"`
	}
	if err := decodeStrict(c.body, &req); err != nil {
		return 0, nil, err
	}
	if len(req.Licenses) == 0 || len(req.Licenses) > 10 {
		return 0, nil, restFail(http.StatusBadRequest, msgRESTTransferCount, len(req.Licenses))
	}
	moved := 0
	err := s.store.Update(func(st *State) error {
		st.actor, st.now = c.grant.subject, c.now
		sa, src, err := st.restAccount(c.segs[1], c.segs[3])
		if err != nil {
			return err
		}
		for _, l := range req.Licenses {
			e, ok := entitlementByName(l.License)
			if !ok {
				return restFail(http.StatusBadRequest, msgRESTUnknownLicence, l.License, cssmapi.Entitlements[2].DisplayName)
			}
			typ := strings.ToUpper(strings.TrimSpace(l.LicenseType))
			if typ == "" {
				typ = Perpetual
			}
			if typ != Perpetual && typ != Term {
				return restFail(http.StatusBadRequest, msgRESTLicenseType, l.LicenseType)
			}
			if l.Quantity == nil || *l.Quantity < 0 || *l.Quantity > 1_000_000 {
				return restFail(http.StatusBadRequest, msgRESTQuantity, e.DisplayName)
			}
			q := int(*l.Quantity)
			if l.TargetVirtualAccount == src.Name {
				return restFail(http.StatusBadRequest, msgRESTSameAccount, src.Name)
			}
			_, dst, err := st.restAccount(sa.Name, l.TargetVirtualAccount)
			if err != nil {
				return err
			}
			if q == 0 {
				continue
			}
			free := 0
			for _, b := range st.balances(src, c.now) {
				if b.Tag == e.Tag {
					free = max(0, b.Balance())
				}
			}
			ofType := 0
			for _, p := range src.Licenses {
				if p.Tag == e.Tag && p.Type == typ && p.validAt(c.now) {
					ofType += p.Count
				}
			}
			if q > min(free, ofType) {
				return restFail(http.StatusBadRequest, msgRESTNotAvailable, src.Name, min(free, ofType), typ, e.DisplayName, q)
			}
			// Take from the newest purchases; the target gets the same kind.
			for i := len(src.Licenses) - 1; i >= 0 && q > 0; i-- {
				p := &src.Licenses[i]
				if p.Tag != e.Tag || p.Type != typ || !p.validAt(c.now) {
					continue
				}
				take := min(p.Count, q)
				p.Count -= take
				q -= take
				moved += take
				dst.Licenses = append(dst.Licenses, License{Tag: p.Tag, Count: take, Type: p.Type, TermEnd: p.TermEnd, Added: c.now})
			}
			src.Licenses = slices.DeleteFunc(src.Licenses, func(p License) bool { return p.Count == 0 })
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"status": "SUCCESS", "statusMessage": fmt.Sprintf(msgRESTTransferred, moved)}, nil
}

func entitlementByName(name string) (cssmapi.Entitlement, bool) {
	name = strings.Join(strings.Fields(name), " ")
	for _, e := range cssmapi.AllEntitlements {
		if strings.EqualFold(strings.Join(strings.Fields(e.DisplayName), " "), name) || e.Tag == name {
			return e, true
		}
	}
	return cssmapi.Entitlement{}, false
}

// reserveLicenses: POST .../virtual-accounts/{va}/reserve-licenses.
func reserveLicenses(s *Server, c *restCall) (int, any, error) {
	var req struct {
		ReservationRequests []struct {
			ReservationCode string `json:"reservationCode"`
			ReservationType string `json:"reservationType"`
			Licenses        []struct {
				EntitlementTag string   `json:"entitlementTag"`
				Quantity       *flexInt `json:"quantity"`
				Precedence     string   `json:"precedence"`
			} `json:"licenses"`
		} `json:"reservationRequests"`
	}
	if err := decodeStrict(c.body, &req); err != nil {
		return 0, nil, err
	}
	if len(req.ReservationRequests) != 1 {
		return 0, nil, restFail(http.StatusBadRequest, msgRESTOneReservation, len(req.ReservationRequests))
	}
	rr := req.ReservationRequests[0]
	fail := func(msg string) (int, any, error) {
		e := restFail(http.StatusBadRequest, "%s", msg)
		e.extra = map[string]any{"authorizationCodes": []map[string]any{{"reservationCode": rr.ReservationCode, "authorizationCode": "", "statusMessage": msg}}}
		return 0, nil, e
	}
	if t := strings.ToUpper(rr.ReservationType); t != "" && t != "SPECIFIC" {
		return fail(fmt.Sprintf(msgRESTReservationType, rr.ReservationType))
	}
	var specs []LicenseRequest
	for _, l := range rr.Licenses {
		if l.Quantity == nil {
			return fail(fmt.Sprintf(msgRESTNoQuantity, l.EntitlementTag))
		}
		specs = append(specs, LicenseRequest{Tag: strings.TrimSpace(l.EntitlementTag), Count: int(*l.Quantity), Type: Perpetual})
	}
	if err := s.store.View(func(st *State) error {
		_, _, err := st.restAccount(c.segs[1], c.segs[3])
		return err
	}); err != nil {
		return 0, nil, err
	}
	p := &Portal{Store: s.store, Clock: clock.Fixed(c.now)}
	issued, err := p.Reserve(ReserveOptions{Virtual: c.segs[3], Product: rr.ReservationCode, Licenses: specs})
	if err != nil {
		return fail(sentence.UpperFirst(strings.TrimSuffix(err.Error(), ".")) + ".")
	}
	return http.StatusOK, map[string]any{"status": "SUCCESS", "statusMessage": "", "authorizationCodes": []map[string]any{{
		"reservationCode": reservation.RequestCode(mustUDI(issued.UDI)), "authorizationCode": issued.Code, "statusMessage": "",
		"udi": issued.UDI, "productInstanceId": issued.InstanceID,
	}}}, nil
}

func mustUDI(s string) reservation.UDI {
	u, _ := reservation.ParseUDI(s)
	return u
}

type device struct {
	InstanceName       string `json:"instanceName"`
	ProductInstanceID  string `json:"productInstanceId"`
	VirtualAccountName string `json:"virtualAccountName"`
	UDI                string `json:"udi"`
	Sudi               struct {
		UdiPid          string `json:"udiPid"`
		UdiSerialNumber string `json:"udiSerialNumber"`
		UUID            string `json:"uuid"`
	} `json:"sudi"`
	ProductType      string         `json:"productType"`
	Version          string         `json:"version"`
	RegistrationDate string         `json:"registrationDate"`
	LastContactDate  string         `json:"lastContactDate"`
	LicenseUsage     map[string]int `json:"licenseUsage"`
	Reservation      string         `json:"reservationStatus,omitempty"`
}

// listDevices: GET accounts/{a}/devices?virtualAccountName=&instanceName=&limit=&offset=.
func listDevices(s *Server, c *restCall) (int, any, error) {
	limit, offset, err := paging(c.query, 1000)
	if err != nil {
		return 0, nil, err
	}
	vaName, name := c.query.Get("virtualAccountName"), c.query.Get("instanceName")
	var out []device
	total := 0
	err = s.store.View(func(st *State) error {
		sa, err := st.restSmartAccount(c.segs[1])
		if err != nil {
			return err
		}
		var vas []any
		for _, va := range sa.VirtualAccounts {
			if vaName == "" || va.Name == vaName {
				vas = append(vas, va.Name)
			}
		}
		if vaName != "" && len(vas) == 0 {
			return restFail(http.StatusNotFound, msgRESTNoVirtualAccount, sa.Name, vaName)
		}
		if len(vas) == 0 {
			return nil
		}
		where := `va IN (?` + strings.Repeat(`, ?`, len(vas)-1) + `)`
		args := vas
		if name != "" {
			where += ` AND hostname LIKE ? ESCAPE '\'`
			args = append(args, "%"+likeEscape(name)+"%")
		}
		st.tx.row(`SELECT COUNT(*) FROM instances WHERE `+where, args, &total)
		var data string
		var raws []string
		st.tx.rows(`SELECT data FROM instances WHERE `+where+` ORDER BY va, hostname, id LIMIT ? OFFSET ?`, append(args, limit, offset), func() { raws = append(raws, data) }, &data)
		for _, r := range raws {
			var in Instance
			st.decode([]byte(r), &in)
			out = append(out, deviceOf(&in))
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if out == nil {
		out = []device{}
	}
	return http.StatusOK, map[string]any{"devices": out, "totalRecords": total, "status": "SUCCESS", "statusMessage": ""}, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func deviceOf(in *Instance) device {
	d := device{InstanceName: in.Hostname, ProductInstanceID: in.ID, VirtualAccountName: in.VirtualAccount, UDI: in.UDI,
		ProductType: "UCM", Version: in.Version, RegistrationDate: in.Registered.UTC().Format(time.RFC3339),
		LastContactDate: in.LastSeen.UTC().Format(time.RFC3339), LicenseUsage: in.Usage}
	if d.LicenseUsage == nil {
		d.LicenseUsage = map[string]int{}
	}
	for _, part := range strings.Split(in.UDI, ",") {
		k, v, _ := strings.Cut(part, ":")
		switch k {
		case "PID":
			d.Sudi.UdiPid = v
		case "SN":
			d.Sudi.UdiSerialNumber = v
		case "UUID":
			d.Sudi.UUID = v
		}
	}
	if in.Reservation != nil {
		d.Reservation = in.Reservation.State()
	}
	return d
}

// serveToken is the OAuth 2.0 token endpoint: client_credentials or password,
// the fields from the query string, a form body or a JSON body.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		writeREST(w, status, map[string]any{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		oauthErr(http.StatusMethodNotAllowed, "invalid_request", msgOAuthPost)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", msgOAuthTooLarge)
		return
	}
	f := r.URL.Query()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) > 0 && (ct == "application/json" || trimmed[0] == '{'):
		var m map[string]any
		if err := json.Unmarshal(trimmed, &m); err != nil {
			oauthErr(http.StatusBadRequest, "invalid_request", msgOAuthBadJSON)
			return
		}
		for k, v := range m {
			if s, ok := v.(string); ok && f.Get(k) == "" {
				f.Set(k, s)
			}
		}
	case len(trimmed) > 0:
		form, err := url.ParseQuery(string(trimmed))
		if err != nil {
			oauthErr(http.StatusBadRequest, "invalid_request", msgOAuthBadForm)
			return
		}
		for k, v := range form {
			if f.Get(k) == "" && len(v) > 0 {
				f.Set(k, v[0])
			}
		}
	}
	// HTTP Basic carries the client's credentials too (RFC 6749 §2.3.1).
	if id, secret, ok := r.BasicAuth(); ok && f.Get("client_id") == "" {
		f.Set("client_id", id)
		f.Set("client_secret", secret)
	}
	now := s.clock.Now()
	var tok string
	var refusal func()
	err = s.store.Update(func(st *State) error {
		var g grant
		switch f.Get("grant_type") {
		case "client_credentials":
			if f.Get("client_id") == "" || !st.checkClient(f.Get("client_id"), f.Get("client_secret")) {
				refusal = func() { oauthErr(http.StatusUnauthorized, "invalid_client", msgOAuthBadClient) }
				return errRefused
			}
			g = grant{subject: "client " + f.Get("client_id"), role: RoleAdmin}
		case "password":
			_, ok := st.checkUser(f.Get("username"), f.Get("password"))
			if !ok {
				refusal = func() { oauthErr(http.StatusBadRequest, "invalid_grant", msgOAuthBadPassword) }
				return errRefused
			}
			g = grant{subject: f.Get("username"), role: userGrant}
		case "":
			refusal = func() {
				oauthErr(http.StatusBadRequest, "invalid_request", msgOAuthNoGrant)
			}
			return errRefused
		default:
			refusal = func() {
				oauthErr(http.StatusBadRequest, "unsupported_grant_type", msgOAuthGrant)
			}
			return errRefused
		}
		tok = st.issueAccessToken(g, now)
		return nil
	})
	switch {
	case refusal != nil:
		refusal()
	case err != nil:
		oauthErr(http.StatusServiceUnavailable, "temporarily_unavailable", msgOAuthDatabase)
	default:
		writeREST(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(AccessTokenLifetime.Seconds()), "scope": ""})
	}
}

var errRefused = errors.New("refused")

// sudi names a device as the reservation calls do: PID and serial number.
type sudi struct {
	UdiPid          string `json:"udiPid"`
	UdiSerialNumber string `json:"udiSerialNumber"`
}

// reservedUDI finds the long UDI of the reservation (live or forfeited) of
// the device in virtual account va: the calls give no UUID, and the
// productTagName clients send is not a UCM's (they send its PID).
func (st *State) reservedUDI(va *VirtualAccount, d sudi) (string, error) {
	prefix := "PID:" + strings.TrimSpace(d.UdiPid) + ",SN:" + strings.TrimSpace(d.UdiSerialNumber) + ","
	if d.UdiPid == "" || d.UdiSerialNumber == "" {
		return "", restFail(http.StatusBadRequest, msgRESTNoSUDI)
	}
	for _, in := range st.reservingIn(va.Name) {
		if strings.HasPrefix(in.UDI, prefix) {
			return in.UDI, nil
		}
	}
	for _, f := range va.Forfeited {
		if strings.HasPrefix(f.UDI, prefix) {
			return f.UDI, nil
		}
	}
	return "", restFail(http.StatusNotFound, msgRESTNoReservation, va.Name, d.UdiPid, d.UdiSerialNumber)
}

// restDevice names the device in a reservation request (update, confirm, remove).
type restDevice struct {
	Sudi           sudi   `json:"sudi"`
	ProductTagName string `json:"productTagName"`
}

func (d restDevice) device() sudi { return d.Sudi }

// oneSUDI decodes body, whose list *reqs must hold one request naming a
// device, and returns the device's UDI in the call's virtual account.
func oneSUDI[T interface{ device() sudi }](s *Server, c *restCall, body any, reqs *[]T) (string, error) {
	if err := decodeStrict(c.body, body); err != nil {
		return "", err
	}
	if n := len(*reqs); n != 1 {
		return "", restFail(http.StatusBadRequest, msgRESTOneDevice, n)
	}
	d := (*reqs)[0].device()
	var udi string
	err := s.store.View(func(st *State) error {
		_, va, err := st.restAccount(c.segs[1], c.segs[3])
		if err != nil {
			return err
		}
		udi, err = st.reservedUDI(va, d)
		return err
	})
	return udi, err
}

func (s *Server) restPortal(c *restCall) *Portal {
	return &Portal{Store: s.store, Clock: clock.Fixed(c.now), Actor: c.grant.subject}
}

type restLicense struct {
	EntitlementTag string   `json:"entitlementTag"`
	Quantity       *flexInt `json:"quantity"`
	Precedence     string   `json:"precedence"`
}

func licenseRequests(ls []restLicense) ([]LicenseRequest, error) {
	var out []LicenseRequest
	for _, l := range ls {
		if l.Quantity == nil {
			return nil, restFail(http.StatusBadRequest, msgRESTNoQuantity, l.EntitlementTag)
		}
		out = append(out, LicenseRequest{Tag: strings.TrimSpace(l.EntitlementTag), Count: int(*l.Quantity), Type: Perpetual})
	}
	return out, nil
}

// updateLicenses: POST .../virtual-accounts/{va}/update-licenses: a new code
// with the device's new reserved licences.
func updateLicenses(s *Server, c *restCall) (int, any, error) {
	var req struct {
		Requests []struct {
			restDevice
			Licenses []restLicense `json:"licenses"`
		} `json:"reservationUpdateRequests"`
	}
	udi, err := oneSUDI(s, c, &req, &req.Requests)
	if err != nil {
		return 0, nil, err
	}
	specs, err := licenseRequests(req.Requests[0].Licenses)
	if err != nil {
		return 0, nil, err
	}
	issued, err := s.restPortal(c).UpdateReservation(ReserveOptions{Virtual: c.segs[3], Product: udi, Licenses: specs})
	if err != nil {
		e := restFail(http.StatusBadRequest, "%s", sentence.UpperFirst(strings.TrimSuffix(err.Error(), "."))+".")
		e.extra = map[string]any{"authorizationCodes": []map[string]any{{"authorizationCode": "", "statusMessage": e.msg}}}
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"status": "SUCCESS", "statusMessage": "", "authorizationCodes": []map[string]any{{
		"authorizationCode": issued.Code, "statusMessage": "", "udi": issued.UDI, "productInstanceId": issued.InstanceID}}}, nil
}

// confirmLicenses: POST .../virtual-accounts/{va}/confirm-licenses.
func confirmLicenses(s *Server, c *restCall) (int, any, error) {
	var req struct {
		Requests []struct {
			restDevice
			ConfirmationCode string `json:"confirmationCode"`
		} `json:"reservationConfirmationRequests"`
	}
	udi, err := oneSUDI(s, c, &req, &req.Requests)
	if err != nil {
		return 0, nil, err
	}
	msg, err := s.restPortal(c).ConfirmReservation(c.segs[3], udi, req.Requests[0].ConfirmationCode)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"status": "SUCCESS", "statusMessage": strings.TrimSpace(msg)}, nil
}

// removeDevices: POST (v2) .../virtual-accounts/{va}/devices/remove with the
// device's return code; the licences go back to the pool.
func removeDevices(s *Server, c *restCall) (int, any, error) {
	var req struct {
		Requests []struct {
			restDevice
			ReturnCode string `json:"returnCode"`
		} `json:"productInstacesRemoveRequests"` // sic, as clients send it
	}
	udi, err := oneSUDI(s, c, &req, &req.Requests)
	if err != nil {
		return 0, nil, err
	}
	msg, err := s.restPortal(c).ReturnReservation(c.segs[3], udi, req.Requests[0].ReturnCode)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"status": "SUCCESS", "statusMessage": strings.TrimSpace(msg)}, nil
}

// listAccounts: GET .../v2/accounts, every smart account with the caller's role.
func listAccounts(s *Server, c *restCall) (int, any, error) {
	a := c.grant.access
	var out []map[string]any
	err := s.store.View(func(st *State) error {
		for _, sa := range st.smartAccounts() {
			if !a.Sees(sa.Name) {
				continue
			}
			roles := []map[string]string{}
			for _, va := range sa.VirtualAccounts {
				role := "SMART_ACCOUNT_VIEWER"
				switch {
				case a.Allows(sa.Name, va.Name, NeedAdmin):
					role = "SMART_ACCOUNT_ADMINISTRATOR"
				case a.Allows(sa.Name, va.Name, NeedUse):
					role = "SMART_ACCOUNT_USER"
				case !a.Allows(sa.Name, va.Name, NeedView):
					continue
				}
				roles = append(roles, map[string]string{"role": role, "virtualAccount": va.Name})
			}
			out = append(out, map[string]any{"accountDomain": sa.Name, "accountName": sa.Name, "accountType": "CUSTOMER", "accountStatus": "Active", "roles": roles})
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if out == nil {
		out = []map[string]any{}
	}
	return http.StatusOK, map[string]any{"accounts": out, "status": "SUCCESS", "statusMessage": ""}, nil
}

// searchAccounts: GET .../v1/accounts/search?domain=&type=&limit=&offset=.
func searchAccounts(s *Server, c *restCall) (int, any, error) {
	limit, offset, err := paging(c.query, 1000)
	if err != nil {
		return 0, nil, err
	}
	domain := c.query.Get("domain")
	var all []map[string]any
	err = s.store.View(func(st *State) error {
		for i, sa := range st.smartAccounts() {
			if (domain == "" || strings.EqualFold(domain, sa.Name)) && c.grant.access.Sees(sa.Name) {
				all = append(all, map[string]any{"domain": sa.Name, "name": sa.Name, "id": i + 1, "type": "CUSTOMER", "status": "ACTIVE"})
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	if page == nil {
		page = []map[string]any{}
	}
	return http.StatusOK, map[string]any{"totalRecords": len(all), "accounts": page, "status": "SUCCESS", "statusMessage": ""}, nil
}

// listVirtualAccounts: GET .../accounts/{a}/customer/virtual-accounts.
func listVirtualAccounts(s *Server, c *restCall) (int, any, error) {
	var out []map[string]any
	err := s.store.View(func(st *State) error {
		sa, err := st.restSmartAccount(c.segs[1])
		if err != nil {
			return err
		}
		for i, va := range sa.VirtualAccounts {
			out = append(out, map[string]any{"name": va.Name, "isDefault": strconv.FormatBool(i == 0), "description": "", "commerceAccessLevel": "FULL"})
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"virtualAccounts": out, "status": "SUCCESS", "statusMessage": ""}, nil
}

// paging reads limit (1 to max, default 50) and offset (0 or more) from a query.
func paging(q url.Values, maxLimit int) (limit, offset int, err error) {
	limit = 50
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxLimit {
			return 0, 0, restFail(http.StatusBadRequest, msgRESTLimit, v)
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, restFail(http.StatusBadRequest, msgRESTOffset, v)
		}
	}
	return limit, offset, nil
}
