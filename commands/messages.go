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

func errUnknownWord(word, after string) error {
	if after == "" {
		return userErrorf("%s: %s is not a command. Type help to list the commands.", msgNoCommand, quoteWord(word))
	}
	return userErrorf("%s: %s is not valid after %q. Type %q to list what can follow.", msgNoCommand, quoteWord(word), after, after+" ?")
}

func errIncomplete(n *Node) error {
	labels := make([]string, 0, len(n.Sub))
	for _, c := range n.visible() {
		labels = append(labels, c.Label())
	}
	return userErrorf("%s: %q must be followed by one of: %s", msgIncomplete, n.Path(), strings.Join(labels, " "))
}

func errMissingArg(n *Node, a Arg) error {
	return userErrorf("Missing argument: %s needs %s. Syntax: %s", n.Path(), a.Usage(), n.Syntax())
}

func errExtraArg(n *Node, word string) error {
	if len(n.Args) == 0 {
		return userErrorf("Too many arguments: %s takes no arguments, but %s was given.", n.Path(), quoteWord(word))
	}
	return userErrorf("Too many arguments: %s was not expected. Syntax: %s", quoteWord(word), n.Syntax())
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

// Sanitize makes a command line safe to echo to a terminal (the one
// sanitizer, shared with the licensing client: internal/sanitize).
func Sanitize(line string) string { return sanitize.Text(line) }
