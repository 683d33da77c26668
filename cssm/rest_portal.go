package cssm

import (
	"net/http"
	"strconv"
	"time"
)

// REST calls of the portal's actions that CSSM's API lacks (cssm's own, under
// the same prefixes): the event log, the alerts, and moving a product
// instance. Each calls the Portal operation the web portal and the cssm
// subcommands call.

func routePortal(method string, isVA bool, vaTail string) (restHandler, bool, bool) {
	switch {
	case isVA && vaTail == "events" && method == http.MethodGet:
		return listEvents, true, true
	case isVA && vaTail == "alerts" && method == http.MethodGet:
		return listAlerts, true, true
	case isVA && vaTail == "devices/transfer" && method == http.MethodPost:
		return transferDevice, false, true
	}
	return nil, false, false
}

type eventInfo struct {
	Time   string `json:"time"`
	Actor  string `json:"actor"`
	Event  string `json:"event"`
	Detail string `json:"detail"`
}

// listEvents: GET .../virtual-accounts/{va}/events[?filter=TEXT&limit=N]
func listEvents(s *Server, c *restCall) (int, any, error) {
	if _, _, err := s.restVA(c); err != nil {
		return 0, nil, err
	}
	limit := 1000
	if l := c.query.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxEvents {
			return 0, nil, restFail(http.StatusBadRequest, msgRESTEventLimit, l, MaxEvents)
		}
		limit = n
	}
	evs, err := s.restPortal(c).Events(c.segs[3], c.query.Get("filter"), limit)
	if err != nil {
		return 0, nil, err
	}
	out := []eventInfo{}
	for _, e := range evs {
		out = append(out, eventInfo{e.Time.UTC().Format(time.RFC3339), e.Actor, e.Kind, e.Detail})
	}
	return http.StatusOK, map[string]any{"events": out, "status": "SUCCESS", "statusMessage": ""}, nil
}

type alertInfo struct {
	Severity string `json:"severity"`
	Type     string `json:"type"`
	Message  string `json:"message"`
}

// listAlerts: GET .../virtual-accounts/{va}/alerts
func listAlerts(s *Server, c *restCall) (int, any, error) {
	if _, _, err := s.restVA(c); err != nil {
		return 0, nil, err
	}
	as, err := s.restPortal(c).Alerts(c.segs[3])
	if err != nil {
		return 0, nil, err
	}
	out := []alertInfo{}
	for _, a := range as {
		out = append(out, alertInfo{a.Severity, a.Kind, a.Message})
	}
	return http.StatusOK, map[string]any{"alerts": out, "status": "SUCCESS", "statusMessage": ""}, nil
}

// transferDevice: POST .../virtual-accounts/{va}/devices/transfer
// {"instanceId": ID, "targetVirtualAccount": NAME}
func transferDevice(s *Server, c *restCall) (int, any, error) {
	var req struct {
		InstanceID string `json:"instanceId"`
		Target     string `json:"targetVirtualAccount"`
	}
	if err := decodeStrict(c.body, &req); err != nil {
		return 0, nil, err
	}
	if _, _, err := s.restVA(c); err != nil {
		return 0, nil, err
	}
	p := s.restPortal(c)
	var inVA string
	if err := s.store.View(func(st *State) error {
		if in := st.instance(req.InstanceID); in != nil {
			inVA = in.VirtualAccount
		}
		return nil
	}); err != nil {
		return 0, nil, err
	}
	if inVA != c.segs[3] {
		return 0, nil, restFail(http.StatusNotFound, msgRESTNoInstance, c.segs[3], req.InstanceID)
	}
	msg, err := p.TransferInstance(req.InstanceID, req.Target)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"status": "SUCCESS", "statusMessage": trimNL(msg)}, nil
}

// restVA checks that the path's smart account holds its virtual account.
func (s *Server) restVA(c *restCall) (*SmartAccount, *VirtualAccount, error) {
	var sa *SmartAccount
	var va *VirtualAccount
	err := s.store.View(func(st *State) error {
		var err error
		sa, va, err = st.restAccount(c.segs[1], c.segs[3])
		return err
	})
	return sa, va, err
}

func trimNL(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}
