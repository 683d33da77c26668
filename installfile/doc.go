// Package installfile fetches an authorization code over SFTP for
// `license smart reservation install-file`: host-key trust (the node's
// known_hosts), authentication, a bounded transfer, and one sentence for
// every way that can fail. It knows nothing of codes or licensing state;
// publisher.Service runs the whole install-file sequence and calls Fetch.
//
// Decisions where CUCM and OpenSSH leave room:
//
//   - Prompts. With no user in the URL, Fetch asks "User ID:" then
//     "Password:" before connecting, as CUCM does for its other SFTP
//     transfers; only password and keyboard-interactive authentication are
//     then tried. With a user in the URL, keys (FetchOptions.Signers) are
//     tried first, one at a time, then "Password:" is asked only if the
//     server accepts passwords and the keys did not work, then
//     keyboard-interactive (only when the server does not take passwords, so
//     a wrong password is never sent twice). The password is asked at most
//     once and never retried: a failure ends the command.
//   - Keys. Which keys are offered is the caller's choice (Keys): the node's
//     own key (ssh/install_file_key in its state folder) always, and the
//     user's SSH agent and ~/.ssh keys only when the caller opts in. A
//     server (ucmsh serve) never does: a session's user must not log in to
//     SFTP servers with the serving account's credentials.
//   - Host keys are checked against the node's known_hosts with
//     golang.org/x/crypto/ssh/knownhosts (OpenSSH format, created 0600, its
//     folder 0700). A key accepted at the question is appended in plain form
//     ("[host]:port ssh-ed25519 AAAA..."), not hashed: the file is the node's
//     own list of trusted SFTP servers, and an admin auditing it must be able
//     to read which servers those are; ssh-keygen -F and -R work on it either
//     way, and hashed lines written by hand are read. Only a person answers
//     the question; a script is refused; a changed key is always refused.
//   - A host already known with a key of another type counts as a changed
//     key (OpenSSH would ask): a node fetching signed codes should not trust
//     a new key silently. The known key types are offered first so that a
//     server holding several keys is not mistaken for a changed one.
//   - The URL's user and path are taken literally (no %-decoding): they name
//     an account and a file as the admin typed them. The path is absolute,
//     except that "/~/" at its start stands for the account's login folder,
//     as in the SFTP URI draft (sftp://user@host/~/code.txt).
//   - Host certificates (@cert-authority) are not used: only plain host keys
//     are offered and checked.
//   - The connect timeout bounds the TCP connection, the SSH handshake and
//     authentication, not counting the time a person takes to answer; the
//     transfer timeout bounds everything after authentication. Cancelling
//     ctx (Control-C) closes the connection at once; the error then matches
//     errors.Is(err, context.Canceled).
//   - With FetchOptions.Log set, every login is logged: host, port, user,
//     and the method (password, keyboard-interactive) or the key's type and
//     SHA256 fingerprint, and whether it succeeded. Passwords never are.
package installfile
