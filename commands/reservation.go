package commands

import (
	"context"
	"fmt"
	"io"

	"github.com/ucmsh/ucmsh/internal/statedir"

	"github.com/ucmsh/ucmsh/reservation"
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
	fmt.Fprintln(c.Term, code)
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
	return r.install(ctx, c, c.Value(argAuthCode))
}

func (r *Runner) install(ctx context.Context, c *Call, code string) error {
	confirmation, err := r.Service.ReservationInstall(code)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Term, "%s\n%s%s\n", msgCodeInstalled, msgEnterConfirmation, confirmation)
	return nil
}

// reservationInstallFile fetches the code over SFTP (REFERENCE §2: User
// ID and Password questions, OpenSSH's host-key question), then installs it.
func (r *Runner) reservationInstallFile(ctx context.Context, c *Call) error {
	u, err := reservation.ParseSFTPURL(c.Value(argFileURL))
	if err != nil {
		return err
	}
	if err := r.Service.ReservationReady(); err != nil {
		return err
	}
	keys, hangUp := reservation.UserKeys()
	defer hangUp()
	data, err := reservation.Fetch(ctx, u, reservation.FetchOptions{
		KnownHosts:  statedir.Node(r.Service.Store().Dir()).KnownHosts(),
		Interactive: c.Term.Interactive(),
		Ask:         c.Term.Prompt,
		Secret:      c.Term.ReadSecret,
		Confirm:     c.Term.Confirm,
		Signers:     keys,
		Out:         c.Term,
	})
	if err != nil {
		return err
	}
	return r.install(ctx, c, string(data))
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
