package lab

// The lab's coupling to cssm, in one file: opening its store, seeding it
// through the portal, its product API as an http.Handler, its signing key
// (to sign the answers a fault gives, as cssm would), and the portal
// actions the data faults use.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/clock"
	"github.com/ucmsh/ucmsh/reservation"
)

// labCSSM is the running licensing server.
type labCSSM struct {
	store  *cssm.Store
	portal *cssm.Portal
	api    *cssm.Server
	sign   func(path, key string, status int, body []byte) (string, error)
	pubPEM []byte
}

func openCSSM(dir string, clk clock.Clock, logger *log.Logger) (*labCSSM, error) {
	store, err := cssm.Open(dir)
	if err != nil {
		return nil, err
	}
	pub, _, err := store.PublishKey()
	if err != nil {
		return nil, err
	}
	key, err := store.SigningKey()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	return &labCSSM{
		store:  store,
		portal: &cssm.Portal{Store: store, Clock: clk},
		api:    cssm.NewServer(store, clk, logger),
		pubPEM: pub,
		sign: func(path, k string, status int, body []byte) (string, error) {
			return cssmapi.SignAnswer(key, path, k, status, body)
		},
	}, nil
}

func (c *labCSSM) handler() http.Handler { return c.api }

func (c *labCSSM) close() {
	c.api.Close()
	c.store.Close()
}

// seed creates the lab file's accounts, pools and tokens; it returns the
// tokens by name.
func (c *labCSSM) seed(accounts []CSSMAccount) (map[string]SeededToken, error) {
	tokens := map[string]SeededToken{}
	for _, a := range accounts {
		if _, err := c.portal.CreateAccount(a.Smart, a.Virtual); err != nil {
			return nil, fmt.Errorf(msgSeeding, err)
		}
		for _, l := range a.Licenses {
			if _, err := c.portal.AddLicense(a.Virtual, cssm.LicenseSpec{Tier: l.Tier, Count: l.Count, TermEnd: l.TermEnd}); err != nil {
				return nil, fmt.Errorf(msgSeeding, err)
			}
		}
		if a.ExportKeys > 0 {
			if _, err := c.portal.AddExportKeys(a.Virtual, a.ExportKeys); err != nil {
				return nil, fmt.Errorf(msgSeeding, err)
			}
		}
		for _, t := range a.Tokens {
			days := t.ExpiresDays
			if days == 0 {
				days = 365
			}
			tok, err := c.portal.CreateToken(a.Virtual, cssm.TokenOptions{ExpiresDays: days, MaxUses: t.MaxUses, AllowExport: t.AllowExport})
			if err != nil {
				return nil, fmt.Errorf(msgSeeding, err)
			}
			tokens[t.Name] = SeededToken{Name: t.Name, VirtualAccount: a.Virtual, Token: tok, AllowExport: t.AllowExport, MaxUses: t.MaxUses}
		}
	}
	return tokens, nil
}

// removeInstances removes, as the portal's Remove does, the instances of
// a virtual account with one of the host names; it returns how many.
func (c *labCSSM) removeInstances(virtual string, hosts []string) (int, error) {
	list, err := c.portal.Instances(virtual)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, in := range list {
		for _, h := range hosts {
			if strings.EqualFold(in.Hostname, h) && in.Reservation == nil {
				if _, err := c.portal.RemoveInstance(in.ID, cssm.RemoveOptions{}); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}

// hog is a phantom product instance that takes a virtual account's whole
// pool (pool-exhausted fault): it registers and reports usage through the
// product API like any product, so `cssm usage` shows who took what, and
// it deregisters when the fault is cleared.
type hog struct {
	Virtual    string `json:"virtual_account"`
	InstanceID string `json:"instance_id"`
	Credential string `json:"credential"`
}

// call posts one request to the product API in-process.
func (c *labCSSM) call(path, credential string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(cssmapi.HeaderIdempotencyKey, cssmapi.NewIdempotencyKey())
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	rec := httptest.NewRecorder()
	c.api.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		var e cssmapi.Error
		if json.Unmarshal(rec.Body.Bytes(), &e) == nil && e.Message != "" {
			return &e
		}
		return fmt.Errorf("cssm answered %d", rec.Code)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

// startHog registers a hog in virtual and has it use every licence there.
func (c *labCSSM) startHog(virtual, name string) (*hog, error) {
	tok, err := c.portal.CreateToken(virtual, cssm.TokenOptions{ExpiresDays: 1, MaxUses: 1})
	if err != nil {
		return nil, err
	}
	u, err := c.portal.Usage(virtual)
	if err != nil {
		return nil, err
	}
	var usage []cssmapi.Usage
	for _, b := range u.Balances {
		if b.Purchased > 0 {
			usage = append(usage, cssmapi.Usage{Tag: b.Tag, Count: min(b.Purchased, 1_000_000)})
		}
	}
	var reg cssmapi.RegisterResponse
	udi := "PID:UCM,SN:" + hogSerial(name)[27:] + ",UUID:" + hogSerial(name)
	if err := c.call(cssmapi.PathRegister, "", cssmapi.RegisterRequest{Token: tok, UDI: udi, Hostname: name, Version: DefaultVersion}, &reg); err != nil {
		return nil, err
	}
	if err := c.call(cssmapi.PathAuthorize, reg.Credential, cssmapi.AuthorizeRequest{InstanceID: reg.InstanceID, Usage: usage}, nil); err != nil {
		return nil, err
	}
	return &hog{Virtual: virtual, InstanceID: reg.InstanceID, Credential: reg.Credential}, nil
}

func (c *labCSSM) stopHog(h *hog) error {
	return c.call(cssmapi.PathDeregister, h.Credential, cssmapi.InstanceRequest{InstanceID: h.InstanceID}, nil)
}

// hogSerial is a UUID (32 hex digits) derived from the hog's name.
func hogSerial(name string) string {
	sum := sha256.Sum256([]byte("lab hog " + name))
	return hex.EncodeToString(sum[:16])
}

func httpStatusOf(e error) int {
	if ae, ok := e.(*cssmapi.Error); ok {
		return cssmapi.HTTPStatus(ae.Code)
	}
	return http.StatusInternalServerError
}

// otherReservation is a reservation cssm issued for a product that is not
// in the lab (reservation-other-udi fault): its authorization code, which
// a node refuses, and what returns its licences when the fault clears.
type otherReservation struct {
	Virtual     string `json:"virtual_account"`
	RequestCode string `json:"request_code"`
	Code        string `json:"code"`
	File        string `json:"file"`
}

func (c *labCSSM) reserveForOther(virtual, name string) (*otherReservation, error) {
	sum := sha256.Sum256([]byte("lab other udi " + name))
	uuid := hex.EncodeToString(sum[:16])
	udi, err := reservation.NewUDI("UCM", uuid)
	if err != nil {
		return nil, err
	}
	req := reservation.RequestCode(udi)
	u, err := c.portal.Usage(virtual)
	if err != nil {
		return nil, err
	}
	var lic []cssm.LicenseRequest
	for _, b := range u.Balances {
		if b.Available() > 0 {
			l, err := cssm.ParseLicenseRequest(b.Tier + "=1")
			if err != nil {
				return nil, err
			}
			lic = append(lic, l)
			break
		}
	}
	if len(lic) == 0 {
		return nil, fmt.Errorf(msgNothingToReserve, virtual)
	}
	issued, err := c.portal.Reserve(cssm.ReserveOptions{Virtual: virtual, Product: req, Licenses: lic})
	if err != nil {
		return nil, err
	}
	return &otherReservation{Virtual: virtual, RequestCode: req, Code: issued.Code}, nil
}

// returnOther returns the reservation with its own return code, so that
// its licences go back to the pool.
func (c *labCSSM) returnOther(r *otherReservation) error {
	ac, err := reservation.ParseAuthCode(r.Code)
	if err != nil {
		return err
	}
	_, err = c.portal.ReturnReservation(r.Virtual, r.RequestCode, reservation.ReturnCode(ac))
	return err
}
