package reservation_test

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/reservation"
)

func ExampleRequestCode() {
	udi, _ := reservation.NewUDI("UCM", "e53fc968-0253-4d61-a355-ba908a6cc920")
	fmt.Println(udi)
	fmt.Println(reservation.RequestCode(udi))
	// Output:
	// PID:UCM,SN:cc920,UUID:e53fc96802534d61a355ba908a6cc920
	// P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920
}

func ExampleParseRequestCode() {
	// Retyped by hand: spaces after the commas, capitals.
	udi, err := reservation.ParseRequestCode("P:UCM, S:CC920, U:E53FC968-0253-4D61-A355-BA908A6CC920")
	fmt.Println(udi, err)
	_, err = reservation.ParseRequestCode("P:UCM,S:00000,U:e53fc968-0253-4d61-a355-ba908a6cc920")
	fmt.Println(err)
	// Output:
	// PID:UCM,SN:cc920,UUID:e53fc96802534d61a355ba908a6cc920 <nil>
	// The request code has serial number "00000", but the serial number must be the last five hex digits of the UUID (cc920).
}

// The server issues a code; the node installs it. ECDSA signatures differ
// on every run, so only the outcome is shown.
func Example_install() {
	key, _ := reservation.GenerateKey()
	node, _ := reservation.NewUDI("UCM", "e53fc968-0253-4d61-a355-ba908a6cc920")
	text, _ := reservation.Sign(key, &reservation.AuthCode{
		Flag: "A", Version: "C", PIID: "0b4f3d1c-8e2a-4c6b-9f10-2a3b4c5d6e7f",
		Timestamp: time.Date(2020, 3, 4, 10, 30, 0, 0, time.UTC),
		Entitlements: []reservation.Entitlement{{
			Tag:         "regid.2016-07.com.cisco.UCM_Enhanced,12.0_66d0d1cf-4863-4761-91d0-d01d3eb1949a",
			Count:       5,
			Type:        reservation.LicensePerpetual,
			DisplayName: "UC Manager Enhanced License (12.x)",
		}},
		UDI: node,
	})
	pasted := strings.Join(strings.SplitAfter(text, "entitlement>"), "\r\n") // wrapped by a terminal

	ac, err := reservation.ParseAuthCode(pasted)
	if err == nil {
		err = reservation.Verify(ac, []*ecdsa.PublicKey{&key.PublicKey})
	}
	if err == nil {
		err = reservation.CheckFor(ac, node, time.Time{}, time.Date(2020, 3, 5, 0, 0, 0, 0, time.UTC))
	}
	fmt.Println(err, ac.Entitlements[0].Count)

	// The same code again is refused as stale.
	err = reservation.CheckFor(ac, node, ac.Timestamp, time.Date(2020, 3, 5, 0, 0, 0, 0, time.UTC))
	fmt.Println(errors.Is(err, reservation.ErrStale))
	// Output:
	// <nil> 5
	// true
}

// Known-answer vector for the derived codes (checked against an independent
// Python implementation of the package doc's recipe): the node and the
// licensing server must compute the same ones from the same issued code.
func ExampleConfirmationCode() {
	udi, _ := reservation.NewUDI("UCM", "e53fc968-0253-4d61-a355-ba908a6cc920")
	ac := &reservation.AuthCode{
		UDI:       udi,
		Timestamp: time.UnixMilli(1583317800123),
		Signature: []byte("signature bytes as issued"),
	}
	fmt.Println(reservation.ConfirmationCode(ac))
	fmt.Println(reservation.ReturnCode(ac))
	// Output:
	// eacef7c1
	// xij7mc-xpDEua-wzcGpy-x5QNNA-oK6Q5P-4NYen6-JX8jtA-qsBAQt-DJK
}
