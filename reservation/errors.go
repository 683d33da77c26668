package reservation

import (
	"errors"
	"fmt"
)

// Kinds of failure, for errors.Is. The error a function returns carries its
// own sentence for the user; these only say which kind it is, so callers can
// branch without matching text.
var (
	ErrBadFormat     = errors.New("reservation: bad format")
	ErrBadSignature  = errors.New("reservation: bad signature")
	ErrNoTrustedKeys = errors.New("reservation: no trusted key")
	ErrWrongUDI      = errors.New("reservation: wrong UDI")
	ErrStale         = errors.New("reservation: stale code")
	ErrExpired       = errors.New("reservation: license out of date")
	ErrFuture        = errors.New("reservation: code issued in the future")
	ErrBadTrustKey   = errors.New("reservation: bad trusted key")
)

// codeError pairs a user-facing sentence with its kind.
type codeError struct {
	kind error
	msg  string
}

func (e *codeError) Error() string { return e.msg }
func (e *codeError) Unwrap() error { return e.kind }

func newErr(kind error, format string, args ...any) error {
	return &codeError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// All user-facing text of the package, in one place.
const (
	// Authorization code.
	msgAuthEmpty     = "The authorization code is empty: paste the whole code between double quotes."
	msgAuthTooLong   = "The authorization code is too long (%d bytes, the limit is %d): check that only the code was pasted."
	msgAuthNotUTF8   = "The authorization code contains bytes that are not text: paste the code again as plain text."
	msgAuthEntity    = "The authorization code contains '&', but entities are not allowed: paste the code exactly as the licensing server issued it."
	msgAuthDecl      = "The authorization code contains %q, but declarations, comments and processing instructions are not allowed: paste the code exactly as the licensing server issued it."
	msgAuthTruncated = "The authorization code is truncated: %s is missing."
	msgAuthExpected  = "The authorization code is malformed: %s was expected at character %d."
	msgAuthTrailing  = "The authorization code is malformed: unexpected text after </specificPLR> at character %d."
	msgAuthValue     = "The authorization code is malformed: <%s> %s."
	msgAuthTooMany   = "The authorization code lists more than %d entitlements, which is more than a node can hold."
	msgAuthDupTag    = "The authorization code lists entitlement %s twice."
	msgAuthTermDates = "The authorization code's TERM entitlement %s needs both a start and an end date."
	msgAuthDateOrder = "The authorization code's entitlement %s ends before it starts."
	msgAuthUDI       = "The authorization code's <udi> is not valid: %s"
	msgAuthNoSig     = "The authorization code has an empty signature: paste the whole code again."
	msgCannotSign    = "The authorization code cannot be signed: %s"
	msgSignFailed    = "The authorization code could not be signed: %v."

	// Verification and checks.
	msgNoKeys      = "No licensing-server key is trusted on this node: add the server's public key to the trust directory and install the code again."
	msgBadSig      = "The authorization code's signature does not match any trusted licensing-server key: check that the whole code was pasted unchanged and that it comes from a trusted server."
	msgWrongUDI    = "The Reservation Authorization Code does not match the Reservation Request Code: the code is for %s but this node's request code is %s; generate the code from this node's request code."
	msgStale       = "The authorization code is not newer than the one last installed (issued %s, last installed %s): generate a new code on the licensing server."
	msgTermExpired = "The authorization code's %s license %q expired on %s: renew the subscription and generate a new code."
	msgTermFuture  = "The authorization code's %s license %q starts on %s and is not valid yet: install it on or after that day."
	msgFuture      = "The authorization code was issued at %s, more than 24 hours after this node's clock (%s): check the node's date and time, then install the code again."

	// Request code and UDI.
	msgReqEmpty   = "The %s is empty: it looks like %s."
	msgReqShape   = "The %s %q is not in the form %s."
	msgReqPID     = "The %s has an invalid product ID %q: use letters, digits, '.', '_' or '-'."
	msgReqUUID    = "The %s has an invalid UUID %q: it must be %s."
	msgReqSN      = "The %s has serial number %q, but the serial number must be the last five hex digits of the UUID (%s)."
	msgReqTooLong = "The %s is too long (%d characters): check that only the code was pasted."

	// Return code.
	msgRetShape = "The return code %q is not in the form xxxxxx-xxxxxx-xxxxxx-xxxxxx-xxxxxx-xxxxxx-xxxxxx-xxxxxx-xxx (letters and digits): copy it again from the node."

	// Trusted keys.
	msgKeyRead    = "The trusted key file %s cannot be read: %v."
	msgKeyNoPEM   = "The trusted key file %s does not hold a PEM \"PUBLIC KEY\" block: replace it with the licensing server's public key."
	msgKeyPEMType = "The trusted key file %s holds a PEM %q block, but only \"PUBLIC KEY\" is accepted: replace it with the licensing server's public key."
	msgKeyParse   = "The trusted key file %s does not hold a valid public key: %v."
	msgKeyCurve   = "The trusted key file %s does not hold an ECDSA P-256 key, the only kind licensing servers use."
	msgKeyDir     = "The trust directory %s cannot be read: %v."
)
