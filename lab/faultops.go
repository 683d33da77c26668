package lab

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
)

// SetFault injects a fault (replacing one of the same kind and target).
func (l *Lab) SetFault(ctx context.Context, f Fault) error {
	if err := checkFault(&f); err != nil {
		return err
	}
	if u := l.saved.External.URL; u != "" {
		return fmt.Errorf(msgFaultElsewhere, u)
	}
	l.world.Lock()
	defer l.world.Unlock()
	clusters, err := l.targetClusters(f.Target)
	if err != nil {
		return err
	}
	if l.hasExact(f.Target, f.Kind) {
		if err := l.clearLocked(ctx, f.Target, f.Kind); err != nil {
			return err
		}
	}
	f.Since = l.clock.Now()
	switch f.Kind {
	case FaultUnreachable:
		for _, c := range clusters {
			if f := l.fronts[c.Name]; f != nil { // another shard's otherwise
				f.setDown(true)
			}
		}
		if f.Target == TargetCSSM {
			l.fronts[""].setDown(true)
		}
	case FaultPoolExhausted:
		for _, c := range clusters {
			h, err := l.cssm.startHog(l.virtualOf(c.Name), "lab-hog-"+c.Name)
			if err != nil {
				for _, h := range f.Hogs {
					l.cssm.stopHog(h)
				}
				return fmt.Errorf(msgCannotExhaust, l.virtualOf(c.Name), err)
			}
			f.Hogs = append(f.Hogs, h)
		}
	case FaultOtherUDI:
		if err := os.MkdirAll(l.dir.faults(), 0o700); err != nil {
			return err
		}
		for _, c := range clusters {
			r, err := l.cssm.reserveForOther(l.virtualOf(c.Name), c.Name)
			if err == nil {
				r.File = l.dir.faultCode(c.Name)
				err = atomicfile.Write(r.File, []byte(r.Code+"\n"), 0o600)
			}
			if err != nil {
				for _, r := range f.Reservations {
					l.cssm.returnOther(r)
				}
				return fmt.Errorf(msgCannotReserve, l.virtualOf(c.Name), err)
			}
			f.Reservations = append(f.Reservations, r)
		}
	case FaultRemoved:
		for _, c := range clusters {
			if _, err := l.cssm.removeInstances(l.virtualOf(c.Name), []string{publisherOf(c)}); err != nil {
				return fmt.Errorf(msgCannotRemove, publisherOf(c), err)
			}
		}
	}
	l.faults.mu.Lock()
	l.faults.list = append(l.faults.list, &f)
	l.faults.notify()
	l.faults.mu.Unlock()
	l.log.Info("fault set", "fault", f.String())
	return l.save()
}

// ClearFault removes faults: of a target and kind, of a target (kind ""),
// or all (both "").
func (l *Lab) ClearFault(ctx context.Context, target, kind string) error {
	l.world.Lock()
	defer l.world.Unlock()
	if target != "" {
		if _, err := l.targetClusters(target); err != nil {
			return err
		}
	}
	if kind != "" && !slices.Contains(FaultKinds, kind) {
		return fmt.Errorf(msgNotAFault, kind, strings.Join(FaultKinds, ", "))
	}
	if err := l.clearLocked(ctx, target, kind); err != nil {
		return err
	}
	return l.save()
}

func (l *Lab) hasExact(target, kind string) bool {
	for _, f := range l.faults.snapshot() {
		if f.Target == target && f.Kind == kind {
			return true
		}
	}
	return false
}

func (l *Lab) clearLocked(ctx context.Context, target, kind string) error {
	l.faults.mu.Lock()
	var gone, kept []*Fault
	for _, f := range l.faults.list {
		if (target == "" || f.Target == target) && (kind == "" || f.Kind == kind) {
			gone = append(gone, f)
		} else {
			kept = append(kept, f)
		}
	}
	l.faults.list = kept
	l.faults.notify()
	l.faults.mu.Unlock()
	var errs []string
	for _, f := range gone {
		clusters, _ := l.targetClusters(f.Target)
		switch f.Kind {
		case FaultUnreachable:
			for _, c := range clusters {
				if f := l.fronts[c.Name]; f != nil && !l.hasFault(c.Name, FaultUnreachable) {
					if err := f.setDown(false); err != nil {
						errs = append(errs, err.Error())
					}
				}
			}
			if f := l.fronts[""]; f != nil && !l.hasFault("", FaultUnreachable) {
				if err := f.setDown(false); err != nil {
					errs = append(errs, err.Error())
				}
			}
		case FaultPoolExhausted:
			for _, h := range f.Hogs {
				if err := l.cssm.stopHog(h); err != nil {
					errs = append(errs, err.Error())
				}
			}
		case FaultOtherUDI:
			for _, r := range f.Reservations {
				if err := l.cssm.returnOther(r); err != nil {
					errs = append(errs, err.Error())
				}
				os.Remove(r.File)
			}
		case FaultRemoved:
			// A removed instance does not come back: as its admin would,
			// the lab registers the publisher again with its token.
			for _, c := range clusters {
				if err := l.reregister(ctx, c); err != nil {
					errs = append(errs, err.Error())
				}
			}
		}
		l.log.Info("fault cleared", "fault", f.String())
	}
	if len(errs) > 0 {
		return fmt.Errorf(msgClearedBut, strings.Join(errs, "; "))
	}
	return nil
}

func (l *Lab) reregister(ctx context.Context, c Cluster) error {
	tok, ok := l.saved.Tokens[c.Token]
	if !ok {
		return fmt.Errorf(msgNoTokenToRepair, c.Name, publisherOf(c))
	}
	for _, n := range l.nodes {
		if n.place.Cluster == c.Name && n.svc() != nil {
			if !wasRegistered(n.svc()) {
				return nil // never registered (or deregistered): nothing to repair
			}
			n.mu.Lock()
			err := register(ctx, n.svc(), tok.Token)
			n.mu.Unlock()
			if err != nil {
				return fmt.Errorf(msgCannotReregister, n.place.Hostname, err)
			}
		}
	}
	return nil
}

func publisherOf(c Cluster) string {
	for _, n := range c.Nodes {
		if n.Role == Publisher {
			return n.Hostname
		}
	}
	return ""
}

// targetClusters are the clusters a fault target reaches.
func (l *Lab) targetClusters(target string) ([]Cluster, error) {
	if target == TargetCSSM {
		return l.saved.File.Clusters, nil
	}
	for _, c := range l.saved.File.Clusters {
		if c.Name == target {
			return []Cluster{c}, nil
		}
	}
	var names []string
	for _, c := range l.saved.File.Clusters {
		names = append(names, c.Name)
	}
	return nil, fmt.Errorf(msgNotATarget, target, strings.Join(names, ", "))
}
