package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/publisher"
)

// The license reports reproduce CUCM's captures byte for byte: every blank
// line inside a report holds a single space.

// StampLayout is how every report time stamp is written, in the node's zone.
const StampLayout = "Jan 2 15:04:05 2006 MST"

// summaryRow is the captured column layout of `show license summary`.
const summaryRow = "  %-28s%-87s%-13s%s\n"

type report struct {
	strings.Builder
	loc *time.Location
}

func newReport(m *publisher.Report) *report { return &report{loc: m.Location} }

// line writes one line; text in it may come from a signed code or a
// server, so it is sanitized (no control, bidi or zero-width characters raw).
func (b *report) line(format string, args ...any) {
	for i, a := range args {
		if t, ok := a.(string); ok {
			args[i] = Sanitize(t)
		}
	}
	fmt.Fprintf(b, format+"\n", args...)
}

func (b *report) blank()                   { b.WriteString(" \n") }
func (b *report) stamp(t time.Time) string { return t.In(b.loc).Format(StampLayout) }

func (b *report) heading(title string, rule int) {
	b.line("%s", title)
	b.line("%s", strings.Repeat("=", rule))
}

// attempt writes "SUCCEEDED on <t>" or "FAILED on <t>" with its reason.
func (b *report) attempt(label string, a *publisher.Attempt) {
	if a == nil {
		return
	}
	if a.Succeeded {
		b.line("  %s: SUCCEEDED on %s", label, b.stamp(a.At))
		return
	}
	b.line("  %s: FAILED on %s", label, b.stamp(a.At))
	if a.Reason != "" {
		b.line("    Failure reason: %s", a.Reason)
	}
}

// opt writes "  label: value" when there is a value.
func (b *report) opt(label, value string) {
	if value != "" {
		b.line("  %s: %s", label, value)
	}
}

func (b *report) optStamp(label string, t *time.Time) {
	if t != nil {
		b.line("  %s: %s", label, b.stamp(*t))
	}
}

// statusSection is the first section of `show license all`, through the
// evaluation period.
func (b *report) statusSection(m *publisher.Report) {
	b.heading("Smart Licensing Status", 23)
	b.line("Smart Licensing is %s", m.SmartLicensing)
	if m.Reservation.Status == publisher.ReservationEnabled {
		b.line("License Reservation is ENABLED") // as the agent says in reservation mode
	}
	b.blank()
	reg := m.Registration
	b.line("Registration:")
	b.line("  Status: %s", reg.Status)
	b.opt("Smart Account", reg.SmartAccount)
	b.opt("Virtual Account", reg.VirtualAccount)
	b.line("  Export-Controlled Functionality: %s", reg.ExportControlled)
	b.attempt("Initial Registration", reg.InitialRegistration)
	// Before any renewal the agent counts the registration itself as the
	// last renewal here, while the summary says None (REFERENCE §3).
	if reg.LastRenewal == nil {
		b.attempt("Last Renewal Attempt", reg.InitialRegistration)
	}
	b.attempt("Last Renewal Attempt", reg.LastRenewal)
	b.optStamp("Next Renewal Attempt", reg.NextRenewal)
	b.optStamp("Registration Expires", reg.Expires)
	b.blank()
	auth := m.Authorization
	b.line("License Authorization:")
	if auth.Since != nil {
		b.line("  Status: %s on %s", auth.Status, b.stamp(*auth.Since))
	} else {
		b.line("  Status: %s", auth.Status)
	}
	if auth.EvaluationRemaining != nil {
		b.line("  Evaluation Period Remaining: %s", publisher.FormatRemaining(*auth.EvaluationRemaining))
	}
	b.overage(m)
	b.attempt("Last Communication Attempt", auth.LastCommunication)
	b.optStamp("Next Communication Attempt", auth.NextCommunication)
	b.optStamp("Communication Deadline", auth.Deadline)
	b.blank()
	b.evaluation(m.Evaluation)
}

// overage shows the 90 days a shortage is tolerated ([ucmsh] wording, in
// the style of the evaluation period).
func (b *report) overage(m *publisher.Report) {
	end := m.Authorization.OverageEnds
	switch {
	case end == nil:
	case m.Now.Before(*end):
		b.line("  Overage Period Remaining: %s", publisher.FormatRemaining(end.Sub(m.Now)))
	default:
		b.line("  OVERAGE PERIOD EXPIRED on %s", b.stamp(*end))
	}
}

func (b *report) evaluation(e publisher.EvalStatus) {
	b.line("Evaluation Period:")
	if e.InUse {
		b.line("  Evaluation Mode: In Use")
	} else {
		b.line("  Evaluation Mode: Not In Use")
	}
	if e.ExpiredAt != nil {
		b.line("  EVALUATION PERIOD EXPIRED on %s", b.stamp(*e.ExpiredAt))
	} else {
		b.line("  Evaluation Period Remaining: %s", publisher.FormatRemaining(e.Remaining))
	}
}

// extraStatus is what `show license status` adds to the first section
// ([ucmsh], in the agent's style).
func (b *report) extraStatus(m *publisher.Report) {
	b.blank()
	b.line("Transport:")
	b.line("  Type: %s", m.Transport.Type)
	b.opt("URL", m.Transport.URL)
	b.opt("Proxy", m.Transport.Proxy)
	b.opt("Proxy User", m.Transport.ProxyUser)
	b.blank()
	res := m.Reservation
	b.line("License Reservation:")
	b.line("  Status: %s", res.Status)
	b.opt("Request Code", res.RequestCode)
	if res.InstalledAt != nil {
		b.line("  Authorization Code Installed: %s", b.stamp(*res.InstalledAt))
		if res.VerificationFailure != "" {
			b.line("  Authorization Code Verification: FAILED")
			b.line("    Failure reason: %s", res.VerificationFailure)
		}
		b.line("  Last Confirmation Code: %s", res.ConfirmationCode)
		b.line("  Reserved Licenses:")
		for _, l := range res.Licenses {
			name := l.DisplayName
			if name == "" {
				name = l.Tag
			}
			if l.EndDate != nil {
				b.line("    %s: %d (%s, until %s)", name, l.Count, l.Type, l.EndDate.Format("2006-Jan-02 UTC"))
			} else {
				b.line("    %s: %d (%s)", name, l.Count, l.Type)
			}
		}
	}
	b.blank()
	b.line("Export Authorization Key:")
	b.line("  Features Authorized:")
	if len(m.ExportKeys) == 0 {
		b.line("    <none>")
	}
	for _, f := range m.ExportKeys {
		b.line("    %s", f)
	}
	if p := m.PendingExport; p != nil {
		verb := map[string]string{"request": "Request", "return": "Return"}[p.Op]
		b.line("  Pending %s: %s", verb, p.Feature)
		b.line("    Last Attempt: FAILED on %s", b.stamp(p.Last.At))
		b.line("      Failure reason: %s", p.Last.Reason)
		b.line("    Next Attempt: %s", b.stamp(p.Next))
	}
}

func (b *report) usage(m *publisher.Report) {
	u := m.Usage
	b.heading("License Usage", 13)
	if u.AsOf != nil {
		b.line("License Authorization Status: %s as of %s", u.AuthorizationStatus, b.stamp(*u.AsOf))
	} else {
		b.line("License Authorization Status: %s", u.AuthorizationStatus)
	}
	for _, e := range u.Entitlements {
		b.blank()
		b.line("%s (%s)", e.DisplayName, e.Tag)
		desc := e.Description
		if desc == "" {
			desc = "null"
		}
		b.line("  Description: %s", desc)
		b.line("  Count: %d", e.Count)
		b.line("  Version: %s", e.Version)
		b.line("  Status: %s", e.Status)
	}
}

func (b *report) product(m *publisher.Report) {
	b.heading("Product Information", 19)
	b.line("UDI: %s", m.UDI)
	b.blank()
	b.heading("Agent Version", 13)
	b.line("Smart Agent for Licensing: %s", m.AgentVersion)
}

// RenderAll is `show license all`.
func RenderAll(m *publisher.Report) string {
	b := newReport(m)
	b.statusSection(m)
	b.blank()
	b.usage(m)
	b.blank()
	b.product(m)
	return b.String()
}

// RenderStatus is `show license status`.
func RenderStatus(m *publisher.Report) string {
	b := newReport(m)
	b.statusSection(m)
	b.extraStatus(m)
	return b.String()
}

// RenderUsage is `show license usage`.
func RenderUsage(m *publisher.Report) string {
	b := newReport(m)
	b.usage(m)
	return b.String()
}

// RenderUDI is `show license UDI`.
func RenderUDI(m *publisher.Report) string { return "UDI: " + m.UDI + "\n" }

// RenderSummary is `show license summary`, in the captured column layout.
func RenderSummary(m *publisher.Report) string {
	b := newReport(m)
	b.line("Smart Licensing is %s", m.SmartLicensing)
	b.blank()
	reg := m.Registration
	b.line("Registration:")
	b.line("  Status: %s", reg.Status)
	if reg.SmartAccount != "" {
		b.line("  Smart Account: %s", reg.SmartAccount)
		b.line("  Virtual Account: %s", reg.VirtualAccount)
		switch {
		case reg.LastRenewal == nil:
			b.line("  Last Renewal Attempt: None")
		case reg.LastRenewal.Succeeded:
			b.line("  Last Renewal Attempt: SUCCEEDED")
		default:
			b.line("  Last Renewal Attempt: FAILED")
		}
	}
	b.optStamp("Next Renewal Attempt", reg.NextRenewal)
	b.blank()
	auth := m.Authorization
	b.line("License Authorization:")
	b.line("  Status: %s", auth.Status)
	if auth.EvaluationRemaining != nil {
		b.line("  Evaluation Period Remaining: %s", publisher.FormatRemaining(*auth.EvaluationRemaining))
	}
	if a := auth.LastCommunication; a != nil {
		if a.Succeeded {
			b.line("  Last Communication Attempt: SUCCEEDED")
		} else {
			b.line("  Last Communication Attempt: FAILED")
		}
	}
	b.optStamp("Next Communication Attempt", auth.NextCommunication)
	b.blank()
	b.line("License Usage:")
	fmt.Fprintf(b, summaryRow, "License", "Entitlement Tag", "Count", "Status")
	b.line("  %s", strings.Repeat("-", 134))
	for _, e := range m.Usage.Entitlements {
		fmt.Fprintf(b, summaryRow, Sanitize(summaryLicense(e)), Sanitize(e.Tag), fmt.Sprint(e.Count), e.Status)
	}
	return b.String()
}

// summaryLicense is the License column of a summary row, as the captured
// Smart Agent fills it: the tag's trailing 36-character UUID for an
// entitlement in use (it overflows the 28 columns and runs into the tag,
// moving Count and Status right), nothing for an Init row. [ucmsh] the
// capture shows InCompliance rows; Eval, reserved and the other in-use
// states are filled the same way.
func summaryLicense(e publisher.EntitlementUsage) string {
	const uuidLen = 36
	if e.Status == publisher.EntInit || len(e.Tag) < uuidLen {
		return ""
	}
	return e.Tag[len(e.Tag)-uuidLen:]
}

// RenderTrace is `show license trace`: the recorded events, oldest first.
func RenderTrace(m *publisher.Report) string {
	b := newReport(m)
	b.heading("Smart Licensing Trace", 21)
	b.events(m.Events)
	return b.String()
}

func (b *report) events(events []publisher.Event) {
	if len(events) == 0 {
		b.line("<none>")
	}
	for _, e := range events {
		b.line("%s: %s", b.stamp(e.At), e.Text)
	}
}

// techEvents is how many recent events tech support includes.
const techEvents = 20

// RenderTechSupport is `show license tech support`: everything, plus the
// scheduled jobs and recent events ([ucmsh] layout).
func RenderTechSupport(m *publisher.Report) string {
	b := newReport(m)
	b.line("Smart Licensing Tech Support info")
	b.blank()
	b.statusSection(m)
	b.extraStatus(m)
	b.blank()
	b.usage(m)
	b.blank()
	b.product(m)
	b.blank()
	b.heading("Upcoming Scheduled Jobs", 23)
	jobs := 0
	if m.Evaluation.InUse {
		b.line("Evaluation Period Expiry: %s", b.stamp(m.Now.Add(m.Evaluation.Remaining)))
		jobs++
	}
	if m.Registration.NextRenewal != nil {
		b.line("Registration Renewal: %s", b.stamp(*m.Registration.NextRenewal))
		jobs++
	}
	if m.Authorization.NextCommunication != nil {
		b.line("Authorization Renewal: %s", b.stamp(*m.Authorization.NextCommunication))
		jobs++
	}
	if jobs == 0 {
		b.line("<none>")
	}
	b.blank()
	b.heading("Recent Events", 13)
	ev := m.Events
	if len(ev) > techEvents {
		ev = ev[len(ev)-techEvents:]
	}
	b.events(ev)
	return b.String()
}
