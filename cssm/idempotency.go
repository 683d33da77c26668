package cssm

import (
	"time"
)

// IdempotencyRetention is how long cssm keeps the answer recorded under an
// idempotency key: a node retries a lost answer within minutes, or at its next
// licensing command; a week covers a node that was down over a long weekend.
const IdempotencyRetention = 7 * 24 * time.Hour

// pruneEvery bounds how often the records are scanned for old ones.
const pruneEvery = time.Hour

// IdempotencyRecord is the first answer to a call that carried an idempotency
// key, kept to answer a repeat byte for byte.
type IdempotencyRecord struct {
	Path          string    `json:"path"`
	RequestSHA256 string    `json:"request_sha256"` // requestHash of credential and body
	Status        int       `json:"status"`
	Body          []byte    `json:"body"`
	Signature     string    `json:"signature"`
	Created       time.Time `json:"created"`
}

func (r *IdempotencyRecord) answer() *answer {
	return &answer{status: r.Status, body: r.Body, sig: r.Signature}
}

func (st *State) recordAnswer(key, path, req string, a *answer, now time.Time) {
	if st.Idempotency == nil {
		st.Idempotency = map[string]*IdempotencyRecord{}
	}
	st.Idempotency[key] = &IdempotencyRecord{Path: path, RequestSHA256: req, Status: a.status, Body: a.body, Signature: a.sig, Created: now}
}

// pruneIdempotency drops records older than IdempotencyRetention, at most once
// per pruneEvery of the clock; it reports whether it dropped any. A clock that
// moved backwards prunes nothing.
func (st *State) pruneIdempotency(now time.Time) bool {
	if len(st.Idempotency) == 0 || (!st.pruned.IsZero() && now.Sub(st.pruned) < pruneEvery && !now.Before(st.pruned)) {
		return false
	}
	st.pruned = now
	cut := now.Add(-IdempotencyRetention)
	dropped := false
	for k, r := range st.Idempotency {
		if r.Created.Before(cut) {
			delete(st.Idempotency, k)
			dropped = true
		}
	}
	return dropped
}
