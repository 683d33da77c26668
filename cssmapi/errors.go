package cssmapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes answered by the server (and CodeBadResponse, made by the client).
const (
	CodeBadRequest           = "bad_request"            // malformed body or field
	CodeUnsupportedMediaType = "unsupported_media_type" // body is not application/json
	CodeBodyTooLarge         = "body_too_large"
	CodeNotFound             = "not_found" // no such API path
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeTokenUnknown         = "token_unknown"
	CodeTokenExpired         = "token_expired"
	CodeTokenUsedUp          = "token_used_up"
	CodeAlreadyRegistered    = "already_registered" // UDI is in another virtual account; use force
	CodeInstanceNotFound     = "instance_not_found" // unknown or removed on the cssm side
	CodeUnauthorized         = "unauthorized"       // missing or wrong credential
	CodeUnknownEntitlement   = "unknown_entitlement"
	CodeUnknownFeature       = "unknown_feature"
	CodeExportNotAllowed     = "export_not_allowed" // token did not allow export-controlled functionality
	CodeNoExportKeys         = "no_export_keys"     // the virtual account's pool is empty
	CodeNotHeld              = "not_held"           // returning a key the instance does not hold
	CodeInternal             = "internal"
	CodeUnavailable          = "unavailable" // server shutting down

	// CodeBadResponse is made by the client when the server's answer is not this API's.
	CodeBadResponse = "bad_response"
)

var codeStatus = map[string]int{
	CodeBadRequest:           http.StatusBadRequest,
	CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	CodeBodyTooLarge:         http.StatusRequestEntityTooLarge,
	CodeNotFound:             http.StatusNotFound,
	CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	CodeTokenUnknown:         http.StatusForbidden,
	CodeTokenExpired:         http.StatusForbidden,
	CodeTokenUsedUp:          http.StatusForbidden,
	CodeAlreadyRegistered:    http.StatusConflict,
	CodeInstanceNotFound:     http.StatusNotFound,
	CodeUnauthorized:         http.StatusUnauthorized,
	CodeUnknownEntitlement:   http.StatusBadRequest,
	CodeUnknownFeature:       http.StatusBadRequest,
	CodeExportNotAllowed:     http.StatusForbidden,
	CodeNoExportKeys:         http.StatusConflict,
	CodeNotHeld:              http.StatusConflict,
	CodeInternal:             http.StatusInternalServerError,
	CodeUnavailable:          http.StatusServiceUnavailable,
	CodeBadResponse:          http.StatusBadGateway,
}

// HTTPStatus is the status the server answers with for an error code.
func HTTPStatus(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is a refusal from the server: a stable code for programs and one sentence
// for people.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"-"` // HTTP status seen by the client
}

func (e *Error) Error() string { return e.Message }

// Errorf makes an *Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: HTTPStatus(code)}
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// ErrUnreachable matches (errors.Is) every UnreachableError.
var ErrUnreachable = errors.New("licensing server unreachable")

// ErrPinMismatch is wrapped in the UnreachableError when the server's TLS
// certificate is not the pinned one.
var ErrPinMismatch = errors.New("the licensing server's TLS certificate does not match the pinned SHA-256 fingerprint")

// UnreachableError means no answer came from the server: connection refused, DNS,
// timeout, TLS failure or pin mismatch. Nothing was changed on the server side as far
// as the client can tell, unless Sent is set.
type UnreachableError struct {
	URL string
	Err error
	// Sent: the request was written before the failure, so the server may
	// have acted on it (a lost answer). Unset, it certainly did not.
	Sent bool
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the licensing server at %s: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrUnreachable) match.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// UntrustedAnswerError is an answer that no trusted key signed (unsigned, or
// signed by another key, or changed on the way). The node treats it exactly
// like no answer: errors.Is(err, ErrUnreachable) matches it, and nothing it
// says is believed.
type UntrustedAnswerError struct {
	URL string
	Err error // ErrAnswerNotSigned or ErrAnswerSignature
}

func (e *UntrustedAnswerError) Error() string {
	return fmt.Sprintf("the answer of the licensing server at %s is not trusted: %v", e.URL, e.Err)
}

func (e *UntrustedAnswerError) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrUnreachable) match: an untrusted answer is no answer.
func (e *UntrustedAnswerError) Is(target error) bool { return target == ErrUnreachable }
