package cssm

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
