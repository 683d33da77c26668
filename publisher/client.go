package publisher

import (
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/statedir"
	"github.com/ucmsh/ucmsh/reservation"
)

// CallTimeout bounds one exchange with the licensing server.
const CallTimeout = 20 * time.Second

// serverURL is where the transport sends the node's requests.
func (s *Service) serverURL(tc TransportConfig) string {
	if tc.Mode == TransportModeSatellite || tc.Mode == TransportModeGateway {
		return tc.URL
	}
	return s.DirectURL
}

// client builds the licensing server client for a transport. The
// environment's proxy settings are never used: the transport decides.
// It accepts only answers signed by a key in the trust folder.
func (s *Service) client(tc TransportConfig) (*cssmapi.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if tc.Mode == TransportModeProxy {
		u := &url.URL{Scheme: "http", Host: net.JoinHostPort(tc.ProxyHost, strconv.Itoa(tc.ProxyPort))}
		if tc.ProxyUser != "" {
			u.User = url.UserPassword(tc.ProxyUser, tc.ProxyPassword)
		}
		tr.Proxy = http.ProxyURL(u)
	}
	base := s.serverURL(tc)
	pin := s.PinnedCertSHA256
	if pin == "" && strings.HasPrefix(strings.ToLower(base), "https://") {
		pin = s.trustedCertPin()
	}
	c := &cssmapi.Client{
		BaseURL:          base,
		HTTP:             &http.Client{Timeout: CallTimeout, Transport: tr},
		PinnedCertSHA256: pin,
	}
	keys, err := reservation.LoadTrustDir(s.trustDir())
	if err != nil {
		return c, &TrustRefusal{Server: base, Dir: s.trustDir(), Err: err}
	}
	c.Trusted = keys
	return c, nil
}

func (s *Service) trustDir() string { return statedir.Node(s.store.Dir()).Trust() }

// trustRefusal says which folder failed to verify an answer.
func (s *Service) trustRefusal(e *cssmapi.UntrustedAnswerError) error {
	err := e.Err
	if errors.Is(err, cssmapi.ErrAnswerSignature) {
		if keys, _ := reservation.LoadTrustDir(s.trustDir()); len(keys) == 0 {
			err = errNoTrustedKeys
		}
	}
	return &TrustRefusal{Server: e.URL, Dir: s.trustDir(), Err: err, Answered: true}
}

// trustedCertPin is the fingerprint of the first certificate in the
// state folder's trust/*.crt (e.g. `cssm cert > trust/cssm.crt`): a
// self-signed licensing server the admin chose to trust. With none, the
// server's certificate is checked against the system's CAs.
func (s *Service) trustedCertPin() string {
	files, _ := filepath.Glob(filepath.Join(statedir.Node(s.store.Dir()).Trust(), "*.crt"))
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if block, _ := pem.Decode(data); block != nil && block.Type == "CERTIFICATE" {
			return cssmapi.Fingerprint(block.Bytes)
		}
	}
	return ""
}

// usageReport is what the node reports: the license types in use.
func (s *Service) usageReport() []cssmapi.Usage {
	var out []cssmapi.Usage
	for _, e := range s.profile.Catalog() {
		if n := s.profile.UsageOf(e.Tier); n > 0 {
			out = append(out, cssmapi.Usage{Tag: e.Tag, Count: n})
		}
	}
	return out
}
