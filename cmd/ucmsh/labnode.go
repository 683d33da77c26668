package main

// How `ucmsh lab` serves one node: as `ucmsh serve` does (the same node,
// handler and SSH server), on a listener the lab bound, with the lab's
// clock. The lab's coupling to the node and sshd is this file.

import (
	"context"
	"log/slog"
	"net"

	"golang.org/x/crypto/ssh"

	"github.com/ucmsh/ucmsh/commands"
	"github.com/ucmsh/ucmsh/internal/statedir"
	ulab "github.com/ucmsh/ucmsh/lab"
	"github.com/ucmsh/ucmsh/publisher"
	"github.com/ucmsh/ucmsh/sshd"
)

func labNodeStarter(log *slog.Logger) func(ctx context.Context, spec ulab.NodeSpec, ln net.Listener) (*ulab.StartedNode, error) {
	return func(ctx context.Context, spec ulab.NodeSpec, ln net.Listener) (*ulab.StartedNode, error) {
		n := &node{role: commands.Role(spec.Place.Role), profile: spec.Profile}
		if n.role == commands.Publisher {
			store, err := publisher.OpenStore(spec.State)
			if err != nil {
				return nil, err
			}
			n.svc = publisher.NewService(store, spec.Clock, spec.Profile)
		}
		sshDir := statedir.Node(spec.State).SSH()
		key, _, err := sshd.LoadHostKey(sshDir)
		if err != nil {
			return nil, err
		}
		nlog := log.With("node", spec.Place.Hostname)
		if n.svc != nil {
			n.svc.InstallFile.Log = nlog
		}
		// The Ed25519 host key only: an RSA key per node (3072 bits) would
		// take minutes for a large lab.
		srv, err := sshd.New(sshd.Config{
			Dir:      sshDir,
			HostKeys: []ssh.Signer{key},
			Handler:  (&serveNode{n}).handler(nlog, false),
			Log:      nlog,
		})
		if err != nil {
			return nil, err
		}
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := srv.Serve(sctx, ln); err != nil {
				nlog.Error("ssh server", "err", err)
			}
		}()
		return &ulab.StartedNode{Service: n.svc, Stop: func() { cancel(); <-done }}, nil
	}
}
