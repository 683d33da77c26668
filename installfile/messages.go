package installfile

import (
	"errors"
	"fmt"
)

// Kinds of failure, for errors.Is. Each error carries its own sentence for
// the user; cancellation through ctx matches context.Canceled instead.
var (
	ErrBadURL           = errors.New("installfile: bad SFTP URL")
	ErrNodeKey          = errors.New("installfile: the node's install-file key is unusable")
	ErrUnreachable      = errors.New("installfile: SFTP server unreachable")
	ErrTimeout          = errors.New("installfile: SFTP timeout")
	ErrAuthFailed       = errors.New("installfile: SFTP authentication failed")
	ErrHostKeyChanged   = errors.New("installfile: SFTP host key changed")
	ErrHostKeyUntrusted = errors.New("installfile: SFTP host key not trusted")
	ErrKnownHosts       = errors.New("installfile: known_hosts unusable")
	ErrNotFound         = errors.New("installfile: file not found")
	ErrPermission       = errors.New("installfile: permission denied")
	ErrNotRegular       = errors.New("installfile: not a regular file")
	ErrTooLarge         = errors.New("installfile: file too large")
	ErrEmptyFile        = errors.New("installfile: file empty")
	ErrTransfer         = errors.New("installfile: SFTP transfer failed")
)

// Every prompt and sentence of install-file, in one place.
const (
	PromptUserID   = "User ID:"
	PromptPassword = "Password:"
	PromptContinue = "Continue (y/n)?"

	// SFTP URL.
	msgURLEmpty    = "The URL is empty: use sftp://[user@]host[:port]/path."
	msgURLTooLong  = "The URL is too long (%d characters, the limit is %d)."
	msgURLControl  = "The URL contains a control character: type it again without it."
	msgURLScheme   = "The URL %q does not start with sftp://: use sftp://[user@]host[:port]/path."
	msgURLQuery    = "The URL contains %q, but queries and fragments are not allowed: give the file path only."
	msgURLPassword = "The URL contains a password: omit it (sftp://user@host/path) and type the password when asked."
	msgURLUser     = "The URL has an invalid user name %q: use the account name without spaces, ':' or '@'."
	msgURLNoHost   = "The URL has no host name: use sftp://[user@]host[:port]/path."
	msgURLHost     = "The URL has an invalid host %q: use a host name, an IPv4 address, or an IPv6 address in brackets."
	msgURLIPv6     = "The URL's IPv6 address must be written in brackets, e.g. sftp://[%s]:22/path."
	msgURLPort     = "The URL has an invalid port %q: use a number from 1 to 65535, or leave it out for 22."
	msgURLNoPath   = "The URL has no file path: use sftp://[user@]host[:port]/path/to/file."
	msgURLDir      = "The URL's path %q names a directory: give the path of the code file."

	// Printed to FetchOptions.Out (OpenSSH's wording).
	textUnknownHost = "The authenticity of host '%s (%s)' can't be established.\n%s key fingerprint is %s.\n"
	textAdded       = "Warning: Permanently added '%s' (%s) to the list of known hosts.\n"
	textNotAdded    = "Warning: the host key could not be saved to %s (%v); it will be asked again next time.\n"

	msgFetchURL          = "The SFTP URL is incomplete: use sftp://[user@]host[:port]/path."
	msgFetchNoUser       = "The URL has no user name and no one can type it here: put the user in the URL (sftp://user@%s%s) and try again."
	msgFetchEmptyUser    = "No user ID was given: type the SFTP account's user name, or put it in the URL (sftp://user@host:port/path)."
	msgFetchPrompt       = "The %s could not be read (%v): try again from a session that can answer it."
	msgFetchInterrupted  = "The download of %s was interrupted: nothing was installed."
	msgFetchDeadline     = "The download of %s took longer than allowed: nothing was installed; try again."
	msgFetchRefused      = "The connection to %s was refused: check the host and port, and that the SFTP server is running."
	msgFetchNoHost       = "The host name %q cannot be resolved: check its spelling, or use the server's IP address."
	msgFetchUnreachable  = "The server %s cannot be reached (%v): check the address and the network path to it."
	msgFetchDialTimeout  = "The server %s did not answer within %v: check the host and port, and that no firewall blocks the connection."
	msgFetchHSTimeout    = "The server %s accepted the connection but did not complete the SSH login within %v: check that the port is the SFTP server's and try again."
	msgFetchHandshake    = "The SSH connection to %s failed (%v): check that the port is an SSH server's and try again."
	msgFetchKnownHosts   = "The known hosts file %s cannot be used (%v): fix or remove the bad line, or the file's permissions."
	msgFetchHostChanged  = "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for %s: it sent %s key %s, which does not match the key in %s line %d, so someone could be eavesdropping (man-in-the-middle attack) or the host key has just been changed; check with the server's administrator, then remove the old key (ssh-keygen -R '%s' -f %s) and try again."
	msgFetchHostRekey    = "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for %s during the transfer: it sent %s key %s instead of the key it logged in with, so someone could be eavesdropping (man-in-the-middle attack); nothing was downloaded."
	msgFetchHostRevoked  = "The host key of %s (%s %s) is marked as revoked in %s line %d: the server needs a new host key before files can be fetched from it."
	msgFetchHostBatch    = "The host key of %s is not trusted (%s key fingerprint %s): run the command once from an interactive session and answer y, or add the server's key to %s."
	msgFetchHostNo       = "Host key verification failed: the key of %s was not accepted, so nothing was downloaded."
	msgFetchHostOther    = "The host key of %s cannot be verified (%v): nothing was downloaded."
	msgFetchAuth         = "Authentication as %q on %s failed: check the user ID and password%s, then try again."
	msgFetchAuthKeys     = " (or that one of the SSH keys this node offers is authorized on the server)"
	msgFetchAuthNone     = "The server %s offers no login method this node can use for %q (it accepts: %s): allow password login for the account, or authorize the node's install-file key for it (see the README, install-file)."
	msgFetchNoSFTP       = "The server %s does not offer SFTP (%v): enable its sftp subsystem, or use another server."
	msgFetchXferTimeout  = "The download of %s from %s did not finish within %v: check the network and the server, and try again."
	msgFetchNotFound     = "The file %s does not exist on %s: check the path in the URL."
	msgFetchPermission   = "Permission denied reading %s on %s: make the file readable by %q, or use another account."
	msgFetchNotRegular   = "The path %s on %s is %s, not a regular file: give the path of the code file."
	msgFetchTooLarge     = "The file %s on %s is larger than %d bytes, too large for an authorization code: check that the URL names the code file."
	msgFetchEmpty        = "The file %s on %s is empty: copy the authorization code into it again."
	msgNodeKeyRead       = "The node's install-file key %s cannot be read (%v): fix its permissions, or remove it to log in with a password."
	msgNodeKeyMode       = "The node's install-file key %s can be read by others (mode %v), so it is not used: run chmod 600 %s and try again."
	msgNodeKeyPassphrase = "The node's install-file key %s is protected by a passphrase, which no one can type here: make it without one (ssh-keygen -t ed25519 -N '' -f FILE) or remove it."
	msgNodeKeyParse      = "The node's install-file key %s is not an OpenSSH private key (%s): make it again with ssh-keygen -t ed25519 -N '' -f FILE."
	msgFetchRead         = "The file %s on %s could not be read (%v): try again."
)

// fetchError pairs a user-facing sentence with its kind and its cause.
type fetchError struct {
	kind, cause error
	msg         string
}

func (e *fetchError) Error() string { return e.msg }

func (e *fetchError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.kind, e.cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func fetchErr(kind, cause error, format string, args ...any) error {
	return &fetchError{kind: kind, cause: cause, msg: fmt.Sprintf(format, args...)}
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func urlErr(format string, args ...any) error { return fetchErr(ErrBadURL, nil, format, args...) }
