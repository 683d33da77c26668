package publisher

import (
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Timers of the connected mode (REFERENCE §5).
const (
	day = 24 * time.Hour
	// AuthRenewEvery is how often the authorization is renewed; it expires
	// AuthValidFor after the last success.
	AuthRenewEvery = 30 * day
	AuthValidFor   = 90 * day
	// OveragePeriod is how long a shortage is tolerated before enforcement.
	OveragePeriod = 90 * day
	// RetryAfter is when a failed renewal or export call is tried again
	// ([ucmsh]: the agent's retry interval is not documented).
	RetryAfter = time.Hour
)

// RegRenewEvery is how often the registration is renewed: 180 days, as the
// CUCM (Jan 26 -> Jul 25) and IOS-XE (Mar 13 -> Sep 09) captures show. It
// expires a year after the last renewal.
const RegRenewEvery = 180 * day

func regNextRenewal(renewed time.Time) time.Time { return renewed.Add(RegRenewEvery) }
func regExpiry(renewed time.Time) time.Time      { return renewed.AddDate(1, 0, 0) }

// Transport modes.
const (
	TransportModeDirect    = ""
	TransportModeProxy     = "proxy"
	TransportModeSatellite = "ssm-satellite"
)

// TransportConfig is how the node reaches its licensing server.
type TransportConfig struct {
	Mode          string `json:"mode,omitempty"`
	URL           string `json:"url,omitempty"` // satellite URL
	ProxyHost     string `json:"proxy_host,omitempty"`
	ProxyPort     int    `json:"proxy_port,omitempty"`
	ProxyUser     string `json:"proxy_user,omitempty"`
	ProxyPassword string `json:"proxy_password,omitempty"` // the state file is 0600
}

// RegistrationState is the node's registration with a licensing server.
type RegistrationState struct {
	InstanceID     string             `json:"instance_id"`
	Credential     string             `json:"credential"`
	SmartAccount   string             `json:"smart_account"`
	VirtualAccount string             `json:"virtual_account"`
	ExportAllowed  bool               `json:"export_allowed"`
	At             time.Time          `json:"registered_at"`
	RenewedAt      time.Time          `json:"renewed_at"` // last successful registration or renewal
	LastRenewal    *Attempt           `json:"last_renewal,omitempty"`
	Auth           AuthorizationState `json:"authorization"`
	ExportKeys     []string           `json:"export_keys,omitempty"`
	PendingExport  *PendingExport     `json:"pending_export,omitempty"`
}

// AuthorizationState is what the last authorization renewal brought.
type AuthorizationState struct {
	At           *time.Time         `json:"at,omitempty"` // last success
	Last         *Attempt           `json:"last_attempt,omitempty"`
	Status       string             `json:"status,omitempty"`   // the server's overall verdict
	Reported     []cssmapi.Usage    `json:"reported,omitempty"` // the usage it was given
	Entitlements []EntitlementGrant `json:"entitlements,omitempty"`
	// ShortSince is when the node was first seen out of compliance in the
	// current shortage; the overage period counts from it.
	ShortSince *time.Time `json:"short_since,omitempty"`
}

// EntitlementGrant is the server's verdict on one license type.
type EntitlementGrant struct {
	Tag          string `json:"tag"`
	DisplayName  string `json:"display_name"`
	Description  string `json:"description"`
	Status       string `json:"status"` // InCompliance or OutOfCompliance
	BorrowedFrom string `json:"borrowed_from,omitempty"`
}

// PendingExport is an export key request or return that failed to reach
// the server and is retried until it succeeds or is cancelled.
type PendingExport struct {
	Op      string `json:"op"` // "request" or "return"
	Feature string `json:"feature"`
	// Key is the idempotency key of the first attempt; every retry reuses it.
	Key  string  `json:"idempotency_key,omitempty"`
	Last Attempt `json:"last_attempt"`
}

// ExportFeature is the export-controlled feature of UCM.
const ExportFeature = "CUCM_Export_Restricted_Authorization_Key"

// registrationValid: a registration lapses a year after its last renewal.
func (r *RegistrationState) registrationValid(now time.Time) bool {
	return now.Before(regExpiry(r.RenewedAt))
}

// authorizationDeadline is when the current authorization lapses.
func (r *RegistrationState) authorizationDeadline() (time.Time, bool) {
	if r.Auth.At == nil {
		return time.Time{}, false
	}
	return r.Auth.At.Add(AuthValidFor), true
}

// nextAuth is when the authorization is next renewed: 30 days after the
// last success, or an hour after a failure.
func (r *RegistrationState) nextAuth() time.Time {
	if l := r.Auth.Last; l != nil && !l.Succeeded {
		return l.At.Add(RetryAfter)
	}
	if r.Auth.At == nil {
		return r.At
	}
	return r.Auth.At.Add(AuthRenewEvery)
}

// nextRenewal is when the registration is next renewed.
func (r *RegistrationState) nextRenewal() time.Time {
	if l := r.LastRenewal; l != nil && !l.Succeeded {
		return l.At.Add(RetryAfter)
	}
	return regNextRenewal(r.RenewedAt)
}

// authorized reports whether licenses are authorized at now (registered,
// in date, and authorized within the last 90 days).
func (r *RegistrationState) authorized(now time.Time) bool {
	d, ok := r.authorizationDeadline()
	return ok && now.Before(d) && r.registrationValid(now)
}

func (r *RegistrationState) holds(feature string) bool {
	for _, f := range r.ExportKeys {
		if f == feature {
			return true
		}
	}
	return false
}
