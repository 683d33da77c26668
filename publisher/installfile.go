package publisher

import (
	"context"
	"log/slog"
	"time"

	"github.com/ucmsh/ucmsh/installfile"
	"github.com/ucmsh/ucmsh/internal/statedir"
)

// InstallFileConfig says how install-file logs in to SFTP servers. The
// zero value is what a server needs: only what the session's user types,
// or the node's own key (statedir.Node.InstallFileKey).
type InstallFileConfig struct {
	// UserKeys also offers the keys of the user running the process (SSH
	// agent, ~/.ssh): right for a local console, never for ucmsh serve.
	UserKeys bool
	// Log, if set, records each login (host, port, user, method or key).
	Log *slog.Logger
	// ConnectTimeout and TransferTimeout override installfile's defaults.
	ConnectTimeout, TransferTimeout time.Duration
}

// ReservationInstallFile is `license smart reservation install-file`: it
// checks the URL and the preconditions before a question is asked, fetches
// the code over SFTP with a's answers, then installs it as
// ReservationInstall does (parse, verify, check, record in one
// transaction). It returns what ReservationInstall returns.
func (s *Service) ReservationInstallFile(ctx context.Context, url string, a installfile.Asker) (confirmation string, updated bool, err error) {
	u, err := installfile.ParseSFTPURL(url)
	if err != nil {
		return "", false, err
	}
	if err := s.ReservationReady(); err != nil {
		return "", false, err
	}
	dir := statedir.Node(s.store.Dir())
	keys, hangUp := installfile.Keys(dir.InstallFileKey(), s.InstallFile.UserKeys)
	defer hangUp()
	data, err := installfile.Fetch(ctx, u, installfile.FetchOptions{
		KnownHosts:      dir.KnownHosts(),
		Signers:         keys,
		Log:             s.InstallFile.Log,
		ConnectTimeout:  s.InstallFile.ConnectTimeout,
		TransferTimeout: s.InstallFile.TransferTimeout,
	}.AskWith(a))
	if err != nil {
		return "", false, err
	}
	return s.ReservationInstall(string(data))
}
