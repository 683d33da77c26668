package publisher

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/statedir"
	"github.com/ucmsh/ucmsh/reservation"
)

// Every sentence the licensing service says about a failure lives here.

// Error is a failed precondition or a refusal: its text is for the user.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func errorf(format string, args ...any) error { return &Error{msg: fmt.Sprintf(format, args...)} }

var (
	errNotRegistered             = errorf("This node is not registered. Register it first with license smart register idtoken <token>.")
	errNoPending                 = errorf("No export key request or return is pending, so there is nothing to cancel.")
	errRegisteredNoReservation   = errorf("This node is registered with Smart Licensing. Deregister it first with license smart deregister, then enable reservation.")
	errReservationAlreadyEnabled = errorf("License reservation mode is already enabled.")
	errRequestWhileReserved      = errorf("A reservation is installed already. To change it, update the reservation in CSSM and install the new authorization code.")
	errNoRequest                 = errorf("No reservation request is in progress, so there is nothing to cancel.")
	errNoRequestCode             = errorf("No reservation request code has been generated. Run license smart reservation request and enter the code in CSSM first.")
	errNothingToReturn           = errorf("No reservation authorization code is installed, so there is nothing to return. For a code generated but not installed, use license smart reservation return-authorization \"<authorization-code>\".")
	errReturnInstalledInstead    = errorf("A reservation authorization code is installed; return it with license smart reservation return.")
	errRegistrationChanged       = errorf("The registration changed while this command ran (another session?). Check show license status and try again.")
	errCallRecordedElsewhere     = errorf("Another session recorded the outcome of this request meanwhile. Check show license status.")
	errRegistrationInProgress    = errorf("A registration of this node is in progress in another session. Wait for it to finish, then check show license status.")
)

// callName is how the messages name a state-changing call.
func callName(path string) string {
	switch path {
	case cssmapi.PathRegister:
		return "registration"
	case cssmapi.PathRenewID:
		return "registration renewal"
	case cssmapi.PathAuthorize:
		return "authorization renewal"
	case cssmapi.PathDeregister:
		return "deregistration"
	case cssmapi.PathExportRequest:
		return "export key request"
	case cssmapi.PathExportReturn:
		return "export key return"
	}
	return path
}

// callTitle is callName at the start of a trace line.
func callTitle(path string) string {
	n := callName(path)
	return strings.ToUpper(n[:1]) + n[1:]
}

func errCallInProgress(name string) error {
	return errorf("A %s of this node is in progress in another session; try again in a moment.", name)
}

func errCallUnanswered(name, reason string) error {
	if reason != "" {
		reason = " (last attempt: " + reason + ")"
	}
	return errorf("The licensing server has not answered this node's earlier %s yet%s, so nothing else is sent until it does. It is sent again with every licensing command; check the transport with show license status and the network. If that server will never answer, license smart factory reset gives the request up.", name, reason)
}

// errCallKept: the server may have acted on a call it did not answer.
func errCallKept(cause error, path string) error {
	if path == cssmapi.PathExportRequest || path == cssmapi.PathExportReturn {
		return errExportKept(cause, exportOp(path))
	}
	return errorf("%v The %s is sent again with the next licensing command, so that this node and the licensing server agree on its outcome.", cause, callName(path))
}

// TrustRefusal is an answer of the licensing server that no key in the
// node's trust folder verifies (or a trust folder that cannot be read).
// The node treats it like no answer: errors.Is(err, cssmapi.ErrUnreachable).
type TrustRefusal struct {
	Server, Dir string
	Err         error
	Answered    bool // the server answered (unset: the trust folder failed)
}

func (e *TrustRefusal) Error() string {
	return fmt.Sprintf("The answer of the licensing server %s is not trusted (%v), so it counts as no answer. This node trusts only the keys in %s; if you trust this server, save its key there: cssm key prints it (cssm key > %s/cssm.pem on the same machine).", e.Server, e.Err, e.Dir, e.Dir)
}

func (e *TrustRefusal) Unwrap() error { return e.Err }

// Is: an untrusted answer counts as no answer at all.
func (e *TrustRefusal) Is(target error) bool { return target == cssmapi.ErrUnreachable }

// reasonUntrusted is the failure reason an untrusted answer records (the
// same on every node, so the folder is named relative to the state folder).
const reasonUntrusted = "Answer not signed by a trusted key (the state folder's " + statedir.TrustDir + "/ folder; cssm key prints the server's key)"

func errExportKept(cause error, op string) error {
	return errorf("%v The %s is kept and retried every hour; cancel it with license smart export cancel.", cause, op)
}

func errReservationNotEnabled() error {
	return errorf("License reservation mode is not enabled. Enable it with license smart reservation enable.")
}

func errCodeReturned(rc *ReturnedCode) error {
	return errorf("This authorization code was already returned (return code %s): its licenses went back to CSSM, so it can never be installed again on this node. Reserve the licenses again in CSSM and install the new authorization code.", rc.ReturnCode)
}

func errNotNewestCode(issued, newest time.Time) error {
	return errorf("It is not the newest code this node installed (issued %s; the newest was issued %s), so the state file was changed by hand.", issued.UTC().Format(time.RFC3339Nano), newest.UTC().Format(time.RFC3339Nano))
}

func errReservationInstalled() error {
	return errorf("A reservation authorization code is installed. Return it first with license smart reservation return.")
}

func errReservationEnabled() error {
	return errorf("Specific License Reservation is enabled on this node; disable it (or return the installed reservation) before registering.")
}

// errExportByReservation: under a reservation the code itself decides.
func errExportByReservation(ac *reservation.AuthCode) error {
	if ac != nil && ac.ExportAllowed {
		return errorf("Export-controlled functionality is already allowed by the installed reservation authorization code; no key request is needed.")
	}
	return errorf("Export-controlled functionality is not allowed by the installed reservation authorization code. Ask for a code that allows it and install it.")
}

func errUsesReservation() error {
	return errorf("This node uses a Specific License Reservation, not a registration; return it with license smart reservation return.")
}

func errAlreadyRegistered(sa, va string) error {
	return errorf("This node is already registered (Smart Account %s, Virtual Account %s). To register it again, add force: license smart register idtoken <token> force", sa, va)
}

func errUnknownFeature(f string) error {
	return errorf("%q is not an export-controlled feature of this product; the feature is %s.", f, ExportFeature)
}

func errExportNotAllowed() error {
	return errorf("Export-controlled functionality is not allowed for this node: its registration token did not allow it. Register again with a token that allows export-controlled functionality.")
}

func errAlreadyHeld(f string) error {
	return errorf("The export authorization key for %s is already installed on this node.", f)
}

func errNotHeld(f string) error {
	return errorf("This node holds no export authorization key for %s, so there is none to return.", f)
}

func errPendingExport(p *PendingExport) error {
	return errorf("An export key %s for %s is still pending; wait for its retry or cancel it with license smart export cancel.", p.Op, p.Feature)
}

// reasonSendError is the agent's own wording for an unreachable server.
const reasonSendError = "Communication message send error"

// failureReason is what an attempt records as its "Failure reason".
func failureReason(err error) string {
	var tr *TrustRefusal
	if errors.As(err, &tr) {
		return reasonUntrusted
	}
	var ue *cssmapi.UnreachableError
	if errors.As(err, &ue) {
		return reasonSendError
	}
	var ae *cssmapi.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

// serverError turns a licensing server failure into one sentence saying
// what is wrong and what to do.
func serverError(server string, err error) error {
	var tr *TrustRefusal
	if errors.As(err, &tr) {
		return errorf("%s", tr.Error())
	}
	var ue *cssmapi.UnreachableError
	if errors.As(err, &ue) {
		return errorf("The licensing server %s cannot be reached (%v). Check the transport with show license status and the network, then try again.", server, ue.Err)
	}
	var ae *cssmapi.Error
	if !errors.As(err, &ae) {
		return errorf("The licensing server %s could not be used: %v", server, err)
	}
	switch ae.Code {
	case cssmapi.CodeTokenUnknown:
		return errorf("The registration token is not valid: the licensing server does not know it. Copy the token again from the Smart Account, or create a new one.")
	case cssmapi.CodeTokenExpired:
		return errorf("The registration token has expired. Create a new token in the Smart Account and register again.")
	case cssmapi.CodeTokenUsedUp:
		return errorf("The registration token has been used as many times as it allows. Create a new token in the Smart Account and register again.")
	case cssmapi.CodeAlreadyRegistered:
		return errorf("This node is registered in another Virtual Account. To move it, add force: license smart register idtoken <token> force")
	case cssmapi.CodeInstanceNotFound, cssmapi.CodeUnauthorized:
		return errorf("The licensing server no longer knows this node (it was removed from the Smart Account). Register it again with a new token.")
	case cssmapi.CodeExportNotAllowed:
		return errExportNotAllowed()
	case cssmapi.CodeNoExportKeys:
		return errorf("The Virtual Account has no export authorization key left. Add keys to it in the Smart Account, then try again.")
	case cssmapi.CodeNotHeld:
		return errorf("The licensing server says this node holds no export authorization key to return.")
	}
	return errorf("The licensing server refused the request: %s", ae.Message)
}

// forgotten reports whether the server no longer knows the instance.
func forgotten(err error) bool {
	return cssmapi.IsCode(err, cssmapi.CodeInstanceNotFound) || cssmapi.IsCode(err, cssmapi.CodeUnauthorized)
}

var errNoTrustedKeys = errors.New("the trust folder holds no key")

// Refusals of the gateway command from 14SU4 and 15SU2 on (CLI reference
// R15): Smart Transport (direct or proxy, what a fresh install uses)
// cannot be switched to a gateway.
const msgGatewaySmartTransport = "license smart transport gateway cannot be used in Smart Transport mode (direct or proxy) on this version: it only changes the URL of a Transport Gateway or a satellite configured before. To use a satellite, run license smart transport ssm-satellite <URL>."
