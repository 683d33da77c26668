package cssm

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

func alertsOf(t *testing.T, p *Portal, va, kind string) []Alert {
	t.Helper()
	as, err := p.Alerts(va)
	if err != nil {
		t.Fatal(err)
	}
	var out []Alert
	for _, a := range as {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

func TestAlertsWarnOfTermLicencesAtEachThreshold(t *testing.T) {
	for _, c := range []struct{ daysLeft, within int }{
		{120, 0}, {91, 0}, {90, 90}, {61, 90}, {60, 60}, {31, 60}, {30, 30}, {15, 30},
		{14, 14}, {8, 14}, {7, 7}, {4, 7}, {3, 3}, {2, 3}, {1, 1},
	} {
		l := newLab(t)
		// The last day counts: a licence ending today has 1 day left.
		end := t0.AddDate(0, 0, c.daysLeft-1).Format(time.DateOnly)
		l.must(l.portal.AddLicense("TAC", LicenseSpec{Tier: "Basic", Count: 3, TermEnd: end}))
		got := alertsOf(t, l.portal, "TAC", AlertExpiring)
		switch {
		case c.within == 0 && len(got) != 0:
			t.Errorf("%d days left: %v, want no alert", c.daysLeft, got)
		case c.within != 0 && (len(got) != 1 || !strings.Contains(got[0].Message, fmt.Sprintf("within %d days", c.within))):
			t.Errorf("%d days left: %v, want one alert within %d days", c.daysLeft, got, c.within)
		}
	}
}

func TestAlertsForShortageAndProductsThatStopCalling(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Basic", 1)
	tok := a.token(TokenOptions{})
	id, cred := a.register(tok, 1)
	status, out := a.post(cssmapi.PathAuthorize, cred, cssmapi.AuthorizeRequest{InstanceID: id, Usage: []cssmapi.Usage{{Tag: tag("Basic"), Count: 3}}})
	if status != http.StatusOK {
		t.Fatalf("authorize: %d %v", status, out)
	}
	if got := alertsOf(t, a.portal, "TAC", AlertInsufficient); len(got) != 1 || !strings.Contains(got[0].Message, "2 short") {
		t.Fatalf("shortage alerts %v", got)
	}
	if got := alertsOf(t, a.portal, "TAC", AlertFailedRenew); len(got) != 0 {
		t.Fatalf("a product that just called: %v", got)
	}
	a.clock.Add(31 * 24 * time.Hour)
	if got := alertsOf(t, a.portal, "TAC", AlertFailedRenew); len(got) != 1 {
		t.Fatalf("31 days without a call: %v", got)
	}
	a.clock.Add(60 * 24 * time.Hour)
	if got := alertsOf(t, a.portal, "TAC", AlertFailedConnect); len(got) != 1 {
		t.Fatalf("91 days without a call: %v", got)
	}
}

// The satellite adds its "synchronization overdue" through AlertSources.
func TestAlertSourcesAddAlerts(t *testing.T) {
	l := newLab(t)
	AlertSources = append(AlertSources, func(st *State, va string, now time.Time) []Alert {
		return []Alert{{"Major", AlertSyncOverdue, "not synchronized for 31 days"}}
	})
	defer func() { AlertSources = AlertSources[:len(AlertSources)-1] }()
	if got := alertsOf(t, l.portal, "TAC", AlertSyncOverdue); len(got) != 1 {
		t.Fatalf("%v", got)
	}
}

func TestEventLogNamesWhoChangedWhat(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Enhanced", 5)
	tok, err := a.portal.As("alice").CreateToken("TAC", TokenOptions{ExpiresDays: 7, Description: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	a.clock.Add(time.Minute)
	id, cred := a.register(tok, 1)
	a.post(cssmapi.PathAuthorize, cred, cssmapi.AuthorizeRequest{InstanceID: id, Usage: []cssmapi.Usage{{Tag: tag("Enhanced"), Count: 2}}})
	a.clock.Add(time.Minute)
	a.post(cssmapi.PathAuthorize, cred, cssmapi.AuthorizeRequest{InstanceID: id, Usage: []cssmapi.Usage{{Tag: tag("Enhanced"), Count: 2}}}) // unchanged: no event
	if _, err := a.portal.As("bob").RevokeToken("TAC", tok); err != nil {
		t.Fatal(err)
	}
	evs, err := a.portal.Events("TAC", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Actor+": "+e.Kind)
	}
	want := []string{"bob: token revoked", "product cucm-00001: usage changed", "product cucm-00001: instance added",
		"alice: token created", CLIActor + ": licenses added", CLIActor + ": account created"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events, newest first:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if evs[1].Time != t0.Add(time.Minute) {
		t.Errorf("usage changed at %v, want %v", evs[1].Time, t0.Add(time.Minute))
	}
	if f, _ := a.portal.Events("TAC", "ALICE", 100); len(f) != 1 {
		t.Errorf("filter alice: %v", f)
	}
	hist, _ := a.portal.UsageHistory("TAC")
	if len(hist) != 1 || hist[0].InUse[tag("Enhanced")] != 2 {
		t.Errorf("usage history %v", hist)
	}
}

func TestTransferMovesUsageAndStaysInTheSmartAccount(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Enhanced", 5)
	a.must(a.portal.CreateAccount("BU", "Spare"))
	a.must(a.portal.CreateAccount("Other", "Elsewhere"))
	id, cred := a.register(a.token(TokenOptions{}), 1)
	a.post(cssmapi.PathAuthorize, cred, cssmapi.AuthorizeRequest{InstanceID: id, Usage: []cssmapi.Usage{{Tag: tag("Enhanced"), Count: 2}}})
	if _, err := a.portal.TransferInstance(id, "Elsewhere"); err == nil {
		t.Fatal("a transfer to another smart account was accepted")
	}
	if _, err := a.portal.TransferInstance(id, "TAC"); err == nil {
		t.Fatal("a transfer to its own account was accepted")
	}
	a.must(a.portal.TransferInstance(id, "Spare"))
	spare, _ := a.portal.Usage("Spare")
	tac, _ := a.portal.Usage("TAC")
	if spare.Instances != 1 || tac.Instances != 0 {
		t.Fatalf("instances: Spare %d, TAC %d", spare.Instances, tac.Instances)
	}
	for _, b := range spare.Balances {
		if b.Tier == "Enhanced" && b.InUse != 2 {
			t.Fatalf("Spare uses %d Enhanced", b.InUse)
		}
	}
	if ins, _ := a.portal.Instances("Spare"); len(ins) != 1 || ins[0].ID != id {
		t.Fatalf("Spare's instances %v", ins)
	}
	// The product's next call is answered from its new account, which has no
	// Enhanced licences.
	status, out := a.post(cssmapi.PathAuthorize, cred, cssmapi.AuthorizeRequest{InstanceID: id, Usage: []cssmapi.Usage{{Tag: tag("Enhanced"), Count: 2}}})
	if status != http.StatusOK || out["status"] == cssmapi.InCompliance {
		t.Fatalf("authorize after transfer: %d %v", status, out)
	}
}

func TestRESTEventsAlertsAndTransfer(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Basic", 1)
	a.must(a.portal.CreateAccount("BU", "Spare"))
	id, cred := a.register(a.token(TokenOptions{}), 1)
	a.post(cssmapi.PathAuthorize, cred, cssmapi.AuthorizeRequest{InstanceID: id, Usage: []cssmapi.Usage{{Tag: tag("Basic"), Count: 2}}})
	bearer := a.accessToken()
	status, out := a.restJSON("GET", onPrem+"/virtual-accounts/TAC/alerts", bearer, nil)
	if status != 200 || !strings.Contains(fmt.Sprint(out["alerts"]), AlertInsufficient) {
		t.Fatalf("alerts: %d %v", status, out)
	}
	status, out = a.restJSON("POST", onPrem+"/virtual-accounts/TAC/devices/transfer", bearer, map[string]string{"instanceId": id, "targetVirtualAccount": "Spare"})
	if status != 200 {
		t.Fatalf("transfer: %d %v", status, out)
	}
	status, out = a.restJSON("GET", cloud+"/virtual-accounts/TAC/events?filter=transferred", bearer, nil)
	evs, _ := out["events"].([]any)
	if status != 200 || len(evs) != 1 || !strings.HasPrefix(evs[0].(map[string]any)["actor"].(string), "client ") {
		t.Fatalf("events: %d %v", status, out)
	}
	status, out = a.restJSON("GET", onPrem+"/virtual-accounts/TAC/events?limit=0", bearer, nil)
	if status != 400 {
		t.Fatalf("limit=0: %d %v", status, out)
	}
	// A read-only user may look, not move.
	a.must(a.portal.AddUser("carol", "correct horse", RoleReadOnly, "", ""))
	_, tokOut := a.call("POST", "/oauth/token?grant_type=password&username=carol&password=correct+horse", "", "", nil)
	ro, _ := tokOut["access_token"].(string)
	if status, _ := a.restJSON("GET", onPrem+"/virtual-accounts/Spare/events", ro, nil); status != 200 {
		t.Fatalf("read-only events: %d", status)
	}
	if status, _ := a.restJSON("POST", onPrem+"/virtual-accounts/Spare/devices/transfer", ro, map[string]string{"instanceId": id, "targetVirtualAccount": "TAC"}); status != 403 {
		t.Fatalf("read-only transfer: %d, want 403", status)
	}
}

// A satellite not synchronized for 30 days shows on the portal's Alerts, on
// the parent and on the satellite.
func TestPortalAlertsShowSynchronizationOverdue(t *testing.T) {
	l := newSatLab(t)
	l.sync()
	day := 24 * time.Hour
	for _, p := range []*Portal{l.parent.portal, l.sat.portal} {
		if got := alertsOf(t, p, "TAC", AlertSyncOverdue); len(got) != 0 {
			t.Fatalf("just synchronized: %v", got)
		}
	}
	l.parent.clock.Add(30 * day)
	l.sat.clock.Add(30 * day)
	for name, p := range map[string]*Portal{"parent": l.parent.portal, "satellite": l.sat.portal} {
		if got := alertsOf(t, p, "TAC", AlertSyncOverdue); len(got) != 1 || !strings.Contains(got[0].Message, `"branch"`) {
			t.Fatalf("%s after 30 days: %v", name, got)
		}
	}
}
