package cssm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/cssmapi"
)

const (
	onPrem = "/api/v1/accounts/BU"
	cloud  = "/services/api/smart-accounts-and-licensing/v1/accounts/BU"
)

// call sends a REST request with bearer (may be empty) and decodes the JSON answer.
func (a *api) call(method, path, bearer, contentType string, body []byte) (int, map[string]any) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.url+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		a.t.Fatalf("%s %s: %d, not JSON: %q", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func (a *api) restJSON(method, path, bearer string, v any) (int, map[string]any) {
	a.t.Helper()
	body, ok := v.([]byte)
	if !ok && v != nil {
		body, _ = json.Marshal(v)
	}
	return a.call(method, path, bearer, "application/json", body)
}

// accessToken gets a bearer for a new API client, with the credentials in the query string.
func (a *api) accessToken() string {
	a.t.Helper()
	c, err := a.portal.CreateAPIClient("lab builder", "", "")
	if err != nil {
		a.t.Fatal(err)
	}
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.Secret}}
	status, out := a.call("POST", "/oauth/token?"+q.Encode(), "", "", nil)
	tok, _ := out["access_token"].(string)
	if status != 200 || tok == "" || out["token_type"] != "Bearer" || out["expires_in"] != float64(3600) {
		a.t.Fatalf("token: %d %v", status, out)
	}
	return tok
}

func TestOAuthGrantsAsRealClientsSendThem(t *testing.T) {
	a := newAPI(t)
	c, err := a.portal.CreateAPIClient("tools", "tools-client-1", "s3cret-s3cret-s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.portal.AddUser("alice", "correct horse", RoleUser, "", ""); err != nil {
		t.Fatal(err)
	}
	ok := func(status int, out map[string]any) {
		t.Helper()
		if tok, _ := out["access_token"].(string); status != 200 || tok == "" {
			t.Fatalf("%d %v", status, out)
		}
	}
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.Secret}}
	ok(a.call("POST", "/oauth/token?"+cc.Encode(), "", "", nil))                                  // [EZ]: query string
	ok(a.call("POST", "/backend/oauth/token", "", "application/json", mustJSON(map[string]string{ // [WWT]: JSON body
		"grant_type": "client_credentials", "client_id": c.ID, "client_secret": c.Secret})))
	ok(a.call("POST", "/oauth2/default/v1/token", "", "application/x-www-form-urlencoded", []byte(cc.Encode()))) // [MCP]: form
	pw := "grant_type=password&client_id=x&client_secret=y&username=alice&password=correct horse"                // [SLT]: not URL-encoded
	ok(a.call("POST", "/as/token.oauth2", "", "application/x-www-form-urlencoded", []byte(pw)))

	status, out := a.call("POST", "/oauth/token?grant_type=client_credentials&client_id="+c.ID+"&client_secret=wrong", "", "", nil)
	if status != 401 || out["error"] != "invalid_client" || out["access_token"] != nil {
		t.Fatalf("wrong secret: %d %v", status, out)
	}
	status, out = a.call("POST", "/as/token.oauth2?grant_type=password&username=alice&password=wrong", "", "application/x-www-form-urlencoded", nil)
	if status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("wrong password: %d %v", status, out)
	}
	status, out = a.call("POST", "/oauth/token?grant_type=implicit", "", "", nil)
	if status != 400 || out["error"] != "unsupported_grant_type" {
		t.Fatalf("other grant: %d %v", status, out)
	}
}

func TestRESTWithoutABearerGetsTheRealStatus(t *testing.T) {
	a := newAPI(t)
	for path, want := range map[string]int{
		"/backend/api/v1/accounts/BU/virtual-accounts/TAC/tokens": 403, // [WWT] waits for 403
		onPrem + "/virtual-accounts/TAC/tokens":                   401,
		cloud + "/virtual-accounts/TAC/tokens":                    401,
	} {
		for _, bearer := range []string{"", "not-a-token"} {
			status, out := a.call("GET", path, bearer, "", nil)
			if status != want || out["status"] != "ERROR" {
				t.Errorf("%s with %q: %d %v, want %d", path, bearer, status, out, want)
			}
		}
	}
}

// A token minted through the API registers a product, with the export
// permission asked for; listing puts a usable token first; revoked tokens
// register nothing.
func TestTokensThroughTheAPI(t *testing.T) {
	a := newAPI(t)
	bearer := a.accessToken()
	status, out := a.restJSON("POST", onPrem+"/virtual-accounts/TAC/tokens", bearer, []byte(`{"description":"lab","expiresAfterDays":"365","exportControlled":"Allowed"}`))
	info, _ := out["tokenInfo"].(map[string]any)
	if status != 200 || out["status"] != "SUCCESS" || info["token"] == nil || info["exportControlled"] != "Allowed" {
		t.Fatalf("create: %d %v", status, out)
	}
	tok := info["token"].(string)
	status, reg := a.post(cssmapi.PathRegister, "", regReq(tok, 1))
	if status != 200 || reg["export_allowed"] != true {
		t.Fatalf("register with the API's token: %d %v", status, reg)
	}
	// [EZ] sends 30.0 from a spreadsheet, [NB] stray limit/offset.
	if status, out := a.restJSON("POST", "//services/api/smart-accounts-and-licensing/v1/accounts/BU/virtual-accounts/TAC/tokens", bearer,
		[]byte(`{"description":"x","expiresAfterDays":30.0,"exportControlled":"Not Allowed","limit":50,"offset":0}`)); status != 200 {
		t.Fatalf("create with 30.0: %d %v", status, out)
	}
	for _, bad := range []string{`{"expiresAfterDays":0}`, `{"expiresAfterDays":"soon"}`, `{"exportControlled":"maybe"}`, `{"colour":"red"}`, `[1]`, `{`} {
		if status, out := a.restJSON("POST", onPrem+"/virtual-accounts/TAC/tokens", bearer, []byte(bad)); status != 400 || out["status"] != "ERROR" {
			t.Errorf("create %s: %d %v", bad, status, out)
		}
	}
	status, out = a.restJSON("GET", onPrem+"/virtual-accounts/TAC/tokens", bearer, nil)
	list, _ := out["tokens"].([]any)
	if status != 200 || len(list) != 2 || list[0].(map[string]any)["status"] != "VALID" {
		t.Fatalf("list: %d %v", status, out)
	}
	if status, out := a.restJSON("POST", onPrem+"/virtual-accounts/TAC/tokens/revoke", bearer, map[string]any{"tokens": []map[string]string{{"token": tok}}}); status != 200 {
		t.Fatalf("revoke: %d %v", status, out)
	}
	status, reg = a.post(cssmapi.PathRegister, "", regReq(tok, 2))
	wantError(t, status, reg, cssmapi.CodeTokenUnknown)
	if status, out := a.restJSON("GET", onPrem+"/virtual-accounts/Nope/tokens", bearer, nil); status != 404 || out["status"] != "ERROR" {
		t.Fatalf("unknown account: %d %v", status, out)
	}
}

func TestLicensesAndTransfers(t *testing.T) {
	a := newAPI(t)
	a.must(a.portal.CreateAccount("BU", "Lab"))
	a.addLicense("Enhanced", 10)
	a.addLicense("Basic", 4)
	bearer := a.accessToken()
	id, cred := a.register(a.token(TokenOptions{}), 1)
	var auth cssmapi.AuthorizeResponse
	a.authorize(id, cred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 3})

	enh := "UC Manager Enhanced License (12.x)"
	transfer := func(q any, target string) (int, map[string]any) {
		return a.restJSON("POST", cloud+"/virtual-accounts/TAC/licenses/transfer", bearer,
			map[string]any{"licenses": []map[string]any{{"license": enh, "licenseType": "PERPETUAL", "quantity": q, "targetVirtualAccount": target}}})
	}
	before := storeDump(t, a.store)
	for _, c := range []struct {
		q      any
		target string
	}{{8, "Lab"}, {-1, "Lab"}, {1e12, "Lab"}, {2, "TAC"}, {2, "Nope"}, {2, ""}, {"two", "Lab"}} {
		status, out := transfer(c.q, c.target)
		if status == 200 || out["status"] != "ERROR" || out["statusMessage"] == "" {
			t.Errorf("transfer %v to %s: %d %v", c.q, c.target, status, out)
		}
	}
	if !bytes.Equal(storeDump(t, a.store), before) {
		t.Fatal("a refused transfer changed the store")
	}
	if status, out := transfer(7, "Lab"); status != 200 || out["status"] != "SUCCESS" { // 10 less the 3 in use
		t.Fatalf("transfer 7: %d %v", status, out)
	}
	if status, out := transfer(0, "Lab"); status != 200 { // [SLT]'s trailing 0
		t.Fatalf("transfer 0: %d %v", status, out)
	}
	u, _ := a.portal.Usage("Lab")
	for _, b := range u.Balances {
		if b.Tag == tag("Enhanced") && b.Purchased != 7 {
			t.Fatalf("Lab after the transfer: %+v", b)
		}
	}

	status, out := a.restJSON("POST", cloud+"/licenses", bearer, map[string]any{"virtualAccounts": []string{"TAC"}, "limit": 1, "offset": 0})
	lic, _ := out["licenses"].([]any)
	if status != 200 || out["totalRecords"] != float64(2) || len(lic) != 1 {
		t.Fatalf("licenses: %d %v", status, out)
	}
	first := lic[0].(map[string]any)
	if first["license"] != enh || first["quantity"] != float64(3) || first["inUse"] != float64(3) || first["available"] != float64(0) {
		t.Fatalf("licenses[0]: %v", first)
	}
	status, out = a.restJSON("POST", cloud+"/licenses", bearer, map[string]any{"virtualAccounts": []string{}, "limit": 50, "offset": 0})
	if status != 200 || out["totalRecords"] != float64(3) {
		t.Fatalf("licenses of every account: %d %v", status, out)
	}
	// An empty name names no virtual account (it once reached a nil one).
	status, out = a.restJSON("POST", cloud+"/licenses", bearer, map[string]any{"virtualAccounts": []string{"TAC", ""}})
	if status != 404 || out["status"] != "ERROR" || !strings.Contains(out["statusMessage"].(string), `no virtual account ""`) {
		t.Fatalf("licenses of an unnamed account: %d %v", status, out)
	}
	if status, _ := a.restJSON("POST", cloud+"/licenses", bearer, map[string]any{"limit": 0}); status != 400 {
		t.Fatalf("limit 0: %d", status)
	}
}

// reserve-licenses answers the authorization code the node installs.
func TestReserveLicensesThroughTheAPI(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Enhanced", 10)
	bearer := a.accessToken()
	n := a.node(uuidA)
	req := map[string]any{"reservationRequests": []map[string]any{{"reservationCode": n.requestCode(), "reservationType": "SPECIFIC",
		"licenses": []map[string]any{{"entitlementTag": tag("Enhanced"), "quantity": "4", "precedence": "LONGEST_TERM_FIRST"}}}}}
	status, out := a.restJSON("POST", "/services/api/smart-accounts-and-licensing/v2/accounts/BU/virtual-accounts/TAC/reserve-licenses", bearer, req)
	codes, _ := out["authorizationCodes"].([]any)
	if status != 200 || out["status"] != "SUCCESS" || len(codes) != 1 {
		t.Fatalf("reserve: %d %v", status, out)
	}
	code := codes[0].(map[string]any)["authorizationCode"].(string)
	confirmation := n.install(code)
	if n.installed.Entitlements[0].Count != 4 {
		t.Fatalf("installed %+v", n.installed.Entitlements)
	}
	// Confirm, update, confirm, return, as [EZ]'s update and return tools do:
	// the device named by PID and serial number only.
	va := "/services/api/smart-accounts-and-licensing/v1/accounts/BU/virtual-accounts/TAC"
	dev := map[string]string{"udiPid": n.udi.PID, "udiSerialNumber": n.udi.SN}
	confirm := func(code string) {
		t.Helper()
		status, out := a.restJSON("POST", va+"/confirm-licenses", bearer, map[string]any{"reservationConfirmationRequests": []map[string]any{
			{"sudi": dev, "productTagName": "UCM", "confirmationCode": code}}})
		if status != 200 || out["status"] != "SUCCESS" {
			t.Fatalf("confirm: %d %v", status, out)
		}
	}
	confirm(confirmation)
	if got := a.reservation(n.requestCode()).State; got != ReservationInstalled {
		t.Fatalf("after the API's confirmation: %s", got)
	}
	status, out = a.restJSON("POST", va+"/update-licenses", bearer, map[string]any{"reservationUpdateRequests": []map[string]any{
		{"sudi": dev, "productTagName": "UCM", "licenses": []map[string]any{{"entitlementTag": tag("Enhanced"), "quantity": 6}}}}})
	codes, _ = out["authorizationCodes"].([]any)
	if status != 200 || len(codes) != 1 {
		t.Fatalf("update: %d %v", status, out)
	}
	confirm(n.install(codes[0].(map[string]any)["authorizationCode"].(string)))
	status, out = a.restJSON("POST", "/services/api/smart-accounts-and-licensing/v2/accounts/BU/virtual-accounts/TAC/devices/remove", bearer,
		map[string]any{"productInstacesRemoveRequests": []map[string]any{{"sudi": dev, "productTagName": "UCM", "returnCode": n.returnCode()}}})
	if status != 200 || out["status"] != "SUCCESS" {
		t.Fatalf("remove with the return code: %d %v", status, out)
	}
	a.pool(map[string][2]int{"Enhanced": {0, 10}})
	if status, out := a.restJSON("POST", va+"/confirm-licenses", bearer, map[string]any{"reservationConfirmationRequests": []map[string]any{
		{"sudi": dev, "confirmationCode": "00000000"}}}); status != 404 || out["status"] != "ERROR" {
		t.Fatalf("confirm after the return: %d %v", status, out)
	}
	// Reserved again, for the refusals below.
	if status, out := a.restJSON("POST", va+"/reserve-licenses", bearer, req); status != 200 {
		t.Fatalf("reserve again after the return: %d %v", status, out)
	}
	// The same product again, and more than the pool has: ERROR with the reason per code.
	for _, q := range []string{"1", "100"} {
		other := a.node(uuidB)
		if q == "1" {
			other = n
		}
		req["reservationRequests"].([]map[string]any)[0]["reservationCode"] = other.requestCode()
		req["reservationRequests"].([]map[string]any)[0]["licenses"].([]map[string]any)[0]["quantity"] = q
		status, out := a.restJSON("POST", cloud+"/virtual-accounts/TAC/reserve-licenses", bearer, req)
		codes, _ := out["authorizationCodes"].([]any)
		if status == 200 || out["status"] != "ERROR" || len(codes) != 1 || codes[0].(map[string]any)["statusMessage"] == "" {
			t.Fatalf("reserve %s: %d %v", q, status, out)
		}
	}
}

func TestDevicesSearchAndPaging(t *testing.T) {
	a := newAPI(t)
	bearer := a.accessToken()
	tok := a.token(TokenOptions{})
	for i := range 5 {
		a.register(tok, i)
	}
	base := "/v1/software/apis/licensing/v2/accounts/BU/devices"
	status, out := a.restJSON("GET", base+"?virtualAccountName=TAC&limit=2&offset=0", bearer, nil)
	devs, _ := out["devices"].([]any)
	if status != 200 || len(devs) != 2 || out["totalRecords"] != float64(5) {
		t.Fatalf("devices: %d %v", status, out)
	}
	d := devs[0].(map[string]any)
	if d["instanceName"] != "cucm-00000" || !strings.Contains(d["udi"].(string), "UUID:") {
		t.Fatalf("device: %v", d)
	}
	status, out = a.restJSON("GET", base+"?instanceName=cucm-00003", bearer, nil)
	if devs, _ := out["devices"].([]any); status != 200 || len(devs) != 1 {
		t.Fatalf("search: %d %v", status, out)
	}
	for _, q := range []string{"limit=0", "limit=5000", "offset=-1", "virtualAccountName=Nope"} {
		if status, out := a.restJSON("GET", base+"?"+q, bearer, nil); status < 400 || out["status"] != "ERROR" {
			t.Errorf("%s: %d %v", q, status, out)
		}
	}
}

func TestReadOnlyUsersChangeNothing(t *testing.T) {
	a := newAPI(t)
	if _, err := a.portal.AddUser("auditor", "read only please", RoleReadOnly, "", ""); err != nil {
		t.Fatal(err)
	}
	_, out := a.call("POST", "/oauth/token?grant_type=password&username=auditor&password=read+only+please", "", "", nil)
	bearer, _ := out["access_token"].(string)
	if status, out := a.restJSON("GET", onPrem+"/virtual-accounts/TAC/tokens", bearer, nil); status != 200 {
		t.Fatalf("list: %d %v", status, out)
	}
	if status, out := a.restJSON("POST", onPrem+"/virtual-accounts/TAC/tokens", bearer, map[string]any{"description": "x"}); status != 403 || out["status"] != "ERROR" {
		t.Fatalf("create as read-only: %d %v", status, out)
	}
}

func TestAccountListings(t *testing.T) {
	a := newAPI(t)
	a.must(a.portal.CreateAccount("BU", "Lab"))
	bearer := a.accessToken()
	status, out := a.restJSON("GET", "/services/api/smart-accounts-and-licensing/v2/accounts", bearer, nil)
	accts, _ := out["accounts"].([]any)
	if status != 200 || len(accts) != 1 || accts[0].(map[string]any)["accountName"] != "BU" || len(accts[0].(map[string]any)["roles"].([]any)) != 2 {
		t.Fatalf("accounts: %d %v", status, out)
	}
	status, out = a.restJSON("GET", cloud+"/customer/virtual-accounts", bearer, nil)
	vas, _ := out["virtualAccounts"].([]any)
	if status != 200 || len(vas) != 2 || vas[0].(map[string]any)["isDefault"] != "true" || vas[1].(map[string]any)["name"] != "Lab" {
		t.Fatalf("virtual accounts: %d %v", status, out)
	}
	status, out = a.restJSON("GET", "/services/api/smart-accounts-and-licensing/v1/accounts/search?domain=BU&type=CUSTOMER&limit=1000&offset=0", bearer, nil)
	if status != 200 || out["totalRecords"] != float64(1) {
		t.Fatalf("search: %d %v", status, out)
	}
	if status, _ := a.restJSON("GET", "/services/api/smart-accounts-and-licensing/v1/accounts/Nope/customer/virtual-accounts", bearer, nil); status != 404 {
		t.Fatalf("unknown account: %d", status)
	}
}

func TestAPIClientIDLengths(t *testing.T) {
	a := newAPI(t)
	for n, ok := range map[int]bool{7: false, 8: true, 128: true, 129: false} {
		id := strings.Repeat("c", n)
		_, err := a.portal.CreateAPIClient(fmt.Sprint("client ", n), id, "s3cret-s3cret-s3cret")
		if (err == nil) != ok {
			t.Errorf("client id of %d characters: %v", n, err)
		}
	}
}
