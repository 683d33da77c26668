package publisher

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// ReportDue takes a short cut when nothing is due: anythingDue must agree
// with runDue, in every timer's case, and the result must be what RunDue
// then Report give.
func TestReportDueFollowsRunDue(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "unavailable in this test", http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	reg := func(mod func(r *RegistrationState)) func(st *State) {
		return func(st *State) {
			at := t0.Add(-10 * day)
			r := &RegistrationState{InstanceID: "i-1", Credential: "c", SmartAccount: "SA", VirtualAccount: "VA",
				At: at, RenewedAt: at}
			r.Auth.At, r.Auth.Last = &at, &Attempt{Succeeded: true, At: at}
			r.Auth.Status = cssmapi.StatusAuthorized
			r.Auth.Reported = lab(inUse).usage()
			if mod != nil {
				mod(r)
			}
			st.Registration = r
		}
	}
	ago := func(d time.Duration) time.Time { return t0.Add(-d) }
	for _, tc := range []struct {
		name  string
		setup func(st *State)
		due   bool
	}{
		{"unregistered", nil, false},
		{"reservation", func(st *State) { st.Reservation = &ReservationState{Requested: true} }, false},
		{"registered, nothing due", reg(nil), false},
		{"registration renewal due", reg(func(r *RegistrationState) { r.RenewedAt = ago(200 * day) }), true},
		{"registration expired", reg(func(r *RegistrationState) { r.RenewedAt = ago(400 * day) }), false},
		{"failed renewal, retry not yet", reg(func(r *RegistrationState) {
			r.RenewedAt = ago(200 * day)
			r.LastRenewal = &Attempt{At: ago(30 * time.Minute), Reason: "x"}
		}), false},
		{"failed renewal, retry due", reg(func(r *RegistrationState) {
			r.RenewedAt = ago(200 * day)
			r.LastRenewal = &Attempt{At: ago(time.Hour), Reason: "x"}
		}), true},
		{"authorization renewal due", reg(func(r *RegistrationState) { a := ago(30 * day); r.Auth.At = &a }), true},
		{"never authorized", reg(func(r *RegistrationState) { r.Auth.At, r.Auth.Last = nil, nil }), true},
		{"failed authorization, retry not yet", reg(func(r *RegistrationState) {
			r.Auth.Last = &Attempt{At: ago(59 * time.Minute), Reason: "x"}
		}), false},
		{"failed authorization, retry due", reg(func(r *RegistrationState) {
			r.Auth.Last = &Attempt{At: ago(61 * time.Minute), Reason: "x"}
		}), true},
		{"usage changed", reg(func(r *RegistrationState) { r.Auth.Reported = nil }), true},
		{"export retry not yet", reg(func(r *RegistrationState) {
			r.PendingExport = &PendingExport{Op: "request", Feature: ExportFeature, Last: Attempt{At: ago(time.Minute)}}
		}), false},
		{"export retry due", reg(func(r *RegistrationState) {
			r.PendingExport = &PendingExport{Op: "request", Feature: ExportFeature, Last: Attempt{At: ago(2 * time.Hour)}}
		}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Two copies of one state: one takes ReportDue, the other RunDue
			// then Report.
			var dirs [2]string
			for i := range dirs {
				dirs[i] = t.TempDir()
				s := serviceAt(t, dirs[i], t0, inUse)
				s.NewIdentity = func() (Identity, error) { return Identity{UUID: "6fe83addc80240bc92dc071ac7a37624"}, nil }
				if err := s.Init(); err != nil {
					t.Fatal(err)
				}
				err := s.store.Update(func(st *State) error {
					st.Transport = TransportConfig{Mode: TransportModeSatellite, URL: srv.URL}
					if tc.setup != nil {
						tc.setup(st)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			a, b := serviceAt(t, dirs[0], t0, inUse), serviceAt(t, dirs[1], t0, inUse)

			var predicted bool
			a.store.View(func(st *State) error { predicted = a.anythingDue(st, t0); return nil })
			if predicted != tc.due {
				t.Fatalf("anythingDue = %v, want %v", predicted, tc.due)
			}
			calls.Store(0)
			if err := b.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			if called := calls.Load() > 0; called != tc.due {
				t.Fatalf("RunDue called the server: %v; anythingDue says %v", called, tc.due)
			}
			want, err := b.Report()
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.ReportDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ReportDue gave\n%+v\nRunDue then Report\n%+v", got, want)
			}
			sa, _ := os.ReadFile(filepath.Join(dirs[0], StateFile))
			sb, _ := os.ReadFile(filepath.Join(dirs[1], StateFile))
			// Idempotency keys are random: equal states differ only there.
			sa, sb = anyKey.ReplaceAll(sa, []byte("KEY")), anyKey.ReplaceAll(sb, []byte("KEY"))
			if !bytes.Equal(sa, sb) {
				t.Fatalf("states differ:\n%s\n%s", sa, sb)
			}
		})
	}
}

var anyKey = regexp.MustCompile(`"idempotency_key": "[^"]*"`)

// usage is what the service reports for this profile.
func (p *Profile) usage() []cssmapi.Usage {
	return (&Service{profile: p}).usageReport()
}
