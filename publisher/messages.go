package publisher

import (
	"errors"
	"fmt"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
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
)

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
