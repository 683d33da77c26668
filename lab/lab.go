package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucmsh/ucmsh/internal/atomicfile"

	"github.com/ucmsh/ucmsh/internal/clock"
	"github.com/ucmsh/ucmsh/publisher"
)

// Config is what Up needs.
type Config struct {
	Dir         string
	File        *File // nil: resume the lab in Dir
	AllowRemote bool
	// Speed is the clock's speed for a new lab (0 is taken as 1); a
	// resumed lab keeps its own unless SetSpeed.
	Speed    float64
	SetSpeed bool
	// Accounts from the command line (admin's --password-file,
	// --authorized-keys), used instead of the file's.
	Accounts []Account
	// Shard, when N > 0, serves only the clusters of this shard: cluster c
	// (from 0) when c % N == I-1.
	Shard Shard
	// CSSM, when URL is set, is a licensing server run elsewhere (by the
	// lab of another shard): no cssm is started here, and the nodes trust
	// KeyPEM, its signing key.
	CSSM ExternalCSSM
	// StartNode serves one node on ln (the shell over SSH).
	StartNode func(ctx context.Context, spec NodeSpec, ln net.Listener) (*StartedNode, error)
	Log       *slog.Logger
	// Wall is the machine's clock (tests); nil: time.Now.
	Wall func() time.Time
}

// Lab is a running lab.
type Lab struct {
	cfg    Config
	dir    layout
	saved  *saved
	clock  *clock.Running
	log    *slog.Logger
	faults *faultSet

	// gate: requests to cssm hold it shared; a snapshot holds it alone.
	gate sync.RWMutex
	// world guards the running servers against a reset or load.
	world  sync.Mutex
	cssm   *labCSSM
	fronts map[string]*front // by cluster; "" is the lab's own
	nodes  []*labNode
	cancel context.CancelFunc
	agents sync.WaitGroup

	users, keys []byte // the accounts' ssh/users and ssh/authorized_keys
	saveMu      sync.Mutex

	// holders are the publishers whose timers hold the clock (see rehold);
	// nil while the world is down.
	holders atomic.Pointer[holders]
	holdMu  sync.Mutex

	control  *controlServer
	stopping chan struct{} // Stop has begun
	kept     chan struct{} // keepClock has saved the clock and unlocked the folder
	done     chan struct{}
	stopped  atomic.Bool
}

type labNode struct {
	place   Place
	started *StartedNode
	mu      sync.Mutex   // one RunDue at a time
	next    atomic.Value // time.Time: when its timers next fall due
	// sent: the call of the timer due at next has reached the cluster's
	// cssm front, so the clock need not be held for it any more.
	sent atomic.Bool
}

func (n *labNode) svc() *publisher.Service {
	if n.started == nil {
		return nil
	}
	return n.started.Service
}

// Up starts (or resumes) the lab in cfg.Dir: every listener is bound
// first, so an address in use stops it before anything runs.
func Up(ctx context.Context, cfg Config) (l *Lab, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir := layout(cfg.Dir)
	if err := os.MkdirAll(dir.root(), 0o700); err != nil {
		return nil, fmt.Errorf(msgCreateFolder, err)
	}
	unlock, err := lockDir(dir.lock())
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	// A lab killed while loading a snapshot left the old folders aside.
	recoverTree(dir.nodes())
	recoverTree(dir.cssm())
	sv, err := loadSaved(dir)
	if err != nil {
		return nil, err
	}
	switch {
	case sv == nil && cfg.File == nil:
		return nil, fmt.Errorf(msgNoLabYet, dir.root())
	case sv == nil:
		places, err := Resolve(cfg.File, cfg.AllowRemote)
		if err != nil {
			return nil, err
		}
		if err := cfg.Shard.check(len(cfg.File.Clusters)); err != nil {
			return nil, err
		}
		speed := cfg.Speed
		if speed == 0 {
			speed = 1
		}
		wall := cfg.Wall
		if wall == nil {
			wall = time.Now
		}
		sv = &saved{Version: 1, File: *cfg.File, Places: places, AllowRemote: cfg.AllowRemote, Shard: cfg.Shard, External: cfg.CSSM,
			Clock: savedClock{Sim: wall().UTC(), Wall: wall().UTC(), Speed: speed}}
	case cfg.File != nil && !sameFile(&sv.File, cfg.File):
		return nil, fmt.Errorf(msgAnotherLab, dir.root(), dir.root())
	}
	if len(cfg.Accounts) > 0 {
		sv.File.Accounts = cfg.Accounts
	}
	if len(sv.File.Accounts) == 0 {
		return nil, errors.New("nobody could log in to the nodes: give accounts in the lab file, or --password-file FILE / --authorized-keys FILE for admin (there is no default password)")
	}
	users, keys, err := prepareAccounts(dir, sv.File.Accounts)
	if err != nil {
		return nil, err
	}
	if cfg.SetSpeed {
		sv.Clock.Speed = cfg.Speed
	}
	clk, err := sv.Clock.resume(cfg.Wall)
	if err != nil {
		return nil, err
	}
	l = &Lab{cfg: cfg, dir: dir, saved: sv, clock: clk, log: cfg.Log, faults: newFaultSet(),
		done: make(chan struct{}), stopping: make(chan struct{}), kept: make(chan struct{})}
	l.faults.list = sv.faultPointers()
	l.users, l.keys = users, keys

	// Bind everything, or nothing.
	lns, err := l.bindAll()
	if err != nil {
		return nil, err
	}
	if err := l.startWorld(lns); err != nil {
		return nil, err
	}
	if err := l.startControl(lns.control); err != nil {
		l.stopWorld()
		return nil, err
	}
	if err = l.save(); err == nil {
		err = l.writeInventory()
	}
	if err != nil {
		l.control.close()
		l.stopWorld()
		return nil, err
	}
	go l.keepClock(unlock)
	return l, nil
}

// listeners are the lab's bound sockets, before anything serves on them.
type listeners struct {
	nodes   []net.Listener
	cssm    net.Listener
	fronts  map[string]net.Listener
	control net.Listener
}

func (ls *listeners) closeAll() {
	for _, ln := range ls.nodes {
		if ln != nil {
			ln.Close()
		}
	}
	for _, ln := range ls.fronts {
		ln.Close()
	}
	for _, ln := range []net.Listener{ls.cssm, ls.control} {
		if ln != nil {
			ln.Close()
		}
	}
}

// bindAll binds every node, cssm, every cluster's front and the control
// plane, on the addresses of the first start; an address in use closes
// what was bound and names it.
func (l *Lab) bindAll() (*listeners, error) {
	ls := &listeners{fronts: map[string]net.Listener{}}
	sv := l.saved
	listen := func(addr, what string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			ls.closeAll()
			return nil, fmt.Errorf(msgAddressInUse, addr, what, errText(err))
		}
		return ln, nil
	}
	var err error
	for i := range sv.Places {
		p := &sv.Places[i]
		if !sv.mine(*p) {
			ls.nodes = append(ls.nodes, nil)
			continue
		}
		ln, err := listen(p.Addr(), p.Hostname+" ("+p.path+")")
		if err != nil {
			return nil, err
		}
		p.Port = ln.Addr().(*net.TCPAddr).Port
		ls.nodes = append(ls.nodes, ln)
	}
	if sv.External.URL != "" {
		return ls, l.bindControl(ls, listen)
	}
	cssmAddr := sv.CSSMAddr
	if cssmAddr == "" {
		cssmAddr = sv.File.CSSM.Listen
	}
	if cssmAddr == "" {
		cssmAddr = "127.0.0.1:0"
	}
	if h, _, e := net.SplitHostPort(cssmAddr); e != nil || checkHost(h, sv.AllowRemote) != nil {
		ls.closeAll()
		return nil, fieldErr("cssm.listen", "%q is not a loopback HOST:PORT", cssmAddr)
	}
	if ls.cssm, err = listen(cssmAddr, "cssm"); err != nil {
		return nil, err
	}
	sv.CSSMAddr = ls.cssm.Addr().String()
	if sv.Fronts == nil {
		sv.Fronts = map[string]string{}
	}
	// A front for every cluster, other shards' too: their nodes come
	// through it, so that a cluster's faults reach them.
	for _, c := range sv.File.Clusters {
		addr := sv.Fronts[c.Name]
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		ln, err := listen(addr, "cssm in front of cluster "+c.Name)
		if err != nil {
			return nil, err
		}
		sv.Fronts[c.Name] = ln.Addr().String()
		ls.fronts[c.Name] = ln
	}
	return ls, l.bindControl(ls, listen)
}

func (l *Lab) bindControl(ls *listeners, listen func(addr, what string) (net.Listener, error)) error {
	caddr := l.saved.ControlAddr
	if caddr == "" {
		caddr = "127.0.0.1:0"
	}
	ln, err := listen(caddr, "the control plane")
	if err != nil {
		return err
	}
	ls.control = ln
	l.saved.ControlAddr = ln.Addr().String()
	return nil
}

func errText(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// startWorld opens cssm (seeding it the first time) and serves every
// node and front on its listener.
func (l *Lab) startWorld(ls *listeners) (err error) {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	defer func() {
		if err != nil {
			ls.closeAll()
			l.stopWorld()
		}
	}()
	sv := l.saved
	l.fronts = map[string]*front{}
	if sv.External.URL == "" {
		if err := l.startCSSM(ls); err != nil {
			return err
		}
	}
	l.nodes = nil
	for i, p := range sv.Places {
		ln := ls.nodes[i]
		if ln == nil {
			continue // another shard's
		}
		ls.nodes[i] = nil // the node owns it now
		n, err := l.startNode(ctx, p, ln)
		if err != nil {
			ln.Close()
			return fmt.Errorf(msgCannotStart, p.Hostname, err)
		}
		l.nodes = append(l.nodes, n)
	}
	h := &holders{byCluster: map[string]*labNode{}}
	for _, n := range l.nodes {
		if n.svc() != nil {
			h.pubs = append(h.pubs, n)
			h.byCluster[n.place.Cluster] = n
		}
	}
	l.holders.Store(h)
	for _, n := range h.pubs {
		l.agents.Add(1)
		go l.agent(ctx, n)
	}
	return nil
}

// startCSSM opens cssm, seeds it the first time, publishes its key for
// other shards and serves its fronts.
func (l *Lab) startCSSM(ls *listeners) error {
	sv := l.saved
	if sv.Tokens == nil {
		// Not seeded yet, or killed before the seed was recorded: start
		// from an empty store, so that seeding never meets half a seed.
		if err := os.RemoveAll(l.dir.cssm()); err != nil {
			return err
		}
	}
	c, err := openCSSM(l.dir.cssm(), l.clock, log.New(io.Discard, "", 0))
	if err != nil {
		return err
	}
	l.cssm = c
	if sv.Tokens == nil {
		toks, err := c.seed(sv.File.CSSM.Accounts)
		if err != nil {
			return err
		}
		sv.Tokens = toks
		if err := l.save(); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(l.dir.cssmKey(), c.pubPEM, 0o644); err != nil {
		return err
	}
	own := &front{addr: sv.CSSMAddr, handler: l.faultMiddleware("", c.handler())}
	own.serve(ls.cssm)
	l.fronts[""] = own
	for name, ln := range ls.fronts {
		f := &front{cluster: name, addr: sv.Fronts[name], handler: l.faultMiddleware(name, c.handler())}
		l.fronts[name] = f
		if l.hasFault(name, FaultUnreachable) {
			ln.Close()
			f.down = true
			continue
		}
		f.serve(ln)
	}
	if l.hasFault("", FaultUnreachable) {
		own.setDown(true)
	}
	return nil
}

func (l *Lab) startNode(ctx context.Context, p Place, ln net.Listener) (*labNode, error) {
	sv := l.saved
	c := sv.File.Clusters[p.cluster]
	prof, err := profileFor(c, sv.Places, c.Nodes[p.node])
	if err != nil {
		return nil, err
	}
	state := l.dir.node(p.Hostname)
	if err := l.prepareNode(state, p.Role == Publisher); err != nil {
		return nil, err
	}
	started, err := l.cfg.StartNode(ctx, NodeSpec{Place: p, State: state, Profile: prof, Clock: l.clock}, ln)
	if err != nil {
		return nil, err
	}
	n := &labNode{place: p, started: started}
	n.next.Store(time.Time{})
	if svc := started.Service; svc != nil {
		if err := svc.Init(); err != nil {
			started.Stop()
			return nil, err
		}
		if err := pointTransport(svc, l.cssmURLFor(c.Name)); err != nil {
			started.Stop()
			return nil, err
		}
	}
	return n, nil
}

// stopWorld stops every node and front and closes cssm.
func (l *Lab) stopWorld() {
	if l.cancel != nil {
		l.cancel()
	}
	l.agents.Wait()
	l.holders.Store(nil)
	l.rehold()
	var wg sync.WaitGroup
	for _, n := range l.nodes {
		if n != nil && n.started != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.started.Stop()
			}()
		}
	}
	wg.Wait()
	l.nodes = nil
	for _, f := range l.fronts {
		f.close()
	}
	l.fronts = nil
	if l.cssm != nil {
		l.cssm.close()
		l.cssm = nil
	}
}

// restartWorld stops the servers, runs change on the stopped folders and
// starts them again on the same addresses.
func (l *Lab) restartWorld(change func() error) error {
	l.world.Lock()
	defer l.world.Unlock()
	l.stopWorld()
	cerr := change()
	ls := &listeners{fronts: map[string]net.Listener{}}
	var err error
	for _, p := range l.saved.Places {
		if !l.saved.mine(p) {
			ls.nodes = append(ls.nodes, nil)
			continue
		}
		ln, e := net.Listen("tcp", p.Addr())
		if e != nil {
			ls.closeAll()
			return fmt.Errorf(msgListenAgainNode, p.Addr(), p.Hostname, errText(e))
		}
		ls.nodes = append(ls.nodes, ln)
	}
	if l.saved.External.URL != "" {
		return l.startAgain(ls, cerr)
	}
	if ls.cssm, err = net.Listen("tcp", l.saved.CSSMAddr); err != nil {
		ls.closeAll()
		return fmt.Errorf(msgListenAgainCSSM, l.saved.CSSMAddr, errText(err))
	}
	for name, addr := range l.saved.Fronts {
		ln, e := net.Listen("tcp", addr)
		if e != nil {
			ls.closeAll()
			return fmt.Errorf(msgListenAgainCSSM, addr, errText(e))
		}
		ls.fronts[name] = ln
	}
	return l.startAgain(ls, cerr)
}

func (l *Lab) startAgain(ls *listeners, cerr error) error {
	if err := l.startWorld(ls); err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	return l.save()
}

// hasFault: a fault of the kind is set for the cluster or for all ("":
// the lab's own front, which only cssm-wide faults reach).
func (l *Lab) hasFault(cluster, kind string) bool {
	f, _ := l.faults.active(cluster, kind)
	return f != nil
}

// agent runs one publisher's timers on the lab clock: when the next one
// falls due, after a jump or a change of speed, and at least every
// pollEvery (a session may have registered it meanwhile).
func (l *Lab) agent(ctx context.Context, n *labNode) {
	defer l.agents.Done()
	for {
		changed := l.clock.Changed()
		l.runNode(ctx, n)
		wait := l.pollEvery()
		if next := n.next.Load().(time.Time); !next.IsZero() {
			// 0 when its instant has come and the clock is held at an
			// earlier timer: look again shortly rather than spin.
			wait = max(heldBackPoll, min(wait, l.clock.WallUntil(next)))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

const heldBackPoll = 20 * time.Millisecond

func (l *Lab) runNode(ctx context.Context, n *labNode) {
	n.mu.Lock()
	defer n.mu.Unlock()
	next, err := runDue(ctx, n.svc())
	if err != nil {
		if ctx.Err() == nil {
			l.log.Error("licensing agent", "node", n.place.Hostname, "err", err)
		}
		next = time.Time{}
	}
	old := n.next.Swap(next).(time.Time)
	if sent := n.sent.Swap(false); sent || !old.Equal(next) {
		l.rehold()
	}
}

// holders are the publishers of the running world, and by cluster.
type holders struct {
	pubs      []*labNode
	byCluster map[string]*labNode
}

// rehold holds the lab clock at the earliest timer due whose call has not
// been sent yet: a busy machine then delays the timers' real time, not
// their lab time, and every renewal runs at its instant (the clock
// catches up afterwards). clock.MaxHold bounds a hold that never ends.
func (l *Lab) rehold() {
	l.holdMu.Lock()
	defer l.holdMu.Unlock()
	var at time.Time
	if h := l.holders.Load(); h != nil {
		for _, n := range h.pubs {
			next := n.next.Load().(time.Time)
			if !next.IsZero() && !n.sent.Load() && (at.IsZero() || next.Before(at)) {
				at = next
			}
		}
	}
	l.clock.Hold(at)
}

// callArrived: a request from the cluster reached its cssm front. If its
// publisher's timer is due, that is the timer's call: the clock need not
// wait for it any more.
func (l *Lab) callArrived(cluster string) {
	h := l.holders.Load()
	if h == nil {
		return
	}
	n := h.byCluster[cluster]
	if n == nil {
		return
	}
	if next := n.next.Load().(time.Time); !next.IsZero() && !next.After(l.clock.Now()) && !n.sent.Swap(true) {
		l.rehold()
	}
}

// pollEvery is how often each publisher is looked at when nothing is
// due: half a simulated hour at the current speed, between 200 ms and
// one minute of real time.
func (l *Lab) pollEvery() time.Duration {
	s := l.clock.Speed()
	if s <= 0 {
		return time.Minute
	}
	return min(time.Minute, max(200*time.Millisecond, time.Duration(float64(30*time.Minute)/s)))
}

// maxAdvanceWall bounds the real time an advance spends stepping through
// the timers on the way (say, hourly retries under a timeout fault).
const maxAdvanceWall = time.Minute

// Advance moves the lab clock d forward, stopping at every timer due on
// the way so that renewals happen when they fall due, as they would
// have while the lab ran.
func (l *Lab) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, clock.ErrBackwards
	}
	l.world.Lock()
	defer l.world.Unlock()
	target := l.clock.Now().Add(d)
	deadline := time.Now().Add(maxAdvanceWall)
	pubs := l.publishers()
	l.runAll(ctx, pubs, time.Time{})
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var earliest time.Time
		for _, n := range pubs {
			next := n.next.Load().(time.Time)
			if !next.IsZero() && !next.After(target) && (earliest.IsZero() || next.Before(earliest)) {
				earliest = next
			}
		}
		if earliest.IsZero() {
			break
		}
		now := l.clock.AdvanceTo(earliest)
		if !l.runAll(ctx, pubs, now) {
			break // nothing moved on: stuck timers do not loop forever
		}
	}
	now := l.clock.AdvanceTo(target)
	l.runAll(ctx, pubs, time.Time{})
	return now, l.saveClock()
}

// runAll runs the timers of the publishers due at now (all when now is
// zero), a few at a time; it reports whether any of them moved on.
func (l *Lab) runAll(ctx context.Context, pubs []*labNode, now time.Time) bool {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	var moved atomic.Bool
	for _, n := range pubs {
		before := n.next.Load().(time.Time)
		if !now.IsZero() && (before.IsZero() || before.After(now)) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			l.runNode(ctx, n)
			if after := n.next.Load().(time.Time); !after.Equal(before) {
				moved.Store(true)
			}
		}()
	}
	wg.Wait()
	return moved.Load()
}

func (l *Lab) publishers() []*labNode {
	var out []*labNode
	for _, n := range l.nodes {
		if n.svc() != nil {
			out = append(out, n)
		}
	}
	return out
}

// SetSpeed changes the clock's speed.
func (l *Lab) SetSpeed(s float64) error {
	if err := l.clock.SetSpeed(s); err != nil {
		return err
	}
	return l.saveClock()
}

// Clock is the lab clock.
func (l *Lab) Clock() *clock.Running { return l.clock }

// keepClock saves the clock now and then (a killed lab resumes near where
// it was) until the lab stops, then unlocks the folder.
func (l *Lab) keepClock(unlock func()) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	defer close(l.kept)
	for {
		select {
		case <-l.stopping:
			l.saveClock()
			unlock()
			return
		case <-t.C:
			l.saveClock()
		}
	}
}

// Done is closed when the lab has stopped.
func (l *Lab) Done() <-chan struct{} { return l.done }

// Stop stops everything; the folder keeps the lab for the next Up.
func (l *Lab) Stop() {
	if l.stopped.Swap(true) {
		<-l.done
		return
	}
	if l.control != nil {
		l.control.close()
	}
	l.world.Lock()
	l.stopWorld()
	l.world.Unlock()
	close(l.stopping)
	<-l.kept
	close(l.done)
}

// Places are the nodes' addresses, ports bound.
func (l *Lab) Places() []Place {
	var out []Place
	for _, p := range l.saved.Places {
		if l.saved.mine(p) {
			out = append(out, p)
		}
	}
	return out
}

// CSSMURL is cssm's product API: the lab's own listener, or the cssm of
// another shard.
func (l *Lab) CSSMURL() string {
	if u := l.saved.External.URL; u != "" {
		return u
	}
	return "http://" + l.saved.CSSMAddr
}

// cssmURLFor is where a cluster's publisher sends its requests.
func (l *Lab) cssmURLFor(cluster string) string {
	if f := l.fronts[cluster]; f != nil {
		return f.url()
	}
	if u := l.saved.External.Fronts[cluster]; u != "" {
		return u
	}
	return l.CSSMURL()
}

// trustPEM is the key of the cssm the nodes trust.
func (l *Lab) trustPEM() []byte {
	if l.cssm != nil {
		return l.cssm.pubPEM
	}
	return []byte(l.saved.External.KeyPEM)
}

// Shard is I of N (from 1); N == 0: the whole lab.
type Shard struct {
	I int `json:"i"`
	N int `json:"n"`
}

// ParseShard reads --shard I/N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	si, e1 := strconv.Atoi(i)
	sn, e2 := strconv.Atoi(n)
	if !ok || e1 != nil || e2 != nil || sn < 1 || si < 1 || si > sn {
		return Shard{}, fmt.Errorf(msgBadShard, s)
	}
	return Shard{I: si, N: sn}, nil
}

func (s Shard) check(clusters int) error {
	if s.N > clusters {
		return fmt.Errorf(msgTooManyShards, s.I, s.N, clusters)
	}
	return nil
}

// has reports whether cluster c (from 0) is this shard's.
func (s Shard) has(c int) bool { return s.N == 0 || c%s.N == s.I-1 }

// ExternalCSSM is a licensing server run by another shard's lab.
type ExternalCSSM struct {
	URL    string `json:"url,omitempty"`
	KeyPEM string `json:"key_pem,omitempty"`
	// Fronts are that lab's per-cluster URLs (its inventory's
	// cluster_cssm_urls), through which its cluster faults reach here.
	Fronts map[string]string `json:"cluster_urls,omitempty"`
}

// ExternalFromInventory reads the cssm of another shard from its
// inventory (or ready file): its URL and its per-cluster URLs.
func ExternalFromInventory(data []byte, keyPEM string) (ExternalCSSM, error) {
	var inv Inventory
	if err := json.Unmarshal(data, &inv); err != nil || inv.CSSM == "" {
		return ExternalCSSM{}, errors.New(msgNotInventory)
	}
	return ExternalCSSM{URL: inv.CSSM, KeyPEM: keyPEM, Fronts: inv.Fronts}, nil
}

// Tokens are the seeded tokens by name.
func (l *Lab) Tokens() map[string]SeededToken { return l.saved.Tokens }

func (l *Lab) virtualOf(cluster string) string {
	for _, c := range l.saved.File.Clusters {
		if c.Name == cluster {
			if t, ok := l.saved.Tokens[c.Token]; ok {
				return t.VirtualAccount
			}
		}
	}
	return cluster
}

// SeededToken is a token the lab created in cssm.
type SeededToken struct {
	Name           string `json:"name"`
	VirtualAccount string `json:"virtual_account"`
	Token          string `json:"token"`
	AllowExport    bool   `json:"allow_export"`
	MaxUses        int    `json:"max_uses"`
}
