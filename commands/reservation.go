package commands

import (
	"context"
	"fmt"
	"io"
)

// Handlers of Specific License Reservation (REFERENCE §2 and §4).

func (r *Runner) reservationEnable(ctx context.Context, c *Call) error {
	if err := r.Service.ReservationEnable(); err != nil {
		return err
	}
	io.WriteString(c.Term, "\n"+msgReservationEnabled+"\n")
	return nil
}

func (r *Runner) reservationDisable(ctx context.Context, c *Call) error {
	if err := r.Service.ReservationDisable(); err != nil {
		return err
	}
	fmt.Fprintln(c.Term, msgReservationDisabled)
	return nil
}

func (r *Runner) reservationRequest(ctx context.Context, c *Call) error {
	code, err := r.Service.ReservationRequest()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Term, "\n%s\n", code) // a blank line first, as TAC 214381 shows
	return nil
}

func (r *Runner) reservationCancel(ctx context.Context, c *Call) error {
	if err := r.Service.ReservationCancel(); err != nil {
		return err
	}
	fmt.Fprintln(c.Term, msgReservationCancelled)
	return nil
}

func (r *Runner) reservationInstall(ctx context.Context, c *Call) error {
	confirmation, updated, err := r.Service.ReservationInstall(c.Value(argAuthCode))
	return installed(c, confirmation, updated, err)
}

// installed prints what installing a code says; a code that updated an
// installed one prints only the confirmation line (seed 003).
func installed(c *Call, confirmation string, updated bool, err error) error {
	if err != nil {
		return err
	}
	if !updated {
		fmt.Fprintln(c.Term, msgCodeInstalled)
	}
	fmt.Fprintf(c.Term, "%s%s\n", msgEnterConfirmation, confirmation)
	return nil
}

// reservationInstallFile: the service runs the whole sequence; the session
// answers its questions (REFERENCE §2: User ID, Password, OpenSSH's
// host-key question).
func (r *Runner) reservationInstallFile(ctx context.Context, c *Call) error {
	confirmation, updated, err := r.Service.ReservationInstallFile(ctx, c.Value(argFileURL), c.Term)
	return installed(c, confirmation, updated, err)
}

func (r *Runner) reservationReturn(ctx context.Context, c *Call) error {
	fmt.Fprintln(c.Term, msgReturnWarning)
	ok, err := c.Term.Confirm(ctx, "Continue (y/n)?")
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(c.Term, msgReturnKept)
		return nil
	}
	code, err := r.Service.ReservationReturn()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Term, "%s\n%s\n", msgEnterReturnCode, code)
	return nil
}

func (r *Runner) reservationReturnAuthorization(ctx context.Context, c *Call) error {
	code, err := r.Service.ReservationReturnAuthorization(c.Value(argAuthCode))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Term, "%s\n%s\n", msgEnterReturnCode, code)
	return nil
}
