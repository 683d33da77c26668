// Package sanitize makes text from elsewhere (a command line, a licensing
// server's answer) safe to print to a terminal or keep in the trace: one
// function, used by the shell and by the node's licensing client alike.
package sanitize

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
)

// Text returns s with every character that could steer a terminal or hide
// text (see Unsafe) written as a Go escape (\x1b, \r, \u202e, ...). Text
// without them comes back unchanged (and unallocated): reports are printed
// many times a second.
func Text(s string) string {
	i := strings.IndexFunc(s, Unsafe)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if Unsafe(r) {
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Unsafe reports whether Text escapes r: C0 and C1 controls, DEL, the
// replacement character (invalid UTF-8), and invisible formatting (Unicode
// categories Cf, Zl and Zp: bidi controls, zero-width characters, line and
// paragraph separators).
func Unsafe(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\uFFFD' ||
		(r >= 0x80 && unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp))
}

// JSON escapes, as \uXXXX, every character of encoded JSON that Text would
// escape and encoding/json leaves raw (bidi controls, zero-width characters),
// so that a report printed as JSON cannot hide or reorder text either. Such
// characters occur only inside strings, where the escape means the same.
func JSON(data []byte) []byte {
	s := string(data)
	i := strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 && Unsafe(r) })
	if i < 0 {
		return data
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if r >= 0x80 && Unsafe(r) {
			if r > 0xffff { // no Cf character needs a surrogate pair today, but stay valid
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
				continue
			}
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return []byte(b.String())
}
