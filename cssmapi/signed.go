package cssmapi

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
)

// Headers of the product API's two guarantees.
//
// Every state-changing call (register, renew-id, authorize, deregister, export
// request and return) carries HeaderIdempotencyKey: a key the node stores in its
// state before it sends. cssm records the key with its answer in the same
// transaction as the change and answers a repeat of the key (same path, same
// body) with the very first answer, byte for byte, signature included; the same
// key with another path or body is refused with CodeIdempotencyReused.
//
// Every answer of those calls, success or refusal, carries HeaderSignature: an
// ECDSA P-256 signature (ASN.1 DER, base64) by cssm's signing key, the key that
// signs reservation codes, over SignedAnswer(path, key, status, body). The node
// accepts an answer only if a key in its trust/ folder verifies it, so a server
// without a trusted key, or a man in the middle, can neither register the node,
// grant it licences nor make it drop its registration.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderSignature      = "Cssm-Signature"
)

// CodeIdempotencyReused: the idempotency key was already used for another request.
const CodeIdempotencyReused = "idempotency_key_reused"

func init() { codeStatus[CodeIdempotencyReused] = 422 }

// The length is checked apart: a counted repeat ({16,128}) compiles to a
// program of 100 KB, held as long as the process.
var idempotencyKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

// ValidIdempotencyKey reports whether key has the accepted form: 16 to 128
// characters of A-Z, a-z, 0-9, '-' and '_'.
func ValidIdempotencyKey(key string) bool {
	return len(key) >= 16 && len(key) <= 128 && idempotencyKeyRE.MatchString(key)
}

// NewIdempotencyKey makes a fresh random key (32 hex characters).
func NewIdempotencyKey() string {
	var b [16]byte
	rand.Read(b[:])
	const hex = "0123456789abcdef"
	out := make([]byte, 32)
	for i, c := range b {
		out[2*i], out[2*i+1] = hex[c>>4], hex[c&15]
	}
	return string(out)
}

// SignedAnswer is what cssm signs for one answer: a domain tag, the API path,
// the idempotency key, the HTTP status and the exact body. Binding the path and
// the key makes an answer useless for any other call; binding the status keeps
// a refusal from passing as a success.
func SignedAnswer(path, key string, status int, body []byte) []byte {
	var b []byte
	b = append(b, "cssm-answer-v1\n"...)
	b = append(b, path...)
	b = append(b, '\n')
	b = append(b, key...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, '\n')
	return append(b, body...)
}

// SignAnswer signs an answer for HeaderSignature.
func SignAnswer(priv *ecdsa.PrivateKey, path, key string, status int, body []byte) (string, error) {
	sum := sha256.Sum256(SignedAnswer(path, key, status, body))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// ErrAnswerNotSigned and ErrAnswerSignature are the two ways VerifyAnswer fails.
var (
	ErrAnswerNotSigned = errors.New("the answer carries no signature")
	ErrAnswerSignature = errors.New("no trusted key verifies the answer's signature")
)

// VerifyAnswer checks sig (HeaderSignature's value) against every trusted key.
func VerifyAnswer(trusted []*ecdsa.PublicKey, path, key string, status int, body []byte, sig string) error {
	if sig == "" {
		return ErrAnswerNotSigned
	}
	der, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return ErrAnswerSignature
	}
	sum := sha256.Sum256(SignedAnswer(path, key, status, body))
	for _, pub := range trusted {
		if ecdsa.VerifyASN1(pub, sum[:], der) {
			return nil
		}
	}
	return ErrAnswerSignature
}
