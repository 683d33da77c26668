package installfile

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Questions (User ID, Password) and the authentication policy.

func (f *fetcher) askUser() error {
	if f.o.Ask == nil {
		return fetchErr(ErrAuthFailed, nil, msgFetchNoUser, f.addr, f.u.Path)
	}
	user, err := f.o.Ask(f.ctx, PromptUserID)
	if err != nil {
		return f.promptError("user ID", err)
	}
	f.user = strings.TrimSpace(user)
	if f.user == "" {
		return fetchErr(ErrAuthFailed, nil, msgFetchEmptyUser)
	}
	f.askedUser = true
	// CUCM asks both before connecting.
	if f.o.Secret != nil {
		if _, err := f.getPassword(); err != nil {
			return err
		}
	}
	return nil
}

func (f *fetcher) getPassword() (string, error) {
	if f.hasPassword {
		return f.password, nil
	}
	pw, err := f.secret(PromptPassword)
	if err != nil {
		return "", err
	}
	f.password, f.hasPassword = pw, true
	return pw, nil
}

// secret asks a not-echoed question, with the connection's deadline
// suspended while a person answers.
func (f *fetcher) secret(prompt string) (string, error) {
	defer f.pause()()
	s, err := f.o.Secret(f.ctx, prompt)
	if err != nil {
		return "", f.setFailure(f.promptError("password", err))
	}
	return s, nil
}

func (f *fetcher) ask(prompt string) (string, error) {
	defer f.pause()()
	s, err := f.o.Ask(f.ctx, prompt)
	if err != nil {
		return "", f.setFailure(f.promptError("answer", err))
	}
	return s, nil
}

// pause lifts the connection deadline while a person answers and returns
// the function that sets a fresh one.
func (f *fetcher) pause() func() {
	if f.conn == nil {
		return func() {}
	}
	f.conn.SetDeadline(time.Time{})
	return func() { f.conn.SetDeadline(time.Now().Add(f.timeout)) }
}

func (f *fetcher) promptError(what string, err error) error {
	if f.ctx.Err() != nil {
		return f.interrupted(f.ctx.Err())
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return f.interrupted(err)
	}
	return fetchErr(ErrAuthFailed, err, msgFetchPrompt, what, err)
}

func (f *fetcher) setFailure(err error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failure == nil {
		f.failure = err
	}
	return f.failure
}

func (f *fetcher) getFailure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failure
}

// Authentication.

// nextAuth picks each authentication attempt (see the package decisions).
func (f *fetcher) nextAuth(ac *ssh.ClientAuthContext) (ssh.AuthMethod, error) {
	f.mu.Lock()
	f.authStarted = true
	failure := f.failure
	f.mu.Unlock()
	if failure != nil { // a question was interrupted
		return nil, failure
	}
	if f.conn.timedOut() { // the last attempt died of the deadline
		return nil, f.setFailure(fetchErr(ErrTimeout, os.ErrDeadlineExceeded, msgFetchHSTimeout, f.addr, f.o.ConnectTimeout))
	}
	allowed := func(m string) bool { return slices.Contains(ac.AllowedMethods, m) }
	tried := func(m string) bool { return slices.Contains(ac.TriedMethods, m) }

	if !f.askedUser && f.o.Signers != nil && allowed("publickey") {
		if !f.keysLoaded {
			f.keysLoaded = true
			keys, err := f.o.Signers()
			if err != nil {
				return nil, f.setFailure(err)
			}
			f.keys = keys
		}
		// One key per attempt, so the log can say which one logged in.
		if f.keyNext < len(f.keys) {
			k := f.keys[f.keyNext]
			f.keyNext++
			f.triedKeys = true
			f.method("publickey " + keyKind(k.PublicKey()) + " " + ssh.FingerprintSHA256(k.PublicKey()))
			return ssh.PublicKeys(k), nil
		}
	}
	canPassword := f.hasPassword || f.o.Secret != nil
	if canPassword && allowed("password") && !tried("password") {
		f.method("password")
		return ssh.PasswordCallback(f.getPassword), nil
	}
	if canPassword && allowed("keyboard-interactive") && !tried("keyboard-interactive") && !tried("password") {
		f.method("keyboard-interactive")
		return ssh.KeyboardInteractive(f.challenge), nil
	}

	if len(ac.TriedMethods) > 1 || (len(ac.TriedMethods) == 1 && ac.TriedMethods[0] != "none") {
		hint := ""
		if f.triedKeys {
			hint = msgFetchAuthKeys
		}
		return nil, f.setFailure(fetchErr(ErrAuthFailed, nil, msgFetchAuth, f.user, f.addr, hint))
	}
	methods := strings.Join(ac.AllowedMethods, ", ")
	if methods == "" {
		methods = "none"
	}
	return nil, f.setFailure(fetchErr(ErrAuthFailed, nil, msgFetchAuthNone, f.addr, f.user, methods))
}

// challenge answers keyboard-interactive questions: the first hidden one
// with the password, the others by asking.
func (f *fetcher) challenge(name, instruction string, questions []string, echos []bool) ([]string, error) {
	answers := make([]string, len(questions))
	usedPassword := false
	for i, q := range questions {
		prompt := strings.TrimSpace(q)
		var err error
		switch {
		case i < len(echos) && echos[i]:
			if f.o.Ask == nil {
				return nil, errors.New("no one can answer " + prompt)
			}
			answers[i], err = f.ask(prompt)
		case !usedPassword:
			usedPassword = true
			answers[i], err = f.getPassword()
		default:
			answers[i], err = f.secret(prompt)
		}
		if err != nil {
			return nil, err
		}
	}
	return answers, nil
}

// method records the authentication attempt being made, for the log.
func (f *fetcher) method(m string) {
	f.mu.Lock()
	f.methods = append(f.methods, m)
	f.mu.Unlock()
}

// logLogin records one login attempt's outcome (FetchOptions.Log): the
// server, the user, and every method tried, the last one being the one that
// succeeded when err is nil.
func (f *fetcher) logLogin(err error) {
	if f.o.Log == nil {
		return
	}
	f.mu.Lock()
	methods := strings.Join(f.methods, ", ")
	f.mu.Unlock()
	if methods == "" {
		methods = "none"
	}
	attrs := []any{"host", f.u.Host, "port", f.u.Port, "user", f.user, "auth", methods, "path", f.u.Path}
	if err != nil {
		f.o.Log.Warn("install-file login failed", append(attrs, "err", err.Error())...)
		return
	}
	f.o.Log.Info("install-file login", attrs...)
}
