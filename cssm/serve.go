package cssm

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
	"github.com/ucmsh/ucmsh/internal/cli"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// DefaultListen is where `cssm serve` listens without --listen.
const DefaultListen = "127.0.0.1:8443"

// ServeConfig is `cssm serve`'s flags.
type ServeConfig struct {
	Listen      string
	AllowRemote bool // bind addresses other than loopback
	TLS         bool
	Limits      Limits    // connection caps; zero fields take the defaults
	Out         io.Writer // start-up lines: URL, fingerprint, trust file
	Log         *log.Logger

	// SatelliteOf is the parent's URL when this cssm is a connected satellite
	// (set up with Portal.SetupSatellite): it syncs at start and every SyncEvery.
	SatelliteOf string
	SyncEvery   time.Duration // default DefaultSyncEvery

	// Portal serves the web portal under PortalPrefix, if set (cssm/web;
	// cssm cannot import it).
	Portal http.Handler

	// ReadyFile, if set, is written ({"url":"http://127.0.0.1:PORT"}) once
	// the server accepts requests, and removed when it has stopped: a test
	// listens on port 0 and reads it, instead of picking a free port that
	// another process may take first.
	ReadyFile string
}

// Ready is what the ready file holds.
type Ready struct {
	URL string `json:"url"`
}

// DefaultSyncEvery is a connected satellite's schedule. [ucmsh] SSM On-Prem
// syncs at least every 30 days; daily keeps the parent's view fresh.
const DefaultSyncEvery = 24 * time.Hour

// PortalPrefix is where the web portal lives: no product or REST path is under it.
const PortalPrefix = "/portal/"

// Serve runs the product API until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, store *Store, clock Clock, cfg ServeConfig) error {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if !cfg.AllowRemote {
		if err := checkLoopback(cfg.Listen); err != nil {
			return err
		}
	}
	_, wrote, err := store.PublishKey()
	if err != nil {
		return err
	}
	if wrote != "" {
		fmt.Fprintf(cfg.Out, msgTrustWritten, wrote)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.Listen, err)
	}
	// "localhost" could resolve elsewhere: check what was actually bound.
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !cfg.AllowRemote && !tcp.IP.IsLoopback() {
		ln.Close()
		return errNotLoopback(cfg.Listen)
	}
	lim := newLimitListener(ln, cfg.Limits, cfg.Log)
	ln = lim
	scheme := "http"
	if cfg.TLS {
		cert, _, err := store.TLSCertificate()
		if err != nil {
			ln.Close()
			return err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
		fmt.Fprintf(cfg.Out, msgFingerprint, cssmapi.Fingerprint(cert.Certificate[0]))
	}
	fmt.Fprintf(cfg.Out, msgServing, scheme, ln.Addr(), store.Dir(), store.Database())

	portal := &Portal{Store: store, Clock: clock}
	if cfg.SatelliteOf != "" {
		if err := portal.SetParentURL(cfg.SatelliteOf); err != nil {
			ln.Close()
			return err
		}
	}
	api := NewServer(store, clock, cfg.Log)
	var h http.Handler = syncHandler(portal, api)
	if cfg.Portal != nil {
		fmt.Fprintf(cfg.Out, msgPortal, scheme, ln.Addr(), PortalPrefix)
		h = WithPortal(h, cfg.Portal)
	}
	srv := NewHTTPServer(h, cfg.Log)
	srv.ConnState = lim.ConnState
	if cfg.ReadyFile != "" {
		// The listener is bound: connections wait in its queue until
		// Serve accepts them.
		data, _ := json.Marshal(Ready{URL: scheme + "://" + ln.Addr().String()})
		if err := atomicfile.Write(cfg.ReadyFile, append(data, '\n'), 0o600); err != nil {
			ln.Close()
			api.Close()
			return fmt.Errorf("cannot write the ready file: %w", err)
		}
		defer os.Remove(cfg.ReadyFile) // once stopped, as ucmsh serve's
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if cfg.SatelliteOf != "" {
		go syncLoop(ctx, portal, cfg)
	}
	select {
	case err = <-served:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	api.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func checkLoopback(addr string) error {
	local, err := cli.LoopbackListen(addr)
	if err != nil {
		return fmt.Errorf("--listen %q is not HOST:PORT (for example %s): %v", addr, DefaultListen, err)
	}
	if !local {
		return errNotLoopback(addr)
	}
	return nil
}

// WithPortal sends /portal/... to the portal (and a browser's GET / or
// /portal there), the rest to the API.
func WithPortal(api, portal http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == strings.TrimSuffix(PortalPrefix, "/") || r.URL.Path == "/":
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, PortalPrefix, http.StatusFound)
				return
			}
			api.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, PortalPrefix):
			portal.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})
}

// syncLoop is a connected satellite's schedule: a sync at start, then every
// cfg.SyncEvery; a failed sync is logged and the satellite keeps serving.
func syncLoop(ctx context.Context, p *Portal, cfg ServeConfig) {
	every := cfg.SyncEvery
	if every <= 0 {
		every = DefaultSyncEvery
	}
	client := &http.Client{Timeout: time.Minute}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		msg, err := syncOnce(ctx, p, client)
		switch {
		case err != nil && cfg.Log != nil:
			cfg.Log.Print(err)
		case err == nil:
			fmt.Fprint(cfg.Out, msg)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// syncOnce is one scheduled sync. A panic (a bug, perhaps on a parent's odd
// reply) is its error, logged, and the schedule goes on: in the serving
// process it would stop the whole server.
func syncOnce(ctx context.Context, p *Portal, client *http.Client) (msg string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("satellite sync: panic: %v\n%s", r, debug.Stack())
		}
	}()
	return p.SyncNow(ctx, client)
}
