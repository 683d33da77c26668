package cssm

import "fmt"

// Sentences of the portal operations (portal_web.go).

func errNoToken(va, text string) error {
	return fmt.Errorf("virtual account %q has no token %q; list its tokens with the portal's General tab", va, text)
}

func errDescription(n int) error {
	return fmt.Errorf("a token description has at most 100 printable characters, not %d", n)
}

func msgTokenRevoked(text, va string) string {
	return fmt.Sprintf("Token %s of virtual account %q revoked.\n", text, va)
}

func errTransferSame(va string) error {
	return fmt.Errorf("the instance is already in virtual account %q; choose another one", va)
}

func errTransferSmart(va, sa string) error {
	return fmt.Errorf("virtual account %q is in smart account %q: an instance moves only between virtual accounts of its own smart account", va, sa)
}

func msgTransferred(in *Instance, from, to string) string {
	return fmt.Sprintf("Product instance %s moved from virtual account %q to %q.\n", instanceName(in), from, to)
}

// msgPortal is serve's start-up line for the portal.
const msgPortal = "Portal at %s://%s%s (log in as a user of cssm user add)\n"

const (
	msgRESTEventLimit = "limit %q is not a number from 1 to %d."
	msgRESTNoInstance = "Virtual account %q has no product instance %q."
)
