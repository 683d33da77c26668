package publisher

import "time"

// Report is the typed model behind every `show license` report. The text
// renderer and --json both read it, so they cannot disagree.
type Report struct {
	SmartLicensing string        `json:"smart_licensing"` // ENABLED
	Registration   Registration  `json:"registration"`
	Authorization  Authorization `json:"authorization"`
	Evaluation     EvalStatus    `json:"evaluation"`
	Transport      Transport     `json:"transport"`
	Reservation    Reservation   `json:"reservation"`
	ExportKeys     []string      `json:"export_features_authorized"`
	// PendingExport is an export key call waiting for a retry.
	PendingExport *PendingExportStatus `json:"pending_export,omitempty"`
	Usage         Usage                `json:"usage"`
	UDI           string               `json:"udi"`
	AgentVersion  string               `json:"agent_version"`
	Events        []Event              `json:"events"`
	// Now is the instant the report describes; Location its time zone.
	Now      time.Time      `json:"now"`
	Location *time.Location `json:"-"`
}

// Attempt is the outcome of one exchange with the licensing server.
type Attempt struct {
	Succeeded bool      `json:"succeeded"`
	At        time.Time `json:"at"`
	Reason    string    `json:"failure_reason,omitempty"`
}

// Registration states (REFERENCE §3).
const (
	Unregistered          = "UNREGISTERED"
	Registered            = "REGISTERED"
	RegistrationExpired   = "REGISTRATION EXPIRED"
	ReservationInProgress = "RESERVATION IN PROGRESS"
	RegisteredSLR         = "REGISTERED - SPECIFIC LICENSE RESERVATION"
)

// Authorization states (REFERENCE §3).
const (
	AuthEvalMode          = "EVAL MODE"
	AuthEvalExpired       = "EVALUATION PERIOD EXPIRED"
	AuthAuthorized        = "AUTHORIZED"
	AuthExpired           = "AUTHORIZATION EXPIRED"
	AuthOutOfCompliance   = "OUT OF COMPLIANCE"
	AuthNoLicensesInUse   = "NO LICENSES IN USE"
	AuthReserved          = "AUTHORIZED - RESERVED"
	AuthNotReserved       = "NOT AUTHORIZED - RESERVED"
	UsageEvaluationMode   = "EVALUATION MODE"
	ExportAllowed         = "Allowed"
	ExportNotAllowed      = "Not Allowed"
	SmartLicensingEnabled = "ENABLED"
	AgentVersion          = "1.3.4"
)

// Entitlement status values (REFERENCE §3).
const (
	EntInit             = "Init"
	EntEval             = "Eval"
	EntOverage          = "Overage"
	EntReservedAuth     = "ReservedAuthorized"
	EntNotAuthorized    = "NotAuthorized"
	ReservationDisabled = "DISABLED"
	ReservationEnabled  = "ENABLED"
	TransportDirect     = "Direct"
	TransportProxy      = "Proxy"
	TransportSatellite  = "SSM Satellite"
	DefaultTransportURL = "https://smartreceiver.cisco.com/licservice/license"
)

// Registration is the registration block.
type Registration struct {
	Status              string     `json:"status"`
	SmartAccount        string     `json:"smart_account,omitempty"`
	VirtualAccount      string     `json:"virtual_account,omitempty"`
	ExportControlled    string     `json:"export_controlled_functionality"`
	InitialRegistration *Attempt   `json:"initial_registration,omitempty"`
	LastRenewal         *Attempt   `json:"last_renewal_attempt,omitempty"`
	NextRenewal         *time.Time `json:"next_renewal_attempt,omitempty"`
	Expires             *time.Time `json:"registration_expires,omitempty"`
}

// Authorization is the license authorization block.
type Authorization struct {
	Status              string         `json:"status"`
	Since               *time.Time     `json:"since,omitempty"`
	EvaluationRemaining *time.Duration `json:"-"` // as a duration string: report_json.go
	LastCommunication   *Attempt       `json:"last_communication_attempt,omitempty"`
	NextCommunication   *time.Time     `json:"next_communication_attempt,omitempty"`
	Deadline            *time.Time     `json:"communication_deadline,omitempty"`
	// OverageEnds is when the 90-day overage of a shortage runs out.
	OverageEnds *time.Time `json:"overage_ends,omitempty"`
}

// PendingExportStatus is an export key request or return to be retried.
type PendingExportStatus struct {
	Op      string    `json:"op"`
	Feature string    `json:"feature"`
	Last    Attempt   `json:"last_attempt"`
	Next    time.Time `json:"next_attempt"`
}

// EvalStatus is the evaluation period block.
type EvalStatus struct {
	InUse     bool          `json:"in_use"`
	Remaining time.Duration `json:"-"` // as a duration string: report_json.go
	ExpiredAt *time.Time    `json:"expired_at,omitempty"`
}

// Transport is how the node reaches its licensing server.
type Transport struct {
	Type      string `json:"type"`
	URL       string `json:"url,omitempty"`
	Proxy     string `json:"proxy,omitempty"` // host:port
	ProxyUser string `json:"proxy_user,omitempty"`
}

// Reservation is the Specific License Reservation block.
type Reservation struct {
	Status           string            `json:"status"` // ENABLED or DISABLED
	RequestCode      string            `json:"request_code,omitempty"`
	InstalledAt      *time.Time        `json:"installed_at,omitempty"`
	ConfirmationCode string            `json:"confirmation_code,omitempty"`
	Licenses         []ReservedLicense `json:"licenses,omitempty"`
	// VerificationFailure says why the installed code no longer verifies
	// (it then grants nothing).
	VerificationFailure string `json:"verification_failure,omitempty"`
}

// ReservedLicense is one entitlement of the installed code.
type ReservedLicense struct {
	Tag         string     `json:"tag"`
	DisplayName string     `json:"display_name"`
	Count       int        `json:"count"`
	Type        string     `json:"type"` // PERPETUAL or TERM
	EndDate     *time.Time `json:"end_date,omitempty"`
}

// Usage is the License Usage section.
type Usage struct {
	AuthorizationStatus string             `json:"authorization_status"`
	AsOf                *time.Time         `json:"as_of,omitempty"`
	Entitlements        []EntitlementUsage `json:"entitlements"`
}

// EntitlementUsage is one license type's line in the usage report. An
// entitlement the licensing server never described has no display name.
type EntitlementUsage struct {
	Key         string `json:"key"`
	Tag         string `json:"tag"`
	DisplayName string `json:"display_name,omitempty"`
	Description string `json:"description,omitempty"`
	Count       int    `json:"count"`
	Version     string `json:"version"`
	Status      string `json:"status"`
	// BorrowedFrom is the higher tier covering this one's shortage.
	BorrowedFrom string `json:"borrowed_from,omitempty"`
}
