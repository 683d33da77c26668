package reservation

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"math/big"
	"strconv"
	"strings"

	"github.com/ucmsh/ucmsh/internal/sentence"
)

// Domain tags keep the two derived codes from ever being computable from
// each other or from anything else hashed over the same fields.
const (
	confirmationDomain = "ucmsh-confirmation"
	returnDomain       = "ucmsh-return"
)

// bindingFields are what ties a derived code to one issued reservation:
// the node and the issue time (the signature is mixed in by the callers).
func bindingFields(ac *AuthCode) string {
	return ac.UDI.String() + "\x00" + strconv.FormatInt(ac.Timestamp.UnixMilli(), 10)
}

// ConfirmationCode is what the admin types into the licensing server after
// installing ac: 8 lowercase hex digits the server recomputes from the code
// it issued, proving this exact code reached this node.
func ConfirmationCode(ac *AuthCode) string {
	h := sha256.New()
	h.Write([]byte(confirmationDomain + "\x00"))
	h.Write(ac.Signature)
	h.Write([]byte("\x00" + bindingFields(ac)))
	return hex.EncodeToString(h.Sum(nil)[:4])
}

const (
	returnAlphabet   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	returnDigits     = 51 // 8 groups of 6 and one of 3
	returnCodeLength = returnDigits + 8
)

var returnModulus = new(big.Int).Exp(big.NewInt(62), big.NewInt(returnDigits), nil)

// ReturnCode is what the node shows when it gives its reservation back. It
// is keyed with the signature so that only a holder of the issued code can
// produce it, and the server checks it with VerifyReturnCode.
func ReturnCode(ac *AuthCode) string {
	m := hmac.New(sha512.New, ac.Signature)
	m.Write([]byte(returnDomain + "\x00" + bindingFields(ac)))
	n := new(big.Int).SetBytes(m.Sum(nil))
	n.Mod(n, returnModulus)

	var digits [returnDigits]byte
	base, rem := big.NewInt(62), new(big.Int)
	for i := returnDigits - 1; i >= 0; i-- {
		n.QuoRem(n, base, rem)
		digits[i] = returnAlphabet[rem.Int64()]
	}
	var b strings.Builder
	b.Grow(returnCodeLength)
	for i := 0; i < returnDigits; i += 6 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.Write(digits[i:min(i+6, returnDigits)])
	}
	return b.String()
}

// ParseReturnCode checks the shape of a return code typed at the licensing
// server (surrounding spaces allowed, letters case-sensitive) and returns it
// trimmed.
func ParseReturnCode(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) != returnCodeLength {
		return "", newErr(ErrBadFormat, msgRetShape, sentence.Short(s))
	}
	for i := 0; i < len(s); i++ {
		if i%7 == 6 {
			if s[i] != '-' {
				return "", newErr(ErrBadFormat, msgRetShape, s)
			}
		} else if !isAlnum(s[i]) {
			return "", newErr(ErrBadFormat, msgRetShape, s)
		}
	}
	return s, nil
}

// VerifyReturnCode reports whether code is the return code of ac. The
// comparison is constant-time because the code is a MAC.
func VerifyReturnCode(code string, ac *AuthCode) bool {
	code, err := ParseReturnCode(code)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(code), []byte(ReturnCode(ac))) == 1
}
