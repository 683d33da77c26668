// Package sentence holds the small text helpers the packages' messages share
// when they put an echo of input, or one sentence, into another sentence.
package sentence

import (
	"strings"
	"unicode/utf8"
)

// Short keeps a quoted echo of bad input to a readable length: at most 64
// bytes, cut at a character boundary, with "..." after a cut.
func Short(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// UpperFirst makes an error's text start a sentence.
func UpperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// LowerFirst lets one sentence be quoted inside another.
func LowerFirst(s string) string {
	if s != "" && 'A' <= s[0] && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}
