package installfile

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/reservation"
)

// signedCode is a real authorization code, the kind of file install-file
// fetches.
func signedCode(t testing.TB) string {
	t.Helper()
	key, err := reservation.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	text, err := reservation.Sign(key, &reservation.AuthCode{
		Flag: "A", Version: "C",
		PIID:      "0b4f3d1c-8e2a-4c6b-9f10-2a3b4c5d6e7f",
		Timestamp: time.Date(2020, time.March, 4, 10, 30, 0, 0, time.UTC),
		Entitlements: []reservation.Entitlement{{
			Tag:   "regid.2016-07.com.cisco.UCM_Enhanced,12.0_66d0d1cf-4863-4761-91d0-d01d3eb1949a",
			Count: 5, Type: reservation.LicensePerpetual,
			DisplayName: "UC Manager Enhanced License (12.x)",
		}},
		UDI: reservation.UDI{PID: "UCM", SN: "cc920", UUID: "e53fc96802534d61a355ba908a6cc920"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// wantKind fails unless err is of the given kind and reads as one sentence.
func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want kind %v", err, kind)
	}
	msg := err.Error()
	if !strings.HasSuffix(msg, ".") || msg[0] < 'A' || msg[0] > 'Z' {
		t.Errorf("error %q is not a sentence", msg)
	}
}
