package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ucmsh/ucmsh/internal/sanitize"
)

// Every sentence the command layer prints lives here.
const (
	msgFailed        = "Executed command unsuccessfully"
	msgInternal      = "Internal error: %v. Nothing was changed; please report this."
	msgNoCommand     = "No valid command entered"
	msgIncomplete    = "Incomplete command"
	msgUnbalanced    = "Unbalanced quotes: a quoted argument was not closed. Close it with a double quote (\") and enter the command again."
	msgNotUTF8       = "The command is not valid UTF-8 text. Type it again using plain characters."
	msgPaginationOn  = "Automatic pagination is turned on"
	msgPaginationOff = "Automatic pagination is turned off"

	msgRegistered       = "Registration succeeded: this node is registered with Smart Account %q, Virtual Account %q. Use show license status to see its authorization."
	msgFirstAuthFailed  = "License authorization failed and will be retried: %v"
	msgDeregistered     = "Deregistration succeeded: this node is unregistered and its licenses are released."
	msgAuthRenewed      = "License authorization renewed successfully."
	msgIDRenewed        = "Registration renewed successfully."
	msgTransportUpdated = "Transport settings updated successfully."
	msgNoProxyUser      = "A user name is needed for an authenticating proxy; nothing was changed."
	msgFactoryReset     = "Smart Licensing factory reset completed: registration, authorization and transport settings are cleared; the evaluation period goes on where it was."
	msgExportRequested  = "The export authorization key for %s was requested and installed successfully."
	msgExportReturned   = "The export authorization key for %s was returned successfully."
	msgExportCancelled  = "The pending export key %s for %s is cancelled."

	msgReservationEnabled   = "License reservation mode is enabled successfully."
	msgReservationDisabled  = "License reservation mode is disabled successfully."
	msgReservationCancelled = "License reservation request cancelled successfully."
	msgCodeInstalled        = "Authorization code installed successfully."
	msgEnterConfirmation    = "Please enter the confirmation code to CSSM account:"
	msgReturnWarning        = "Returning the reservation removes the installed authorization code: this node loses its reserved licenses and leaves reservation mode."
	msgReturnKept           = "The reservation is kept; nothing was changed."
	msgEnterReturnCode      = "Enter this return code in CSSM to return the reserved licenses:"
)

// MaxCommandBytes bounds one command, quoted code included. An
// authorization code for every CUCM license type is a few KiB.
const MaxCommandBytes = 64 << 10

// UserError is a failure the user can act on; its text is printed as is.
type UserError string

func (e UserError) Error() string { return string(e) }

func userErrorf(format string, args ...any) error { return UserError(fmt.Sprintf(format, args...)) }

func errTooLong(n int) error {
	return userErrorf("The command is too long (%d bytes or more; at most %d are accepted). Nothing was run.", n, MaxCommandBytes)
}

func errBadChar(r rune) error {
	return userErrorf("The command contains the control character %s. Control characters and escape sequences are not allowed; type the command again.", strconv.QuoteRuneToASCII(r))
}

// errUnknownWord: only a first word is quoted, and shortened (quoteUnknown);
// a word after a valid start is named by where it stands.
func errUnknownWord(word, after string) error {
	if after == "" {
		return userErrorf("%s: %s is not a command. Type help to list the commands.", msgNoCommand, quoteUnknown(word))
	}
	return userErrorf("%s: the word after %q is not valid there. Type %q to list what can follow.", msgNoCommand, after, after+" ?")
}

func errPrivilege(c *Command, t Terminal) error {
	return userErrorf("Insufficient privilege: %s needs privilege level %d, and the account %s has level %d. Log in with an account of level %d to run it.",
		c.Path(), c.Priv, t.User(), t.Privilege(), c.Priv)
}

// errUnknownOption names an option whole only when it looks like one.
func errUnknownOption(opt string) error {
	if !looksLikeOption(opt) {
		opt = quoteUnknown(opt)
	}
	return userErrorf("Unknown option %s: the only option of a command is --json.", opt)
}

// looksLikeOption: one or two dashes, a letter, then up to 15 letters,
// digits or dashes. (As a regexp with a counted repeat it would be a
// program of 17 KB, held as long as the process.)
func looksLikeOption(s string) bool {
	name := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "-")
	if len(name) == len(s) || len(name) == 0 || len(name) > 16 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

func errIncomplete(n *Command) error {
	labels := make([]string, 0, len(n.Sub))
	for _, c := range n.visible() {
		labels = append(labels, c.Label())
	}
	return userErrorf("%s: %q must be followed by one of: %s", msgIncomplete, n.Path(), strings.Join(labels, " "))
}

func errMissingArg(n *Command, a *Arg) error {
	return userErrorf("Missing argument: %s needs %s. Syntax: %s", n.Path(), a.Usage(), n.Syntax())
}

func errExtraArg(n *Command) error {
	if len(n.Args) == 0 {
		return userErrorf("Too many arguments: %s takes no arguments.", n.Path())
	}
	return userErrorf("Too many arguments: more words than %s takes. Syntax: %s", n.Path(), n.Syntax())
}

// quoteWord shows user input safely: never raw control characters, and
// long words cut short.
func quoteWord(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return strconv.QuoteToGraphic(s)
}

// quoteUnknown shows a word the shell does not know, never whole: at most
// a third of it (and 8 characters), then "…". A line that is not a command
// may be an answer to a question that was never asked (a password in a
// script that ran ahead); its error must not print it back.
func quoteUnknown(s string) string {
	r := []rune(s)
	if len(r) < 2 {
		return strconv.QuoteToGraphic(s)
	}
	return strconv.QuoteToGraphic(string(r[:min((len(r)+2)/3, 8)]) + "…")
}

// EchoLine is what a transcript (--echo) shows of a line: the line, made
// safe, when it starts with a command word; otherwise its first word
// shortened as in errors, so an answer fed to a question that was never
// asked is not printed back.
func EchoLine(line string) string {
	line = strings.ReplaceAll(line, "\n", "")
	words := strings.Fields(line)
	if len(words) == 0 || words[0] == "?" || Tree.child(strings.TrimSuffix(words[0], "?")) != nil {
		return Sanitize(line)
	}
	q := quoteUnknown(words[0])
	return q[1 : len(q)-1]
}

func unsafeRune(r rune) bool { return sanitize.Unsafe(r) }

// sanitizeLines is Sanitize for text of several lines: the breaks stay.
func sanitizeLines(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && unsafeRune(r) }) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Sanitize(l)
	}
	return strings.Join(lines, "\n")
}

// Sanitize makes text safe to print to a terminal: control characters and
// invisible formatting (bidi overrides, zero-width characters, line and
// paragraph separators) are shown escaped, e.g. \u202e. It is the one
// sanitizer, shared with the licensing client (internal/sanitize).
func Sanitize(line string) string { return sanitize.Text(line) }
