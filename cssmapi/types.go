// Package cssmapi holds the wire types of cssm's product-facing HTTP API and the Go
// client a node uses to talk to it. It is shared by the server (package cssm) and the
// node (package publisher), and imports neither.
//
// Every request is a POST with a JSON body (Content-Type: application/json). Every call
// after Register carries "Authorization: Bearer <credential>" and the instance_id in
// the body. Failures answer {"code", "message"} with a matching HTTP status.
package cssmapi

// Paths of the API, version 1.
const (
	PathRegister      = "/v1/register"
	PathRenewID       = "/v1/renew-id"
	PathAuthorize     = "/v1/authorize"
	PathDeregister    = "/v1/deregister"
	PathExportRequest = "/v1/export/request"
	PathExportReturn  = "/v1/export/return"
	PathHealth        = "/v1/health" // GET; no authentication; for start-up probes
)

// Overall authorization status, as the node shows it.
const (
	StatusAuthorized      = "AUTHORIZED"
	StatusOutOfCompliance = "OUT OF COMPLIANCE"
	StatusNoLicensesInUse = "NO LICENSES IN USE"
)

// Per-entitlement status.
const (
	InCompliance    = "InCompliance"
	OutOfCompliance = "OutOfCompliance"
)

// RegisterRequest registers a product instance with a token from a virtual account.
type RegisterRequest struct {
	Token    string `json:"token"`
	UDI      string `json:"udi"` // PID:UCM,SN:<sn>,UUID:<32 hex>
	Hostname string `json:"hostname"`
	Version  string `json:"version"`
	// Force moves a UDI already registered in another virtual account. Re-registering
	// in the same virtual account never needs it: the old instance is replaced.
	Force bool `json:"force"`
}

// RegisterResponse carries the identity the product presents on every later call.
type RegisterResponse struct {
	InstanceID     string `json:"instance_id"`
	Credential     string `json:"credential"`
	SmartAccount   string `json:"smart_account"`
	VirtualAccount string `json:"virtual_account"`
	ExportAllowed  bool   `json:"export_allowed"`
}

// Identity returns what the product presents after registration.
func (r *RegisterResponse) Identity() Identity {
	return Identity{InstanceID: r.InstanceID, Credential: r.Credential}
}

// Identity is a registered product instance's id and its secret credential.
type Identity struct {
	InstanceID string
	Credential string
}

// InstanceRequest is the body of renew-id and deregister.
type InstanceRequest struct {
	InstanceID string `json:"instance_id"`
}

// RenewIDResponse answers a registration renewal.
type RenewIDResponse struct {
	OK             bool   `json:"ok"`
	SmartAccount   string `json:"smart_account"`
	VirtualAccount string `json:"virtual_account"`
	ExportAllowed  bool   `json:"export_allowed"`
}

// Usage is how many licences of one entitlement the product uses.
type Usage struct {
	Tag   string `json:"tag"`
	Count int    `json:"count"`
}

// AuthorizeRequest reports the product's whole usage; tags left out count as zero.
type AuthorizeRequest struct {
	InstanceID string  `json:"instance_id"`
	Usage      []Usage `json:"usage"`
}

// EntitlementStatus is cssm's verdict on one reported tag. Compliance is computed
// for the whole virtual account, so another product's usage can make this one's
// entitlement OutOfCompliance.
type EntitlementStatus struct {
	Tag         string `json:"tag"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
	Count       int    `json:"count"`  // as reported by this instance
	Status      string `json:"status"` // InCompliance or OutOfCompliance
	// BorrowedFrom is the nearest higher tier whose surplus covers this tag's
	// shortage in the virtual account; empty when no substitution was needed.
	BorrowedFrom string `json:"borrowed_from,omitempty"`
}

// AuthorizeResponse answers a usage report, one entry per reported tag in order.
type AuthorizeResponse struct {
	Status       string              `json:"status"` // StatusAuthorized, StatusOutOfCompliance or StatusNoLicensesInUse
	Entitlements []EntitlementStatus `json:"entitlements"`
}

// OKResponse answers deregister.
type OKResponse struct {
	OK bool `json:"ok"`
}

// ExportRequest asks for, or returns, an export authorization key.
type ExportRequest struct {
	InstanceID string `json:"instance_id"`
	Feature    string `json:"feature"`
}

// ExportResponse lists the features the instance holds after the call.
type ExportResponse struct {
	OK       bool     `json:"ok"`
	Feature  string   `json:"feature"`
	Features []string `json:"features"`
}

// HealthResponse answers GET /v1/health.
type HealthResponse struct {
	OK bool `json:"ok"`
}
