package cssmapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/cssmapi"
)

func TestAnAnswerVerifiesOnlyForItsOwnCall(t *testing.T) {
	cssmKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	trusted := []*ecdsa.PublicKey{&otherKey.PublicKey, &cssmKey.PublicKey}
	key := cssmapi.NewIdempotencyKey()
	body := []byte(`{"status":"AUTHORIZED"}`)
	sig, err := cssmapi.SignAnswer(cssmKey, cssmapi.PathAuthorize, key, 200, body)
	if err != nil {
		t.Fatal(err)
	}
	if err := cssmapi.VerifyAnswer(trusted, cssmapi.PathAuthorize, key, 200, body, sig); err != nil {
		t.Fatalf("genuine answer: %v", err)
	}
	for name, try := range map[string]func() error{
		"another body": func() error { return cssmapi.VerifyAnswer(trusted, cssmapi.PathAuthorize, key, 200, []byte(`{}`), sig) },
		"another path": func() error { return cssmapi.VerifyAnswer(trusted, cssmapi.PathRenewID, key, 200, body, sig) },
		"another key": func() error {
			return cssmapi.VerifyAnswer(trusted, cssmapi.PathAuthorize, cssmapi.NewIdempotencyKey(), 200, body, sig)
		},
		"another status": func() error { return cssmapi.VerifyAnswer(trusted, cssmapi.PathAuthorize, key, 404, body, sig) },
		"untrusted key":  func() error { return cssmapi.VerifyAnswer(trusted[:1], cssmapi.PathAuthorize, key, 200, body, sig) },
		"garbage":        func() error { return cssmapi.VerifyAnswer(trusted, cssmapi.PathAuthorize, key, 200, body, "!!") },
	} {
		if err := try(); !errors.Is(err, cssmapi.ErrAnswerSignature) {
			t.Errorf("%s: %v, want ErrAnswerSignature", name, err)
		}
	}
	if err := cssmapi.VerifyAnswer(trusted, cssmapi.PathAuthorize, key, 200, body, ""); !errors.Is(err, cssmapi.ErrAnswerNotSigned) {
		t.Errorf("unsigned: %v", err)
	}
}

func TestIdempotencyKeys(t *testing.T) {
	a, b := cssmapi.NewIdempotencyKey(), cssmapi.NewIdempotencyKey()
	if a == b || !cssmapi.ValidIdempotencyKey(a) {
		t.Fatalf("keys %q %q", a, b)
	}
	for _, good := range []string{strings.Repeat("k", 16), strings.Repeat("-_aZ09", 21) + "xy"} {
		if !cssmapi.ValidIdempotencyKey(good) {
			t.Errorf("%q (%d characters) refused", good, len(good))
		}
	}
	for _, bad := range []string{"", "short", strings.Repeat("k", 15), strings.Repeat("k", 129), "has space in it 123456", "dot.is.not.allowed.here", string(make([]byte, 129))} {
		if cssmapi.ValidIdempotencyKey(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	if got := cssmapi.HTTPStatus(cssmapi.CodeIdempotencyReused); got != 422 {
		t.Errorf("status %d", got)
	}
}
