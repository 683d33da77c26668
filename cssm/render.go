package cssm

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/ucmsh/ucmsh/cssmapi"
)

// tablewriter's init sizes its width cache for 8,192 strings (600 KB, held
// as long as the process) in every program that links it, ucmsh and its lab
// nodes among them; cssm's tables are few and short.
func init() { twwidth.SetCacheCapacity(256) }

// newTable is the portal's one table look: plain ASCII (copies cleanly into mail
// and tickets), borders all round, a rule under the header, headers as written
// (tablewriter v1 upper-cases them by default), and no wrapping of long UDIs.
func newTable(w io.Writer, align []tw.Align) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Symbols: tw.NewSymbols(tw.StyleASCII),
			Borders: tw.Border{Left: tw.On, Right: tw.On, Top: tw.On, Bottom: tw.On},
			Settings: tw.Settings{
				Lines:      tw.Lines{ShowHeaderLine: tw.On},
				Separators: tw.Separators{BetweenColumns: tw.On},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: align}),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
	)
}

const listTime = "2006-01-02 15:04 MST"

// WriteInstances prints the product instance list.
func WriteInstances(w io.Writer, list []Instance) error {
	if len(list) == 0 {
		_, err := io.WriteString(w, msgNoInstances)
		return err
	}
	t := newTable(w, nil)
	t.Header("Instance ID", "Host Name", "UDI", "Virtual Account", "Export", "Reservation", "Registered", "Last Seen")
	for _, in := range list {
		host, resv := in.Hostname, "-"
		if host == "" {
			host = "-"
		}
		if r := in.Reservation; r != nil {
			resv = r.State() + ": " + FormatLicenses(r.newest().Licenses)
		}
		export := "Not Allowed"
		if in.ExportAllowed {
			export = "Allowed"
			if len(in.ExportKeys) > 0 {
				export = "Allowed, key held"
			}
		}
		if err := t.Append(in.ID, host, in.UDI, in.VirtualAccount, export, resv,
			in.Registered.UTC().Format(listTime), in.LastSeen.UTC().Format(listTime)); err != nil {
			return err
		}
	}
	return t.Render()
}

// WriteUsage prints a virtual account's licences in the columns of the CSSM
// portal's Licenses tab: substitution is +N for a tier covered by higher tiers and
// -N for a tier lending its surplus; Reserved is held by Specific License
// Reservations (in transit, installed, or removed without a return code), and
// Balance is Purchased - Reserved - In Use + Substitution.
func WriteUsage(w io.Writer, r *UsageReport) error {
	fmt.Fprintf(w, "Smart Account: %s\nVirtual Account: %s\nProduct Instances: %d\n", r.SmartAccount, r.VirtualAccount, r.Instances)
	right := tw.AlignRight
	t := newTable(w, []tw.Align{tw.AlignLeft, right, right, right, right, right, tw.AlignLeft})
	t.Header("License", "Purchased", "Reserved", "In Use", "Substitution", "Balance", "Status")
	dual := false
	for _, b := range r.Balances {
		if b.HCS() && b.Purchased == 0 && b.Reserved == 0 && b.InUse == 0 {
			continue // HCS rows only for accounts that hold or use HCS licences
		}
		for _, sh := range b.ServedBy {
			if e, _ := cssmapi.LookupTag(sh.Tag); e.HCS() != b.HCS() {
				dual = true
			}
		}
		subst := "-"
		switch {
		case b.Borrowed > 0:
			subst = "+" + strconv.Itoa(b.Borrowed)
		case b.Lent > 0:
			subst = "-" + strconv.Itoa(b.Lent)
		}
		if err := t.Append(strings.TrimSpace(b.DisplayName), b.Purchased, b.Reserved, b.InUse, subst, b.Balance(), b.Status()); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if dual {
		writeServedBy(w, r.Balances)
	}
	if r.Forfeited > 0 {
		fmt.Fprintf(w, "Reserved includes %s held by %s removed without a return code.\n",
			FormatLicenses(r.ForfeitedLicenses), plural(r.Forfeited, "reservation"))
	}
	_, err := fmt.Fprintf(w, "Export Authorization Keys: %d in use of %d\n", r.ExportKeysHeld, r.ExportKeys)
	return err
}

const stampLayout = "2006-01-02 15:04:05.000 MST"

// WriteReservations prints the reservation list. Confirmation Code is the one
// entered for the installed code; a code in transit shows none, since the
// confirmation code is the node's proof that it installed the code.
func WriteReservations(w io.Writer, list []ReservationInfo) error {
	if len(list) == 0 {
		_, err := io.WriteString(w, msgNoReservations)
		return err
	}
	t := newTable(w, nil)
	t.Header("Instance ID", "UDI", "Virtual Account", "State", "Licenses", "Export", "Last Code Issued", "Confirmation Code")
	for _, r := range list {
		export := "Not Allowed"
		if r.ExportAllowed {
			export = "Allowed"
		}
		confirmation := r.Confirmation
		if confirmation == "" {
			confirmation = "-"
		}
		if err := t.Append(r.InstanceID, r.UDI, r.VirtualAccount, r.State, FormatLicenses(r.Licenses), export,
			r.Issued.UTC().Format(stampLayout), confirmation); err != nil {
			return err
		}
	}
	return t.Render()
}

// writeServedBy lists, when HCS licences serve Enterprise requests (dual
// parenting), which licences serve each licence type in use.
func writeServedBy(w io.Writer, list []Balance) {
	fmt.Fprintln(w, "Licenses serving each request (dual parenting):")
	for _, b := range list {
		if len(b.ServedBy) == 0 {
			continue
		}
		var parts []string
		for _, sh := range b.ServedBy {
			e, _ := cssmapi.LookupTag(sh.Tag)
			parts = append(parts, fmt.Sprintf("%d %s", sh.Count, strings.TrimSpace(e.DisplayName)))
		}
		fmt.Fprintf(w, "  %s: %s\n", strings.TrimSpace(b.DisplayName), strings.Join(parts, ", "))
	}
}
