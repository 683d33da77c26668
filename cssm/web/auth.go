package web

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/ucmsh/ucmsh/cssm"
)

// Bounds of the in-memory session and lock-out tables: a flood of logins
// cannot grow them without limit.
const (
	sessionLifetime = 8 * time.Hour
	maxSessions     = 10000
	maxFailures     = 5                // failed logins before a lock-out
	failureWindow   = 15 * time.Minute // how long failures count and a lock-out lasts
	maxTracked      = 10000            // users plus addresses tracked for lock-out
)

type session struct {
	user    string
	access  cssm.Access // read again on every request
	csrf    string
	expires time.Time
}

type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(user string, now time.Time) (string, *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*session{}
	}
	if len(s.m) >= maxSessions {
		s.prune(now)
	}
	if len(s.m) >= maxSessions { // still full: drop the one ending first
		var oldest string
		for id, ss := range s.m {
			if oldest == "" || ss.expires.Before(s.m[oldest].expires) {
				oldest = id
			}
		}
		delete(s.m, oldest)
	}
	id := randomID()
	ss := &session{user: user, csrf: randomID(), expires: now.Add(sessionLifetime)}
	s.m[id] = ss
	return id, ss
}

func (s *sessions) prune(now time.Time) {
	for id, ss := range s.m {
		if !now.Before(ss.expires) {
			delete(s.m, id)
		}
	}
}

func (s *sessions) get(id string, now time.Time) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[id]
	if ss == nil || !now.Before(ss.expires) {
		delete(s.m, id)
		return nil
	}
	return ss
}

func (s *sessions) drop(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// lockout counts failed logins per user name and per client address.
type lockout struct {
	mu sync.Mutex
	m  map[string]*failures
}

type failures struct {
	n     int
	first time.Time
}

func (l *lockout) locked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[key]
	if f == nil {
		return false
	}
	if now.Sub(f.first) >= failureWindow {
		delete(l.m, key)
		return false
	}
	return f.n >= maxFailures
}

func (l *lockout) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*failures{}
	}
	f := l.m[key]
	if f == nil || now.Sub(f.first) >= failureWindow {
		if len(l.m) >= maxTracked {
			for k, g := range l.m {
				if now.Sub(g.first) >= failureWindow {
					delete(l.m, k)
				}
			}
		}
		if len(l.m) >= maxTracked {
			// Full of live entries: an attacker spraying names. Keep counting
			// the address (the caller does), forget this name.
			return
		}
		f = &failures{first: now}
		l.m[key] = f
	}
	f.n++
}

func (l *lockout) reset(key string) {
	l.mu.Lock()
	delete(l.m, key)
	l.mu.Unlock()
}
