package publisher

import "time"

// The Transport Gateway transport (license smart transport gateway <URL>,
// REFERENCE §2): usage goes to an on-premises Transport Gateway, which
// ucmsh's licensing server answers like a satellite.
const (
	TransportModeGateway = "gateway"
	TransportGateway     = "Transport Gateway"
)

// SetGateway sends usage through the Transport Gateway (or, before
// 14SU4/15SU2, the satellite) at url. The version's rule is checked in
// the transaction that records the change.
func (s *Service) SetGateway(url string) error {
	return s.update(func(st *State, now time.Time) error {
		if s.profile.Release().GatewayOnly() {
			switch st.Transport.Mode {
			case TransportModeDirect, TransportModeProxy:
				return errorf("%s", msgGatewaySmartTransport)
			}
		}
		st.Transport = TransportConfig{Mode: TransportModeGateway, URL: url}
		st.logEvent(now, "Transport set to %s", transportLabel(st.Transport))
		return nil
	})
}
