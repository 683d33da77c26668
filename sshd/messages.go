package sshd

// Sentences the server's users and admins read.
const (
	// The authentication banner to a client whose address used up its
	// password budget (OpenSSH prints it), before the server hangs up.
	msgTooManyFailures = "too many authentication failures from %s; try again in %d s"
	// Lines a refused connection reads before the server hangs up.
	msgRefusedPerSource = "too many unauthenticated connections from %s; try again later"
	msgRefusedStartups  = "too many logins in progress; try again later"
	msgRefusedFull      = "too many connections; try again later"

	msgStartupsSyntax = "--max-startups %q: give start:rate:full, such as 10:30:100"
	msgStartupsRange  = "--max-startups %q: start must be at least 1, rate 0 to 100 (percent) and full at least start"

	msgHostKeyReadable = "the host key %s can be read by others (mode %v): chmod 600 it"

	msgStrictUnreadable = "cannot check %s: %v"
	msgStrictWritable   = "%s is writable by group or others (mode %v); ucmsh serve will not start until you chmod go-w it"
	msgStrictOwner      = "%s is owned by user %d, not by the user running ucmsh serve (%d); chown it or serve as its owner"
	msgStrictSymlink    = "%s is a symbolic link; ucmsh serve will not start until you replace it with a plain file"

	// Keyboard-interactive asks one question, as CUCM's sshd does.
	kbdPasswordPrompt = "Password: "
)

// Reasons in the refusal log.
const (
	reasonPerSource = "too many unauthenticated connections from one address"
	reasonStartups  = "too many logins in progress (max-startups)"
	reasonFull      = "too many connections"
	reasonLockedOut = "too many authentication failures"
)
