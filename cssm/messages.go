package cssm

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/reservation"
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
	return cssmapi.Errorf(cssmapi.CodeUnknownEntitlement, "The entitlement tag %q is not a UCM license known to this licensing server; report only the tags of REFERENCE §5.", tag)
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

func errIdempotencyKey() error {
	return cssmapi.Errorf(cssmapi.CodeBadRequest, "The %s header must be 16 to 128 characters of A-Z, a-z, 0-9, '-' and '_'; send a fresh key of that form.", cssmapi.HeaderIdempotencyKey)
}

func errIdempotencyReused(key string) error {
	return cssmapi.Errorf(cssmapi.CodeIdempotencyReused, "The idempotency key %s was already used for another request; send this request with a fresh key.", key)
}

func errShuttingDown() error {
	return cssmapi.Errorf(cssmapi.CodeUnavailable, "The licensing server is shutting down; try again when it is back.")
}

func errInternal() error {
	return cssmapi.Errorf(cssmapi.CodeInternal, "The licensing server could not read or save its records; try again, and if it persists check the server's log.")
}

func errDatabase(e *dbError) error {
	return cssmapi.Errorf(cssmapi.CodeUnavailable, "The licensing server's database is %s, so nothing was changed; try again in a minute.", e.reason())
}

func errAccountGone(va string) error {
	return cssmapi.Errorf(cssmapi.CodeInternal, "Virtual account %q no longer exists on the licensing server; ask its administrator to recreate it.", va)
}

// Portal errors and output.

func errNoVA(name string) error {
	return fmt.Errorf("there is no virtual account %q; create it with: cssm account create --smart NAME --virtual %q", name, name)
}

func errNoSA(name string) error {
	return fmt.Errorf("there is no smart account %q; create it with: cssm account create --smart %q --virtual NAME", name, name)
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
	return fmt.Errorf("%q is not a license tier; use one of %s", tier, strings.Join(cssmapi.TierNames(), ", "))
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
	msgServing      = "cssm: serving the product API on %s://%s (and the REST API; store %s, database %s)\n"
	msgFingerprint  = "cssm: TLS certificate SHA-256 fingerprint %s\n"
	msgTrustWritten = "cssm: wrote the signing public key to %s\n"
)

// Specific License Reservation: API refusal, portal errors and output.

func errReservedProduct(va string) error {
	return cssmapi.Errorf(cssmapi.CodeAlreadyRegistered, "This product holds a Specific License Reservation in virtual account %q; return the reservation (license smart reservation return) and enter its return code on the licensing server before registering.", va)
}

// reqCode is the request code of a stored UDI, the form admins paste.
func reqCode(udi string) string {
	if u, err := reservation.ParseUDI(udi); err == nil {
		return reservation.RequestCode(u)
	}
	return udi
}

func errPoolShort(va string, b Balance, want int) error {
	var why []string
	why = append(why, fmt.Sprintf("%d purchased", b.Purchased), fmt.Sprintf("%d reserved by other products", b.Reserved), fmt.Sprintf("%d in use", b.InUse))
	if b.Lent > 0 {
		why = append(why, fmt.Sprintf("%d covering lower tiers", b.Lent))
	}
	return fmt.Errorf("virtual account %q has only %d %s free to reserve, not %d (%s); reserve fewer or add licenses with: cssm license add --virtual %q --tier %s --count N",
		va, max(0, b.Balance()), strings.TrimSpace(b.DisplayName), want, strings.Join(why, ", "), va, b.Tier)
}

func displayName(tag string) string {
	if e, ok := cssmapi.LookupTag(tag); ok {
		return strings.TrimSpace(e.DisplayName)
	}
	return tag
}

func errPerpetualShort(va, tag string, want, have, taken int) error {
	return fmt.Errorf("virtual account %q has only %d perpetual %s free to reserve, not %d (%d perpetual purchased, %d reserved by other products); reserve fewer, reserve TERM licenses (%s=N:TERM), or add perpetual licenses",
		va, max(0, have-taken), displayName(tag), want, have, taken, tierName(tag))
}

func errTermShort(va, tag, end string, want, have, taken int) error {
	return fmt.Errorf("virtual account %q has only %d TERM %s lasting through %s free to reserve, not %d (%d such TERM licenses, %d reserved by other products); reserve fewer, give an earlier end day, or add TERM licenses with: cssm license add --virtual %q --tier %s --count N --term-end YYYY-MM-DD",
		va, max(0, have-taken), displayName(tag), end, want, have, taken, va, tierName(tag))
}

func errLicenseSyntax(s string) error {
	return fmt.Errorf("--license %q is not TIER=COUNT, TIER=COUNT:TERM or TIER=COUNT:TERM:YYYY-MM-DD (for example Enhanced=5 or CUWL=2:TERM:2027-12-31)", s)
}

func errLicenseTier(s, name string) error {
	return fmt.Errorf("--license %q: %q is not a license tier or tag; use one of %s", s, name, strings.Join(cssmapi.TierNames(), ", "))
}

func errLicenseCount(s string, n int) error {
	return fmt.Errorf("--license %q: the count must be from 1 to %d, not %d", s, reservation.MaxCount, n)
}

func errLicenseDate(s, d string) error {
	return fmt.Errorf("--license %q: the TERM end day %q is not a date (YYYY-MM-DD)", s, d)
}

func errNoLicenses() error {
	return errors.New("give at least one --license TIER=COUNT (for example --license Enhanced=5)")
}

func errLicenseTwice(tier string) error {
	return fmt.Errorf("--license gives %s more than once; give each tier once with its total count", tier)
}

func errNoTermLicences(va, tier string) error {
	return fmt.Errorf("virtual account %q has no TERM %s license in date to take the end day from; give it (%s=N:TERM:YYYY-MM-DD) or add TERM licenses", va, tier, tier)
}

func errReserveEnded(tier, end, today string) error {
	return fmt.Errorf("--license %s:TERM:%s ends before today, %s; give an end day from today on", tier, end, today)
}

func errCannotSign(err error) error {
	return fmt.Errorf("cssm could not sign the authorization code: %v", err)
}

func errStoredCode(err error) error {
	return fmt.Errorf("an authorization code in the cssm store no longer reads back (%v); the store was edited or damaged: restore it from a backup", err)
}

func inVA(virtual string) string {
	if virtual == "" {
		return ""
	}
	return fmt.Sprintf(" in virtual account %q", virtual)
}

func errNoReservation(udi reservation.UDI, virtual string) error {
	return fmt.Errorf("there is no reservation for %s%s; list them with: cssm reservation list", reservation.RequestCode(udi), inVA(virtual))
}

func errRegisteredNotReserved(udi reservation.UDI, in *Instance) error {
	return fmt.Errorf("product %s is registered (product instance %s in virtual account %q), not reserved; there is no reservation to change", reservation.RequestCode(udi), in.ID, in.VirtualAccount)
}

func errReservationElsewhere(udi reservation.UDI, virtual, actual string) error {
	return fmt.Errorf("the reservation for %s is in virtual account %q, not %q; give --virtual %q", reservation.RequestCode(udi), actual, virtual, actual)
}

func errAlreadyReserved(udi reservation.UDI, in *Instance) error {
	return fmt.Errorf("product %s already has a reservation (product instance %s in virtual account %q); change it with: cssm reservation update --virtual %q --request-code %s --license TIER=COUNT",
		reservation.RequestCode(udi), in.ID, in.VirtualAccount, in.VirtualAccount, reservation.RequestCode(udi))
}

func errRegisteredNotReservable(udi reservation.UDI, in *Instance) error {
	return fmt.Errorf("product %s is registered as product instance %s in virtual account %q; a product uses either registration or a reservation: remove that instance (cssm instance remove %s) before reserving licenses for it",
		reservation.RequestCode(udi), in.ID, in.VirtualAccount, in.ID)
}

func msgIssued(i *Issued) string {
	var b strings.Builder
	if i.TrustWritten != "" {
		fmt.Fprintf(&b, msgTrustWritten, i.TrustWritten)
	}
	verb, what := "reserved", "install it on the node"
	if i.Update {
		verb, what = "updated the reservation to", "install it on the node (the update is in transit until then)"
	}
	export := "not allowed"
	if i.ExportAllowed {
		export = "allowed"
	}
	fmt.Fprintf(&b, "cssm: %s %s for %s in virtual account %q (product instance %s, code issued %s, export-controlled functionality %s).\n",
		verb, FormatLicenses(i.Licenses), i.RequestCode, i.VirtualAccount, i.InstanceID, stampText(i.Timestamp), export)
	fmt.Fprintf(&b, "cssm: %s, then enter the confirmation code it prints with: cssm reservation confirm --virtual %q --request-code %s --code CODE\n",
		what, i.VirtualAccount, i.RequestCode)
	return b.String()
}

// stampText shows a code's timestamp to the millisecond, its precision.
func stampText(t time.Time) string { return t.UTC().Format(stampLayout) }

func errConfirmationSyntax(s string) error {
	return fmt.Errorf("the confirmation code %q is not 8 hex digits (like 17488c1f); copy it from the node's message after it installed the code", strings.TrimSpace(s))
}

func errConfirmationWrong(udi reservation.UDI, newest *IssuedCode) error {
	return fmt.Errorf("the confirmation code does not match any authorization code issued to %s that awaits confirmation (the newest was issued %s); nothing changed: install the newest code on the node (cssm reservation code prints it) and enter the code it prints",
		reservation.RequestCode(udi), stampText(newest.Timestamp))
}

func msgAlreadyConfirmed(udi reservation.UDI, c *IssuedCode) string {
	return fmt.Sprintf("Confirmation code %s was already entered on %s for the code issued %s to %s; nothing changed.\n",
		c.Confirmation, c.Confirmed.UTC().Format(listTime), stampText(c.Timestamp), reservation.RequestCode(udi))
}

func msgConfirmed(udi reservation.UDI, in *Instance, c *IssuedCode) string {
	msg := fmt.Sprintf("Confirmation code accepted: %s (product instance %s) installed the code issued %s with %s.",
		reservation.RequestCode(udi), in.ID, stampText(c.Timestamp), FormatLicenses(c.Licenses))
	if n := in.Reservation.newest(); n != c {
		msg += fmt.Sprintf(" A newer code issued %s is still in transit.", stampText(n.Timestamp))
	} else {
		msg += " The reservation is " + ReservationInstalled + "."
	}
	return msg + "\n"
}

func msgReturned(id, udi, va string, held []ReservedLicense) string {
	return fmt.Sprintf("Return code accepted: the reservation of %s (product instance %s) is returned and %s went back to virtual account %q.\n",
		reqCode(udi), id, FormatLicenses(held), va)
}

func errReturnWrong(udi reservation.UDI) error {
	return fmt.Errorf("the return code does not match any authorization code issued to %s that the product may hold; nothing changed and the licenses stay reserved: copy the return code again from the node", reservation.RequestCode(udi))
}

func errReturnAndForce() error {
	return errors.New("give either --return-code or --force-without-return, not both")
}

func errNotAReservation(in *Instance) error {
	return fmt.Errorf("product instance %s is registered, not a reservation: remove it without --return-code or --force-without-return", in.ID)
}

func errReservationNeedsReturn(in *Instance, held []ReservedLicense) error {
	return fmt.Errorf("product instance %s holds a Specific License Reservation (%s) that would be lost: give the return code the node prints for 'license smart reservation return' with --return-code CODE, or add --force-without-return to remove it and leave those licenses out of the pool",
		in.ID, FormatLicenses(held))
}

func msgForfeited(in *Instance, held []ReservedLicense) string {
	return fmt.Sprintf("Product instance %s (%s) removed without a return code: %s stay out of virtual account %q's pool. If the product turns up, its return code still gives them back: cssm reservation return --request-code %s --return-code CODE\n",
		in.ID, reqCode(in.UDI), FormatLicenses(held), in.VirtualAccount, reqCode(in.UDI))
}

func errWriteCode(path string, err error) error {
	return fmt.Errorf("cannot write the authorization code to %s: %v", path, err)
}

const msgNoReservations = "No license reservations.\n"

// REST API refusals and answers ({"status": "ERROR", "statusMessage": ...}),
// and the OAuth token endpoint's error descriptions.
const (
	msgRESTNoResource       = "There is no resource %s %s on this server."
	msgRESTReadOnly         = "User %s is read-only and cannot change anything."
	msgRESTNoScope          = "User %s may not do this in account %s; ask an admin of the smart account for a role there."
	msgRESTBodyTooLarge     = "The request body is larger than %d bytes."
	msgRESTNotJSON          = "The request body is not a JSON object (%v)."
	msgRESTBadFields        = "The request body does not fit this call: %v."
	msgRESTNoSmartAccount   = "There is no smart account %q."
	msgRESTNoVirtualAccount = "Smart account %q has no virtual account %q."
	msgRESTExportControlled = "exportControlled must be \"Allowed\" or \"Not Allowed\", not %q."
	msgRESTDescription      = "The description is longer than 255 characters."
	msgRESTRevokeCount      = "Give 1 to 100 tokens to revoke, not %d."
	msgRESTNoToken          = "Virtual account %q has no token %q."
	msgRESTPaging           = "limit must be 1 to 1000 and offset 0 or more, not %d and %d."
	msgRESTTransferCount    = "A transfer names 1 to 10 licenses, not %d."
	msgRESTUnknownLicence   = "%q is not a license of this server; use its display name, for example %q."
	msgRESTLicenseType      = "licenseType must be PERPETUAL or TERM, not %q."
	msgRESTQuantity         = "The quantity of %s must be 0 to 1000000."
	msgRESTSameAccount      = "The target virtual account %q is the source; transfer to another virtual account."
	msgRESTNotAvailable     = "Virtual account %q has only %d %s licenses of %s available to transfer, not %d; nothing was transferred."
	msgRESTOneReservation   = "Send one reservation request per call, not %d."
	msgRESTLimit            = "limit must be 1 to 1000, not %q."
	msgRESTOffset           = "offset must be 0 or more, not %q."
	msgOAuthPost            = "The token endpoint takes POST."
	msgOAuthTooLarge        = "The request body is too large."
	msgOAuthBadJSON         = "The JSON body is malformed."
	msgOAuthBadForm         = "The form body is malformed."
	msgOAuthBadClient       = "The client id or secret is wrong."
	msgOAuthBadPassword     = "The user name or password is wrong."
	msgOAuthNoGrant         = "grant_type is missing; use client_credentials or password."
	msgOAuthGrant           = "Only the client_credentials and password grants are supported."
	msgOAuthDatabase        = "The licensing server's database is not available; try again in a minute."
	msgRESTInternal         = "The server failed on this request (a bug; its log has the detail), so it may not have been carried out: check before you try again, and report it if it persists."
	msgRESTNoBearer         = "A valid bearer access token is required; get one from the OAuth token endpoint."
	msgRESTReservationType  = "reservationType %q is not supported; this server reserves SPECIFIC licenses."
	msgRESTNoQuantity       = "The license %s has no quantity."
	msgRESTRevoked          = "%d token(s) revoked."
	msgRESTTransferred      = "%d license(s) transferred."
)

// API clients and users (cssm api-client create, cssm user add).

func errClientID(id string) error {
	return fmt.Errorf("the client id %q must be 8 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-'", id)
}

func errClientSecret(n int) error {
	return fmt.Errorf("a client secret must be 16 to 512 characters, not %d", n)
}

func errClientExists(id string) error {
	return fmt.Errorf("an API client with id %q exists already; choose another --id", id)
}

func errRole(role string) error {
	return fmt.Errorf("--role %q is not admin, user or read-only", role)
}

func errPasswordLength(n int) error {
	return fmt.Errorf("a password must be 8 to 72 bytes long (bcrypt's limit), not %d", n)
}

func errGrantBoth() error {
	return fmt.Errorf("give --smart or --virtual, not both: a grant covers one smart account or one virtual account")
}

func errGrantAdminVA(va string) error {
	return fmt.Errorf("--role admin is given over a smart account: use --smart with the smart account holding %q", va)
}

func errGrantUserSA(sa string) error {
	return fmt.Errorf("--role user is given over a virtual account: use --virtual with one of %q's virtual accounts", sa)
}

func msgUserSaved(name, role string) string {
	return fmt.Sprintf("User %q (%s) saved.\n", name, role)
}

const (
	msgRESTNoSUDI        = "The request names no device: give sudi.udiPid and sudi.udiSerialNumber."
	msgRESTNoReservation = "Virtual account %q has no reservation for the device PID %s, serial number %s."
	msgRESTOneDevice     = "Send one device per call, not %d."
)

const (
	msgNoAccounts = "No virtual accounts. Create one with cssm account create --smart NAME --virtual NAME.\n"
	msgNoTokens   = "No registration tokens. Create one with cssm token create --virtual NAME.\n"
)

// Satellite synchronization.
const (
	msgSyncNotAKey            = "The key is not a PEM \"PUBLIC KEY\" (ECDSA P-256) as `cssm key` prints it."
	msgSyncTooLarge           = "The sync file is larger than %d MiB; it is not a cssm sync file."
	msgSyncNotAFile           = "The file is not a valid cssm sync file; nothing was applied. Use the file `cssm satellite sync export` or `sync import --reply` wrote, unchanged."
	msgSyncFormat             = "The sync file's format is %q, not %q; nothing was applied. Use a cssm of the same version on both sides."
	msgSyncNotUp              = "The file is a parent's reply, not a satellite's sync file; nothing was applied. Apply it on the satellite with `cssm satellite sync apply`."
	msgSyncNotDown            = "The file is a satellite's sync file, not a parent's reply; nothing was applied. Import it on the parent with `cssm satellite sync import`."
	msgSyncOtherParent        = "The sync file is for another parent (its parent key is not this cssm's); nothing was applied. Import it on the parent the satellite was set up with."
	msgSyncBadSignature       = "The sync file is not signed by satellite %q's registered key (altered, or from another satellite); nothing was applied. Export a new file on that satellite."
	msgSyncBadParentSignature = "The reply is not signed by this satellite's parent (altered, or from another parent); nothing was applied. Import the satellite's file on its parent again and apply that reply."
	msgSyncReplayed           = "The sync file is number %d, but the parent has already accepted number %d (an old file sent again); nothing was applied. Export a new file on the satellite."
	msgSyncReplyReplayed      = "The reply to export %d has already been applied; nothing was applied again."
	msgSyncReplyStale         = "The reply answers export %d, but this satellite's newest export is %d; nothing was applied. Import the newest export on the parent and apply its reply."
	msgSyncOtherSatellite     = "The reply is for satellite %q, not for this satellite %q; nothing was applied."
	msgSyncForeignVA          = "The sync file lists instance %s in virtual account %q, which satellite %q may not serve; nothing was applied."
	msgSyncApplied            = "Synchronized with the parent: %s updated, %s removed.\n"
	msgSyncUnreachable        = "Cannot reach the parent at %s: %v. The satellite keeps serving its nodes; sync again later or use `cssm satellite sync export`."
	msgSyncParentRefused      = "The parent at %s refused the sync: %s"
	msgSatelliteNoVA          = "Give the virtual accounts the satellite serves with --virtual NAME (repeatable)."
	msgSatelliteExists        = "A satellite named %q is already registered."
	msgSatelliteAdded         = "Satellite %q registered; it serves virtual accounts %s.\n"
	msgSatelliteUnknown       = "No satellite named %q is registered with this parent; register it with `cssm satellite add` (on the parent) first."
	msgSatelliteWasRemoved    = "Satellite %q was removed on %s after 90 days without synchronization; nothing was applied. Register it again with `cssm satellite add`."
	msgSatelliteNoInstance    = "Satellite %q reported no instance %s."
	msgSatelliteRevoked       = "Instance %s is revoked; satellite %q removes it at its next sync.\n"
	msgSatelliteAlreadySetUp  = "This cssm is already satellite %q."
	msgSatelliteSetUp         = "This cssm is now satellite %q of the parent with key %s.\n"
	msgSatelliteNotSetUp      = "This cssm is not a satellite; set it up with `cssm satellite setup --name NAME --parent-key FILE`."
	msgSatelliteNoURL         = "This satellite has no parent URL; serve with `cssm serve --satellite-of URL`, or sync by file with `cssm satellite sync export`."
	msgSatelliteBadURL        = "--satellite-of %q is not the parent's URL; give http://HOST:PORT or https://HOST:PORT."
	msgNoSatellites           = "No satellites are registered.\n"
	msgSatelliteTooMany       = "The satellite serves more than %d product instances, more than one sync file carries."
)
