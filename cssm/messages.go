package cssm

import (
	"fmt"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Every sentence cssm says to a product or an admin is here.

// API refusals: one sentence, what is wrong and what to do.

func errBadJSON(path string, err error) error {
	return cssmapi.Errorf(cssmapi.CodeBadRequest, "The request body is not a valid JSON object for %s (%v); send the fields of cssmapi's request type.", path, err)
}

func errField(field, why string) error {
	return cssmapi.Errorf(cssmapi.CodeBadRequest, "The field %q %s; correct it and send the request again.", field, why)
}

func errMediaType(got string) error {
	return cssmapi.Errorf(cssmapi.CodeUnsupportedMediaType, "The request body must be sent as Content-Type application/json, not %q.", got)
}

func errBodyTooLarge() error {
	return cssmapi.Errorf(cssmapi.CodeBodyTooLarge, "The request body is larger than %d bytes; send a smaller request.", cssmapi.MaxBodyBytes)
}

func errNoSuchPath(path string) error {
	return cssmapi.Errorf(cssmapi.CodeNotFound, "There is no API at %s; check the licensing server URL (paths start with /v1/).", path)
}

func errMethod(method, want string) error {
	return cssmapi.Errorf(cssmapi.CodeMethodNotAllowed, "This API path does not accept %s; use %s.", method, want)
}

func errTokenUnknown() error {
	return cssmapi.Errorf(cssmapi.CodeTokenUnknown, "The registration token is not valid; copy a token from the virtual account and try again.")
}

func errTokenExpired(at time.Time) error {
	return cssmapi.Errorf(cssmapi.CodeTokenExpired, "The registration token expired on %s; create a new token in the virtual account and register with it.", at.UTC().Format(time.DateOnly))
}

func errTokenUsedUp(uses int) error {
	return cssmapi.Errorf(cssmapi.CodeTokenUsedUp, "The registration token has been used its maximum %d times; create a new token in the virtual account and register with it.", uses)
}

func errAlreadyRegistered(va string) error {
	return cssmapi.Errorf(cssmapi.CodeAlreadyRegistered, "This product is already registered in virtual account %q; register with force to move it, or use a token from that virtual account.", va)
}

func errInstanceNotFound() error {
	return cssmapi.Errorf(cssmapi.CodeInstanceNotFound, "This product instance is not registered with the licensing server (it may have been removed there); register the product again.")
}

func errUnauthorized() error {
	return cssmapi.Errorf(cssmapi.CodeUnauthorized, "The product's credential was not accepted by the licensing server; register the product again.")
}

func errUnknownEntitlement(tag string) error {
	return cssmapi.Errorf(cssmapi.CodeUnknownEntitlement, "The entitlement tag %q is not a UCM licence known to this licensing server; report only the tags of REFERENCE §5.", tag)
}

func errUnknownFeature(f string) error {
	return cssmapi.Errorf(cssmapi.CodeUnknownFeature, "%q is not an export-controlled feature; the UCM feature is %s.", f, cssmapi.ExportFeature)
}

func errExportNotAllowed() error {
	return cssmapi.Errorf(cssmapi.CodeExportNotAllowed, "The token this product registered with does not allow export-controlled functionality; register again with a token that allows it.")
}

func errNoExportKeys(va string) error {
	return cssmapi.Errorf(cssmapi.CodeNoExportKeys, "Virtual account %q has no export authorization key left; add keys to it or return one from another product.", va)
}

func errNotHeld(f string) error {
	return cssmapi.Errorf(cssmapi.CodeNotHeld, "This product does not hold an export authorization key for %s, so there is nothing to return.", f)
}

func errShuttingDown() error {
	return cssmapi.Errorf(cssmapi.CodeUnavailable, "The licensing server is shutting down; try again when it is back.")
}

func errInternal() error {
	return cssmapi.Errorf(cssmapi.CodeInternal, "The licensing server could not read or save its records; try again, and if it persists check the server's log.")
}

func errAccountGone(va string) error {
	return cssmapi.Errorf(cssmapi.CodeInternal, "Virtual account %q no longer exists on the licensing server; ask its administrator to recreate it.", va)
}

// Portal errors and output.

func errNoVA(name string) error {
	return fmt.Errorf("there is no virtual account %q; create it with: cssm account create --smart NAME --virtual %q", name, name)
}

func errVAExists(va, sa string) error {
	return fmt.Errorf("virtual account %q already exists in smart account %q; pick another name", va, sa)
}

func errName(what, name string) error {
	return fmt.Errorf("%s %q is not valid: use 1 to 100 printable characters", what, name)
}

func errNoInstance(id string) error {
	return fmt.Errorf("there is no product instance %q; list them with: cssm instance list", id)
}

func errTag(tag string) error {
	return fmt.Errorf("%q is not a UCM entitlement tag; give one of the tags in REFERENCE §5 or --tier %s", tag, strings.Join(cssmapi.TierNames(), "|"))
}

func errTier(tier string) error {
	return fmt.Errorf("%q is not a licence tier; use one of %s", tier, strings.Join(cssmapi.TierNames(), ", "))
}

func errCount(what string, n int) error {
	return fmt.Errorf("%s must be a positive number, not %d", what, n)
}

func errTermEnd(s string, today time.Time) error {
	return fmt.Errorf("--term-end %q must be a date (YYYY-MM-DD) not before today, %s", s, today.Format(time.DateOnly))
}

func errExpiresDays(n int) error {
	return fmt.Errorf("--expires-days must be between 1 and 365, not %d", n)
}

func errUses(n int) error {
	return fmt.Errorf("--uses must be 0 (unlimited) or more, not %d", n)
}

func msgAccountCreated(sa, va string) string {
	return fmt.Sprintf("Virtual account %q created in smart account %q.\n", va, sa)
}

func msgLicenseAdded(l License, e cssmapi.Entitlement, va string) string {
	kind := "perpetual"
	if l.Type == Term {
		kind = "term, ending " + l.TermEnd
	}
	return fmt.Sprintf("Added %d %s (%s) to virtual account %q.\n", l.Count, e.DisplayName, kind, va)
}

func msgExportKeysAdded(n, total int, va string) string {
	return fmt.Sprintf("Added %s to virtual account %q; it now has %d.\n", plural(n, "export authorization key"), va, total)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func msgInstanceRemoved(in *Instance) string {
	return fmt.Sprintf("Product instance %s (%s) removed from virtual account %q; it must register again.\n", in.ID, in.Hostname, in.VirtualAccount)
}

const msgNoInstances = "No product instances.\n"

func errNotLoopback(addr string) error {
	return fmt.Errorf("--listen %s is not a loopback address; use 127.0.0.1:PORT, or add --allow-remote to expose the licensing server to the network", addr)
}

const (
	msgServing      = "cssm: serving the product API on %s://%s (store %s)\n"
	msgFingerprint  = "cssm: TLS certificate SHA-256 fingerprint %s\n"
	msgTrustWritten = "cssm: wrote the signing public key to %s\n"
)
