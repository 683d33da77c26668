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
	st.idem[key] = &IdempotencyRecord{Path: path, RequestSHA256: req, Status: a.status, Body: a.body, Signature: a.sig, Created: now}
	st.idemDirty[key] = true
}

// pruneIdempotency drops, when the transaction commits, the records older than
// IdempotencyRetention at now.
func (st *State) pruneIdempotency(now time.Time) {
	st.pruneTo = now.Add(-IdempotencyRetention)
}
