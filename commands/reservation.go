package commands

import (
	"fmt"
	"io"

	"github.com/ucmsh/ucmsh/internal/statedir"

	"github.com/ucmsh/ucmsh/reservation"
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
	return r.install(c, c.Args["authorization-code"])
}

func (r *Runner) install(c *Call, code string) error {
	confirmation, err := r.Service.ReservationInstall(code)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.T, "%s\n%s%s\n", msgCodeInstalled, msgEnterConfirmation, confirmation)
	return nil
}

// reservationInstallFile fetches the code over SFTP (REFERENCE §2: User
// ID and Password questions, OpenSSH's host-key question), then installs it.
func (r *Runner) reservationInstallFile(c *Call) error {
	u, err := reservation.ParseSFTPURL(c.Args["url"])
	if err != nil {
		return err
	}
	if err := r.Service.ReservationReady(); err != nil {
		return err
	}
	keys, hangUp := reservation.UserKeys()
	defer hangUp()
	data, err := reservation.Fetch(c.Ctx, u, reservation.FetchOptions{
		KnownHosts:  statedir.Node(r.Service.Store().Dir()).KnownHosts(),
		Interactive: c.T.Interactive(),
		Ask:         c.T.Prompt,
		Secret:      c.T.ReadSecret,
		Confirm:     c.T.Confirm,
		Signers:     keys,
		Out:         c.T,
	})
	if err != nil {
		return err
	}
	return r.install(c, string(data))
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
