package commands

import (
	"strings"
	"unicode/utf8"
)

// Token is one word of a command line.
type Token struct {
	Text   string
	Quoted bool // some or all of it was inside double quotes
}

// Tokenize splits a command line into words. Double quotes group words
// and may span lines: an authorization code pasted into a terminal arrives
// wrapped, so CR and LF inside quotes are dropped. There are no escapes.
func Tokenize(line string) ([]Token, error) {
	if len(line) > MaxCommandBytes {
		return nil, errTooLong(len(line))
	}
	if !utf8.ValidString(line) {
		return nil, UserError(msgNotUTF8)
	}
	if err := checkChars(line); err != nil {
		return nil, err
	}
	var (
		toks    []Token
		cur     strings.Builder
		inWord  bool
		quoted  bool
		inQuote bool
	)
	flush := func() {
		if inWord {
			toks = append(toks, Token{Text: cur.String(), Quoted: quoted})
		}
		cur.Reset()
		inWord, quoted = false, false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"':
			inQuote = !inQuote
			inWord, quoted = true, true
		case inQuote && (c == '\r' || c == '\n'):
			// terminal wrapping inside a pasted code
		case !inQuote && (c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			flush()
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inQuote {
		return nil, UserError(msgUnbalanced)
	}
	flush()
	return toks, nil
}

// checkChars rejects control characters (ESC starts every ANSI escape
// sequence) so they are never stored or echoed raw.
func checkChars(line string) error {
	for _, r := range line {
		switch {
		case r == '\t' || r == '\r' || r == '\n':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return errBadChar(r)
		}
	}
	return nil
}

// OpenQuote reports whether text ends inside a double-quoted argument, so
// a reader should append the next line before running it.
func OpenQuote(text string) bool {
	return strings.Count(text, `"`)%2 == 1
}
