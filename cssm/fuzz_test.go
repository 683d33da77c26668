package cssm

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/ucmsh/ucmsh/cssmapi"
)

var fuzzPaths = []string{cssmapi.PathRegister, cssmapi.PathRenewID, cssmapi.PathAuthorize, cssmapi.PathDeregister, cssmapi.PathExportRequest, cssmapi.PathExportReturn}

// Whatever a client sends to the product API, the answer is one JSON object
// with a known status, signed, and the server keeps answering.
func FuzzProductAPI(f *testing.F) {
	l := newLab(f)
	l.addLicense("Enhanced", 5)
	tok := l.token(TokenOptions{MaxUses: 2, AllowExport: true})
	srv := NewServer(l.store, l.clock, nil)
	f.Cleanup(srv.Close)
	key, _ := l.store.SigningKey()
	trusted := []*ecdsa.PublicKey{&key.PublicKey}

	reg, _ := json.Marshal(regReq(tok, 1))
	f.Add(uint8(0), reg, "")
	f.Add(uint8(0), []byte(`{"token":"`+tok+`","udi":"PID:UCM,SN:1,UUID:00000000000000000000000000000000","force":true}`), cssmapi.NewIdempotencyKey())
	f.Add(uint8(2), []byte(`{"instance_id":"x","usage":[{"tag":"regid.2016-07.com.cisco.UCM_Enhanced,12.0_66d0d1cf-4863-4761-91d0-d01d3eb1949a","count":-1}]}`), "")
	f.Add(uint8(4), []byte(`{"instance_id":1,"feature":null}`), "key-key-key-key-key")
	f.Add(uint8(1), []byte(`{"instance_id":"a"} {"x":1}`), "")
	f.Add(uint8(3), []byte("\xff\xfe"), "short")
	f.Fuzz(func(t *testing.T, which uint8, body []byte, key string) {
		path := fuzzPaths[int(which)%len(fuzzPaths)]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer x")
		if key != "" {
			req.Header.Set(cssmapi.HeaderIdempotencyKey, key)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		out := rec.Body.Bytes()
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%s: the answer is not one JSON object: %q", path, out)
		}
		if rec.Code != 200 {
			if c, _ := v["code"].(string); cssmapi.HTTPStatus(c) != rec.Code {
				t.Fatalf("%s: status %d with code %q", path, rec.Code, c)
			}
		}
		signedKey := key
		if !cssmapi.ValidIdempotencyKey(key) {
			signedKey = ""
		}
		if err := cssmapi.VerifyAnswer(trusted, path, signedKey, rec.Code, out, rec.Header().Get(cssmapi.HeaderSignature)); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	})
}

var fuzzRESTPaths = []string{
	"/api/v1/accounts/BU/virtual-accounts/TAC/tokens",
	"/api/v1/accounts/BU/virtual-accounts/TAC/tokens/revoke",
	"/services/api/smart-accounts-and-licensing/v1/accounts/BU/licenses",
	"/services/api/smart-accounts-and-licensing/v1/accounts/BU/virtual-accounts/TAC/licenses/transfer",
	"/services/api/smart-accounts-and-licensing/v2/accounts/BU/virtual-accounts/TAC/reserve-licenses",
	"/v1/software/apis/licensing/v2/accounts/BU/devices",
	"/services/api/smart-accounts-and-licensing/v1/accounts/BU/virtual-accounts/TAC/confirm-licenses",
	"/services/api/smart-accounts-and-licensing/v2/accounts/BU/virtual-accounts/TAC/devices/remove",
	"/oauth/token",
}

// Whatever a client sends to the REST API, the answer is JSON with a status
// field (or an OAuth error), and no refused request changes the store.
func FuzzRESTAPI(f *testing.F) {
	a := newAPI(f)
	a.must(a.portal.CreateAccount("BU", "Lab"))
	a.addLicense("Enhanced", 5)
	bearer := a.accessToken()
	f.Add(uint8(0), []byte(`{"description":"x","expiresAfterDays":"30","exportControlled":"Allowed"}`), "")
	f.Add(uint8(1), []byte(`{"tokens":[{"token":"x"}]}`), "")
	f.Add(uint8(2), []byte(`{"virtualAccounts":["TAC"],"limit":50,"offset":0}`), "")
	f.Add(uint8(3), []byte(`{"licenses":[{"license":"UC Manager Enhanced License (12.x)","licenseType":"PERPETUAL","quantity":"2","targetVirtualAccount":"Lab"}]}`), "")
	f.Add(uint8(4), []byte(`{"reservationRequests":[{"reservationCode":"P:UCM,S:1,U:x","licenses":[{"entitlementTag":"x","quantity":1e99}]}]}`), "")
	f.Add(uint8(5), []byte{}, "limit=2&offset=1&instanceName=%25")
	f.Add(uint8(6), []byte(`{"reservationConfirmationRequests":[{"sudi":{"udiPid":"UCM","udiSerialNumber":"1"},"confirmationCode":"x"}]}`), "")
	f.Add(uint8(7), []byte(`{"productInstacesRemoveRequests":[{"sudi":{},"returnCode":""}]}`), "")
	f.Add(uint8(8), []byte(`{"grant_type":"password","username":"a","password":"b"}`), "grant_type=client_credentials")
	f.Fuzz(func(t *testing.T, which uint8, body []byte, query string) {
		path := fuzzRESTPaths[int(which)%len(fuzzRESTPaths)]
		method := http.MethodPost
		if int(which)%len(fuzzRESTPaths) == 5 || which >= 128 {
			method = http.MethodGet
		}
		q, _ := url.ParseQuery(query) // what a client can send: a well-formed URL
		query = q.Encode()
		c := &api{lab: &lab{t: t, store: a.store, clock: a.clock, portal: a.portal}, url: a.url}
		before := storeDump(t, a.store)
		status, out := c.call(method, path+"?"+query, bearer, "application/json", body)
		if path == "/oauth/token" {
			if out["access_token"] == nil && out["error"] == nil {
				t.Fatalf("token endpoint: %d %v", status, out)
			}
			return
		}
		if s, _ := out["status"].(string); (status == 200) != (s == "SUCCESS") {
			t.Fatalf("%s %s: %d with status %q", method, path, status, s)
		}
		if status != 200 && !bytes.Equal(storeDump(t, a.store), before) {
			t.Fatalf("%s %s: refused (%d %v) but the store changed", method, path, status, out)
		}
	})
}
