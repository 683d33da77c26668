package commands

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/ucmsh/ucmsh/publisher"
)

// Handlers of the connected mode: registration, renewals, transport and
// export keys. Each calls one publisher.Service method and prints its
// sentence; failures come back as errors the runner prints.

func (r *Runner) register(ctx context.Context, c *Call) error {
	res, err := r.Service.Register(ctx, c.Value(argToken), c.Given(argForce))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Term, msgRegistered+"\n", res.SmartAccount, res.VirtualAccount)
	if res.AuthErr != nil {
		fmt.Fprintf(c.Term, msgFirstAuthFailed+"\n", res.AuthErr)
	}
	return nil
}

func (r *Runner) deregister(ctx context.Context, c *Call) error {
	if err := r.Service.Deregister(ctx); err != nil {
		return err
	}
	fmt.Fprintln(c.Term, msgDeregistered)
	return nil
}

func (r *Runner) renewAuth(ctx context.Context, c *Call) error {
	if err := r.Service.RenewAuth(ctx); err != nil {
		return err
	}
	fmt.Fprintln(c.Term, msgAuthRenewed)
	return nil
}

func (r *Runner) renewID(ctx context.Context, c *Call) error {
	if err := r.Service.RenewID(ctx); err != nil {
		return err
	}
	fmt.Fprintln(c.Term, msgIDRenewed)
	return nil
}

func (r *Runner) setTransport(ctx context.Context, c *Call, tc publisher.TransportConfig) error {
	if err := r.Service.SetTransport(tc); err != nil {
		return err
	}
	fmt.Fprintln(c.Term, msgTransportUpdated)
	return nil
}

func (r *Runner) transportDirect(ctx context.Context, c *Call) error {
	return r.setTransport(ctx, c, publisher.TransportConfig{Mode: publisher.TransportModeDirect})
}

// transportProxy asks CUCM's proxy authentication questions.
func (r *Runner) transportProxy(ctx context.Context, c *Call) error {
	host := c.Value(argProxyServer)
	if strings.ContainsAny(host, "/:@ ") {
		return userErrorf("%s is not a proxy host name or IPv4 address; give the host alone, then its port.", quoteWord(host))
	}
	port, err := strconv.Atoi(c.Value(argProxyPort))
	if err != nil || port < 1 || port > 65535 {
		return userErrorf("%s is not a TCP port; give a number from 1 to 65535.", quoteWord(c.Value(argProxyPort)))
	}
	tc := publisher.TransportConfig{Mode: publisher.TransportModeProxy, ProxyHost: host, ProxyPort: port}
	// The CLI guide's dialogue: a blank line after the command, each
	// answer a space after its question (REFERENCE §2).
	fmt.Fprintln(c.Term)
	auth, err := c.Term.Confirm(ctx, "Do you want to enable Authentication based proxy ? y/n ")
	if err != nil {
		return err
	}
	if auth {
		if tc.ProxyUser, err = c.Term.Prompt(ctx, "User Name : "); err != nil {
			return err
		}
		if tc.ProxyUser = strings.TrimSpace(tc.ProxyUser); tc.ProxyUser == "" {
			return UserError(msgNoProxyUser)
		}
		if tc.ProxyPassword, err = c.Term.ReadSecret(ctx, "Password: "); err != nil {
			return err
		}
	}
	return r.setTransport(ctx, c, tc)
}

func (r *Runner) transportSatellite(ctx context.Context, c *Call) error {
	u, err := serverURL(c.Value(argSatelliteURL), "%s is not a satellite URL; give an http:// or https:// URL with a host, such as https://satellite.example.com:8443/Transportgateway/services/DeviceRequestHandler")
	if err != nil {
		return err
	}
	return r.setTransport(ctx, c, publisher.TransportConfig{Mode: publisher.TransportModeSatellite, URL: u})
}

// serverURL checks the URL of an on-premises server (a satellite or a
// Transport Gateway) and drops a trailing slash; refusal is the sentence
// that says what a valid one looks like.
func serverURL(raw, refusal string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", userErrorf(refusal, quoteWord(raw))
	}
	return strings.TrimSuffix(raw, "/"), nil
}

func (r *Runner) factoryReset(ctx context.Context, c *Call) error {
	if err := r.Service.FactoryReset(); err != nil {
		return err
	}
	fmt.Fprintln(c.Term, msgFactoryReset)
	return nil
}

func (r *Runner) exportRequest(ctx context.Context, c *Call) error {
	f := c.Value(argExportFeature)
	if err := r.Service.ExportRequest(ctx, f); err != nil {
		return err
	}
	fmt.Fprintf(c.Term, msgExportRequested+"\n", f)
	return nil
}

func (r *Runner) exportReturn(ctx context.Context, c *Call) error {
	f := c.Value(argExportFeature)
	if err := r.Service.ExportReturn(ctx, f); err != nil {
		return err
	}
	fmt.Fprintf(c.Term, msgExportReturned+"\n", f)
	return nil
}

func (r *Runner) exportCancel(ctx context.Context, c *Call) error {
	p, err := r.Service.ExportCancel()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Term, msgExportCancelled+"\n", p.Op, p.Feature)
	return nil
}
