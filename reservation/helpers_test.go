package reservation

import (
	"crypto/ecdsa"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// The node of the CUCM capture in REFERENCE.md §4.
var captureUDI = UDI{PID: "UCM", SN: "cc920", UUID: "e53fc96802534d61a355ba908a6cc920"}

// Another node, for wrong-UDI cases.
var otherUDI = UDI{PID: "UCM", SN: "37624", UUID: "6fe83addc80240bc92dc071ac7a37624"}

var serverKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
})

var (
	issued  = time.Date(2020, time.March, 4, 10, 30, 0, 123e6, time.UTC)
	termEnd = time.Date(2021, time.March, 3, 0, 0, 0, 0, time.UTC)
)

// sampleCode is a typical reservation: perpetual user licences, a term
// licence and export permission.
func sampleCode(udi UDI) *AuthCode {
	return &AuthCode{
		Flag: "A", Version: "C",
		PIID:      "0b4f3d1c-8e2a-4c6b-9f10-2a3b4c5d6e7f",
		Timestamp: issued,
		Entitlements: []Entitlement{
			{
				Tag:         "regid.2016-07.com.cisco.UCM_Enhanced,12.0_66d0d1cf-4863-4761-91d0-d01d3eb1949a",
				Count:       5,
				Type:        LicensePerpetual,
				DisplayName: "UC Manager Enhanced License (12.x)",
				Description: "UC Manager Enhanced License",
			},
			{
				Tag:         "regid.2016-07.com.cisco.UCM_Basic,12.0_ef827a2f-f4ae-4ebb-887f-052737063d3a",
				Count:       120,
				Type:        LicensePerpetual,
				DisplayName: "UC Manager Basic License  (12.x)",
				Description: "UC Manager Basic License",
			},
			{
				Tag:            "regid.2017-02.com.cisco.UCM_CUWL,12.0_cc59375a-1cd8-4b36-8366-6f4d2abba965",
				Count:          2,
				Start:          time.Date(2020, time.March, 4, 0, 0, 0, 0, time.UTC),
				End:            termEnd,
				Type:           LicenseTerm,
				DisplayName:    "UC Manager CUWL License (12.X)",
				Description:    "UC Manager CUWL License",
				SubscriptionID: "Sub123456",
			},
		},
		ExportAllowed: true,
		UDI:           udi,
	}
}

// signed returns the text of a freshly signed sample code for udi.
func signed(t testing.TB, udi UDI) string {
	t.Helper()
	text, err := Sign(serverKey(), sampleCode(udi))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return text
}

// wrap breaks s every width characters with sep, the way a terminal does
// when a long code is copied from it.
func wrap(s string, width int, sep string) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width] + sep)
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
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
