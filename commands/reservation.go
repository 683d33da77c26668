package commands

import (
	"fmt"
	"io"
)

// Handlers of Specific License Reservation (REFERENCE §2 and §4).

func (r *Runner) reservationEnable(c *Call) error {
	if err := r.Service.ReservationEnable(); err != nil {
		return err
	}
	io.WriteString(c.T, "\n"+msgReservationEnabled+"\n")
	return nil
}

func (r *Runner) reservationDisable(c *Call) error {
	if err := r.Service.ReservationDisable(); err != nil {
		return err
	}
	fmt.Fprintln(c.T, msgReservationDisabled)
	return nil
}

func (r *Runner) reservationRequest(c *Call) error {
	code, err := r.Service.ReservationRequest()
	if err != nil {
		return err
	}
	fmt.Fprintln(c.T, code)
	return nil
}

func (r *Runner) reservationCancel(c *Call) error {
	if err := r.Service.ReservationCancel(); err != nil {
		return err
	}
	fmt.Fprintln(c.T, msgReservationCancelled)
	return nil
}

func (r *Runner) reservationInstall(c *Call) error {
	confirmation, err := r.Service.ReservationInstall(c.Args["authorization-code"])
	return installed(c, confirmation, err)
}

func installed(c *Call, confirmation string, err error) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(c.T, "%s\n%s%s\n", msgCodeInstalled, msgEnterConfirmation, confirmation)
	return nil
}

// reservationInstallFile: the service runs the whole sequence; the session
// answers its questions (REFERENCE §2: User ID, Password, OpenSSH's
// host-key question).
func (r *Runner) reservationInstallFile(c *Call) error {
	confirmation, err := r.Service.ReservationInstallFile(c.Ctx, c.Args["url"], c.T)
	return installed(c, confirmation, err)
}

func (r *Runner) reservationReturn(c *Call) error {
	fmt.Fprintln(c.T, msgReturnWarning)
	ok, err := c.T.Confirm(c.Ctx, "Continue (y/n)?")
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(c.T, msgReturnKept)
		return nil
	}
	code, err := r.Service.ReservationReturn()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.T, "%s\n%s\n", msgEnterReturnCode, code)
	return nil
}

func (r *Runner) reservationReturnAuthorization(c *Call) error {
	code, err := r.Service.ReservationReturnAuthorization(c.Args["authorization-code"])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.T, "%s\n%s\n", msgEnterReturnCode, code)
	return nil
}
