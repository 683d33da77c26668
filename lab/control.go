package lab

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/atomicfile"
)

// The control plane: HTTP on a loopback port, every request carrying
// "Authorization: Bearer <secret>"; the URL and the secret are in the lab
// folder's control.json (0600), so only the lab's owner can read them.
//
//	GET  /v1/status                          Status
//	GET  /v1/clock                           ClockState
//	POST /v1/clock/advance  {"by": "30d"}    ClockState
//	POST /v1/clock/speed    {"speed": 1440}  ClockState
//	GET  /v1/faults                          [Fault]
//	POST /v1/faults/set     Fault            [Fault]
//	POST /v1/faults/clear   {"target","kind"} [Fault]   (empty: all)
//	POST /v1/snapshots/save {"name"}         Snapshot
//	POST /v1/snapshots/load {"name"}         Snapshot
//	GET  /v1/snapshots                       [Snapshot]
//	POST /v1/reset                           {}
//	POST /v1/down                            {}
//
// Errors are {"error": "<sentence>"} with a 4xx or 5xx status.

// ControlInfo is control.json.
type ControlInfo struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
	PID    int    `json:"pid"`
}

type controlServer struct {
	srv    *http.Server
	secret string
}

func (c *controlServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c.srv.Shutdown(ctx)
}

func (l *Lab) startControl(ln net.Listener) error {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	cs := &controlServer{secret: hex.EncodeToString(b[:])}
	info := ControlInfo{URL: "http://" + ln.Addr().String(), Secret: cs.secret, PID: os.Getpid()}
	data, _ := json.MarshalIndent(info, "", "  ")
	if err := atomicfile.Write(l.dir.control(), append(data, '\n'), 0o600); err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	handle := func(pattern string, fn func(r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			v, err := fn(r)
			w.Header().Set("Content-Type", "application/json")
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
				return
			}
			json.NewEncoder(w).Encode(v)
		})
	}
	handle("GET /v1/status", func(r *http.Request) (any, error) { return l.Status(), nil })
	handle("GET /v1/clock", func(r *http.Request) (any, error) { return l.clockState(), nil })
	handle("POST /v1/clock/advance", func(r *http.Request) (any, error) {
		var in struct {
			By string `json:"by"`
		}
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		d, err := ParseAdvance(in.By, l.clock.Now())
		if err != nil {
			return nil, err
		}
		if _, err := l.Advance(r.Context(), d); err != nil {
			return nil, err
		}
		return l.clockState(), nil
	})
	handle("POST /v1/clock/speed", func(r *http.Request) (any, error) {
		var in struct {
			Speed *float64 `json:"speed"`
		}
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		if in.Speed == nil {
			return nil, errors.New(`give "speed"`)
		}
		if err := l.SetSpeed(*in.Speed); err != nil {
			return nil, err
		}
		return l.clockState(), nil
	})
	handle("GET /v1/faults", func(r *http.Request) (any, error) { return l.faults.snapshot(), nil })
	handle("POST /v1/faults/set", func(r *http.Request) (any, error) {
		var f Fault
		if err := decode(r, &f); err != nil {
			return nil, err
		}
		if err := l.SetFault(r.Context(), f); err != nil {
			return nil, err
		}
		return l.faults.snapshot(), nil
	})
	handle("POST /v1/faults/clear", func(r *http.Request) (any, error) {
		var f Fault
		if err := decode(r, &f); err != nil {
			return nil, err
		}
		if err := l.ClearFault(r.Context(), f.Target, f.Kind); err != nil {
			return nil, err
		}
		return l.faults.snapshot(), nil
	})
	handle("GET /v1/snapshots", func(r *http.Request) (any, error) { return l.Snapshots() })
	handle("POST /v1/snapshots/save", func(r *http.Request) (any, error) {
		var in struct{ Name string }
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		return l.SaveSnapshot(in.Name)
	})
	handle("POST /v1/snapshots/load", func(r *http.Request) (any, error) {
		var in struct{ Name string }
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		return l.LoadSnapshot(in.Name)
	})
	handle("POST /v1/reset", func(r *http.Request) (any, error) { return struct{}{}, l.Reset() })
	handle("POST /v1/down", func(r *http.Request) (any, error) {
		go l.Stop() // after this answer
		return struct{}{}, nil
	})
	cs.srv = &http.Server{
		Handler:           cs.auth(mux),
		ReadHeaderTimeout: 5 * time.Second,
	}
	l.control = cs
	go cs.srv.Serve(ln)
	return nil
}

// auth refuses a request without the secret.
func (c *controlServer) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(c.secret)) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"the lab's secret is missing or wrong; it is in control.json in the lab folder"}`+"\n")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf(msgBadRequest, r.URL.Path, err)
	}
	return nil
}

// ClockState is the lab clock as the control plane shows it.
type ClockState struct {
	Now   time.Time `json:"now"`
	Speed float64   `json:"speed"`
}

func (l *Lab) clockState() ClockState { return ClockState{Now: l.clock.Now(), Speed: l.clock.Speed()} }

// Status is the health of the lab.
type Status struct {
	Clock  ClockState    `json:"clock"`
	CSSM   CSSMStatus    `json:"cssm"`
	Nodes  []NodeStatus  `json:"nodes"`
	Tokens []SeededToken `json:"tokens"`
	Faults []Fault       `json:"faults"`
}

// CSSMStatus is cssm's health.
type CSSMStatus struct {
	URL string `json:"url"`
	OK  bool   `json:"ok"`
}

// NodeStatus is one node's health.
type NodeStatus struct {
	Place
	Accepting     bool   `json:"accepting"`
	Registration  string `json:"registration,omitempty"`
	Authorization string `json:"authorization,omitempty"`
	Error         string `json:"error,omitempty"`
}

// Status looks at every node and cssm.
func (l *Lab) Status() Status {
	l.world.Lock()
	defer l.world.Unlock()
	st := Status{Clock: l.clockState(), CSSM: CSSMStatus{URL: l.CSSMURL()}, Tokens: l.Inventory().Tokens, Faults: l.faults.snapshot()}
	hc := &http.Client{Timeout: 2 * time.Second}
	if resp, err := hc.Get(l.CSSMURL() + cssmapi.PathHealth); err == nil {
		st.CSSM.OK = resp.StatusCode == http.StatusOK
		resp.Body.Close()
	}
	for _, n := range l.nodes {
		ns := NodeStatus{Place: n.place}
		if c, err := net.DialTimeout("tcp", n.place.Addr(), 2*time.Second); err == nil {
			ns.Accepting = true
			c.Close()
		}
		if svc := n.svc(); svc != nil {
			reg, auth, err := nodeHealth(svc)
			ns.Registration, ns.Authorization = reg, auth
			if err != nil {
				ns.Error = err.Error()
			}
		}
		st.Nodes = append(st.Nodes, ns)
	}
	return st
}
