package cssmapi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucmsh/ucmsh/internal/sanitize"
)

// MaxBodyBytes bounds request and response bodies on both sides.
const MaxBodyBytes = 1 << 20

// DefaultTimeout bounds one call when Client.HTTP is nil.
const DefaultTimeout = 30 * time.Second

// Client calls cssm's product API. Use it through a pointer; it is safe for
// concurrent use once its fields are set.
type Client struct {
	// BaseURL is the server's address, e.g. "http://127.0.0.1:8443" or an
	// ssm-satellite URL; API paths are appended to it.
	BaseURL string
	// HTTP is the client to use; nil means one with DefaultTimeout. With a pin,
	// its transport is cloned and given the pinning TLS configuration.
	HTTP *http.Client
	// PinnedCertSHA256, when set, makes the client accept exactly the server
	// certificate with this SHA-256 fingerprint (hex, colons and case ignored, as
	// printed by `cssm serve --tls`) instead of verifying it against CAs.
	PinnedCertSHA256 string
	// Trusted are the keys whose signature (HeaderSignature) an answer must
	// carry; an answer none of them signed is an *UntrustedAnswerError, as
	// if the server had not answered. A node passes the keys in its trust/.
	Trusted []*ecdsa.PublicKey
	// SkipAnswerVerification accepts unsigned answers: for tools and tests
	// that talk to a server they run themselves, never for a node.
	SkipAnswerVerification bool

	once    sync.Once
	hc      *http.Client
	initErr error
}

// Register registers the product with a token. No credential is presented.
func (c *Client) Register(ctx context.Context, req RegisterRequest) (*RegisterResponse, error) {
	var resp RegisterResponse
	if err := c.call(ctx, PathRegister, "", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// RenewID renews the registration.
func (c *Client) RenewID(ctx context.Context, id Identity) (*RenewIDResponse, error) {
	var resp RenewIDResponse
	if err := c.call(ctx, PathRenewID, id.Credential, InstanceRequest{InstanceID: id.InstanceID}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Authorize reports usage and returns the compliance verdict.
func (c *Client) Authorize(ctx context.Context, id Identity, usage []Usage) (*AuthorizeResponse, error) {
	if usage == nil {
		usage = []Usage{}
	}
	var resp AuthorizeResponse
	if err := c.call(ctx, PathAuthorize, id.Credential, AuthorizeRequest{InstanceID: id.InstanceID, Usage: usage}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Deregister removes the instance on the server and releases its export keys.
func (c *Client) Deregister(ctx context.Context, id Identity) error {
	var resp OKResponse
	return c.call(ctx, PathDeregister, id.Credential, InstanceRequest{InstanceID: id.InstanceID}, &resp)
}

// ExportRequest takes an export authorization key for feature.
func (c *Client) ExportRequest(ctx context.Context, id Identity, feature string) (*ExportResponse, error) {
	return c.export(ctx, PathExportRequest, id, feature)
}

// ExportReturn gives the key for feature back to the virtual account's pool.
func (c *Client) ExportReturn(ctx context.Context, id Identity, feature string) (*ExportResponse, error) {
	return c.export(ctx, PathExportReturn, id, feature)
}

func (c *Client) export(ctx context.Context, path string, id Identity, feature string) (*ExportResponse, error) {
	var resp ExportResponse
	if err := c.call(ctx, path, id.Credential, ExportRequest{InstanceID: id.InstanceID, Feature: feature}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// call POSTs in as JSON under a fresh idempotency key; see Send.
func (c *Client) call(ctx context.Context, path, credential string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.Send(ctx, path, NewIdempotencyKey(), credential, body, out)
}

// Send POSTs body (JSON) to path with the idempotency key and the
// credential (if any), checks the answer's signature and decodes a 2xx
// answer into out. It returns *Error for a signed refusal,
// *UnreachableError when no answer came, *UntrustedAnswerError for an
// answer no trusted key signed, or a configuration error. A node that
// stored key and body before sending sends them again, unchanged, to learn
// the outcome of a call whose answer it lost.
func (c *Client) Send(ctx context.Context, path, key, credential string, body []byte, out any) error {
	hc, err := c.httpClient()
	if err != nil {
		return err
	}
	url := strings.TrimRight(c.BaseURL, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("licensing server URL %q is not valid: %w", c.BaseURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(HeaderIdempotencyKey, key)
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	// Whether the request left: if it never did, the server cannot have
	// acted on it, and the caller knows the outcome after all.
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	}))
	resp, err := hc.Do(req)
	if err != nil {
		return &UnreachableError{URL: c.BaseURL, Err: err, Sent: wrote.Load()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return &UnreachableError{URL: c.BaseURL, Err: err, Sent: true}
	}
	a := Answer{Path: path, Key: key, Status: resp.StatusCode, StatusText: resp.Status, Body: data, Signature: resp.Header.Get(HeaderSignature)}
	trusted := c.Trusted
	if c.SkipAnswerVerification {
		trusted = nil
	}
	if err := a.Decode(trusted, !c.SkipAnswerVerification, out); err != nil {
		var u *UntrustedAnswerError
		if errors.As(err, &u) {
			u.URL = c.BaseURL
		}
		var e *Error
		if errors.As(err, &e) && e.Code == CodeBadResponse {
			e.Message = sanitize.Text(fmt.Sprintf(msgBadResponse, req.URL.Host, e.Message))
		}
		return err
	}
	return nil
}

// Answer is one answer of the product API as the client received it.
type Answer struct {
	Path, Key  string // the call it answers
	Status     int
	StatusText string // e.g. "200 OK", for messages
	Body       []byte
	Signature  string // HeaderSignature's value
}

// Decode checks the answer's signature against trusted (when verify is set)
// and decodes it: a 2xx answer into out, anything else into an *Error.
// Every string that reaches out or the *Error is sanitized, so no text from
// a server reaches a terminal raw. It never panics, whatever the answer.
func (a *Answer) Decode(trusted []*ecdsa.PublicKey, verify bool, out any) error {
	if verify {
		if err := VerifyAnswer(trusted, a.Path, a.Key, a.Status, a.Body, a.Signature); err != nil {
			return &UntrustedAnswerError{Err: err}
		}
	}
	if len(a.Body) > MaxBodyBytes {
		return a.bad(fmt.Sprintf("its answer is larger than %d bytes", MaxBodyBytes))
	}
	if a.Status/100 != 2 {
		var e Error
		if json.Unmarshal(a.Body, &e) != nil || e.Code == "" {
			return a.bad("it answered " + a.StatusText)
		}
		e.Code, e.Message, e.Status = sanitize.Text(e.Code), sanitize.Text(e.Message), a.Status
		return &e
	}
	if err := json.Unmarshal(a.Body, out); err != nil {
		return a.bad("its answer is not valid JSON")
	}
	sanitizeStrings(reflect.ValueOf(out))
	return nil
}

// bad is a CodeBadResponse whose Message is the reason alone; Send puts it
// in a sentence with the server's address.
func (a *Answer) bad(reason string) *Error {
	return &Error{Code: CodeBadResponse, Message: reason, Status: a.Status}
}

// sanitizeStrings replaces every string reachable from v by its sanitized form.
func sanitizeStrings(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			sanitizeStrings(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				sanitizeStrings(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			sanitizeStrings(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			sanitizeStrings(e)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(sanitize.Text(v.String()))
		}
	}
}

const msgBadResponse = "The server at %s is not a cssm licensing server (%s); check the transport URL."

func (c *Client) httpClient() (*http.Client, error) {
	c.once.Do(func() { c.hc, c.initErr = c.buildHTTP() })
	return c.hc, c.initErr
}

func (c *Client) buildHTTP() (*http.Client, error) {
	base := c.HTTP
	if base == nil {
		base = &http.Client{Timeout: DefaultTimeout}
	}
	if c.PinnedCertSHA256 == "" {
		return base, nil
	}
	pin, err := parseFingerprint(c.PinnedCertSHA256)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(strings.ToLower(c.BaseURL), "https://") {
		return nil, fmt.Errorf("a pinned certificate needs an https:// licensing server URL, not %q", c.BaseURL)
	}
	var tr *http.Transport
	switch t := base.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return nil, fmt.Errorf("cannot pin a certificate on an HTTP client whose transport is %T", t)
	}
	tr.TLSClientConfig = pinnedTLS(pin)
	pinned := *base
	pinned.Transport = tr
	return &pinned, nil
}

// pinnedTLS skips CA and host-name checks (the certificate is self-signed) and
// instead accepts only the leaf certificate whose SHA-256 is pin.
func pinnedTLS(pin []byte) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by VerifyConnection below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrPinMismatch
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(got[:], pin) != 1 {
				return fmt.Errorf("%w (the server presented %s)", ErrPinMismatch, Fingerprint(cs.PeerCertificates[0].Raw))
			}
			return nil
		},
	}
}

// Fingerprint is the SHA-256 of a DER certificate as colon-separated upper-case hex,
// the form `cssm serve --tls` prints and PinnedCertSHA256 accepts.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

func parseFingerprint(s string) ([]byte, error) {
	clean := strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	clean = strings.TrimPrefix(strings.ToLower(clean), "sha256=")
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("the pinned certificate fingerprint must be 64 hex digits (a SHA-256), as printed by cssm serve --tls")
	}
	return b, nil
}
