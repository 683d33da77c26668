package commands

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/ucmsh/ucmsh/publisher"
)

// Handlers of the connected mode: registration, renewals, transport and
// export keys. Each calls one publisher.Service method and prints its
// sentence; failures come back as errors the runner prints.

func (r *Runner) register(c *Call) error {
	res, err := r.Service.Register(c.Ctx, c.Args["token"], c.Args["force"] != "")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.T, msgRegistered+"\n", res.SmartAccount, res.VirtualAccount)
	if res.AuthErr != nil {
		fmt.Fprintf(c.T, msgFirstAuthFailed+"\n", res.AuthErr)
	}
	return nil
}

func (r *Runner) deregister(c *Call) error {
	if err := r.Service.Deregister(c.Ctx); err != nil {
		return err
	}
	fmt.Fprintln(c.T, msgDeregistered)
	return nil
}

func (r *Runner) renewAuth(c *Call) error {
	if err := r.Service.RenewAuth(c.Ctx); err != nil {
		return err
	}
	fmt.Fprintln(c.T, msgAuthRenewed)
	return nil
}

func (r *Runner) renewID(c *Call) error {
	if err := r.Service.RenewID(c.Ctx); err != nil {
		return err
	}
	fmt.Fprintln(c.T, msgIDRenewed)
	return nil
}

func (r *Runner) setTransport(c *Call, tc publisher.TransportConfig) error {
	if err := r.Service.SetTransport(tc); err != nil {
		return err
	}
	fmt.Fprintln(c.T, msgTransportUpdated)
	return nil
}

func (r *Runner) transportDirect(c *Call) error {
	return r.setTransport(c, publisher.TransportConfig{Mode: publisher.TransportModeDirect})
}

// transportProxy asks CUCM's proxy authentication questions.
func (r *Runner) transportProxy(c *Call) error {
	host := c.Args["proxy-server"]
	if strings.ContainsAny(host, "/:@ ") {
		return userErrorf("%s is not a proxy host name or IPv4 address; give the host alone, then its port.", quoteWord(host))
	}
	port, err := strconv.Atoi(c.Args["proxy-port"])
	if err != nil || port < 1 || port > 65535 {
		return userErrorf("%s is not a TCP port; give a number from 1 to 65535.", quoteWord(c.Args["proxy-port"]))
	}
	tc := publisher.TransportConfig{Mode: publisher.TransportModeProxy, ProxyHost: host, ProxyPort: port}
	auth, err := c.T.Confirm(c.Ctx, "Do you want to enable Authentication based proxy ? y/n")
	if err != nil {
		return err
	}
	if auth {
		if tc.ProxyUser, err = c.T.Prompt(c.Ctx, "User Name :"); err != nil {
			return err
		}
		if tc.ProxyUser = strings.TrimSpace(tc.ProxyUser); tc.ProxyUser == "" {
			return UserError(msgNoProxyUser)
		}
		if tc.ProxyPassword, err = c.T.ReadSecret(c.Ctx, "Password:"); err != nil {
			return err
		}
	}
	return r.setTransport(c, tc)
}

func (r *Runner) transportSatellite(c *Call) error {
	raw := c.Args["URL"]
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return userErrorf("%s is not a satellite URL; give an http:// or https:// URL with a host, such as https://satellite.example.com:8443/Transportgateway/services/DeviceRequestHandler", quoteWord(raw))
	}
	return r.setTransport(c, publisher.TransportConfig{Mode: publisher.TransportModeSatellite, URL: strings.TrimSuffix(raw, "/")})
}

func (r *Runner) factoryReset(c *Call) error {
	if err := r.Service.FactoryReset(); err != nil {
		return err
	}
	fmt.Fprintln(c.T, msgFactoryReset)
	return nil
}

func (r *Runner) exportRequest(c *Call) error {
	f := c.Args["exportfeaturename"]
	if err := r.Service.ExportRequest(c.Ctx, f); err != nil {
		return err
	}
	fmt.Fprintf(c.T, msgExportRequested+"\n", f)
	return nil
}

func (r *Runner) exportReturn(c *Call) error {
	f := c.Args["exportfeaturename"]
	if err := r.Service.ExportReturn(c.Ctx, f); err != nil {
		return err
	}
	fmt.Fprintf(c.T, msgExportReturned+"\n", f)
	return nil
}

func (r *Runner) exportCancel(c *Call) error {
	p, err := r.Service.ExportCancel()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.T, msgExportCancelled+"\n", p.Op, p.Feature)
	return nil
}
