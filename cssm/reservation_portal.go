package cssm

import (
	"cmp"
	"crypto/ecdsa"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/internal/atomicfile"

	"github.com/ucmsh/ucmsh/reservation"
)

// The portal's Specific License Reservation actions.

// parseProduct reads a request code (P:UCM,S:…,U:…) or a UDI (PID:UCM,SN:…,UUID:…).
func parseProduct(s string) (reservation.UDI, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToUpper(t), "PID:") {
		return reservation.ParseUDI(t)
	}
	return reservation.ParseRequestCode(t)
}

// findReservation finds the reservation instance of udi, in virtual account
// virtual if that is not empty.
func (st *State) findReservation(udi reservation.UDI, virtual string) (*Instance, error) {
	if virtual != "" {
		if _, va := st.findVA(virtual); va == nil {
			return nil, errNoVA(virtual)
		}
	}
	in := st.instanceByUDI(udi.String())
	switch {
	case in == nil:
		return nil, errNoReservation(udi, virtual)
	case in.Reservation == nil:
		return nil, errRegisteredNotReserved(udi, in)
	case virtual != "" && in.VirtualAccount != virtual:
		return nil, errReservationElsewhere(udi, virtual, in.VirtualAccount)
	}
	return in, nil
}

// ReserveOptions are the choices of `reservation create` and `reservation update`.
type ReserveOptions struct {
	Virtual     string // the virtual account; on update only checked, and may be empty
	Product     string // the product's request code, or its UDI
	Licenses    []LicenseRequest
	AllowExport *bool // nil: not allowed on create, unchanged on update
}

// Issued is a newly signed authorization code and what it did.
type Issued struct {
	Code           string // the authorization code, one line
	InstanceID     string
	UDI            string // long form
	RequestCode    string
	VirtualAccount string
	Licenses       []ReservedLicense
	ExportAllowed  bool
	Timestamp      time.Time
	Update         bool
	TrustWritten   string // where the signing public key was published, if it was written now
}

// Message is the sentence for the admin (cssm prints it on stderr, keeping
// stdout for the code).
func (i *Issued) Message() string { return msgIssued(i) }

// signingKey publishes the key for the node sharing the state root, then
// returns it. Both take the store lock, so they run before the transaction.
func (p *Portal) signingKey() (*ecdsa.PrivateKey, string, error) {
	_, wrote, err := p.Store.PublishKey()
	if err != nil {
		return nil, "", err
	}
	key, err := p.Store.SigningKey()
	return key, wrote, err
}

// Reserve reserves licences of a virtual account for a product's request code
// and issues the signed authorization code. The product gets a reservation
// instance in the virtual account; the licences leave the pool at once.
func (p *Portal) Reserve(opt ReserveOptions) (*Issued, error) {
	return p.issue(opt.Product, false, func(is *issuing) error {
		st, udi, now := is.st, is.udi, is.now
		is.out.VirtualAccount = opt.Virtual
		_, va := st.findVA(opt.Virtual)
		if va == nil {
			return errNoVA(opt.Virtual)
		}
		if in := st.instanceByUDI(udi.String()); in != nil {
			if in.Reservation != nil {
				return errAlreadyReserved(udi, in)
			}
			return errRegisteredNotReservable(udi, in)
		}
		lic, err := resolveLicenses(va, opt.Licenses, now)
		if err != nil {
			return err
		}
		r := &Reservation{Codes: []IssuedCode{{Licenses: lic}}}
		if err := st.checkPool(va, nil, nil, r.held(now), now); err != nil {
			return err
		}
		export := opt.AllowExport != nil && *opt.AllowExport
		in := &Instance{
			ID:             newInstanceID(now),
			UDI:            udi.String(),
			VirtualAccount: va.Name,
			ExportAllowed:  export,
			Registered:     now,
			LastSeen:       now,
		}
		code, err := is.sign(in, lic, export)
		if err != nil {
			return err
		}
		in.Reservation = &Reservation{Codes: []IssuedCode{code}}
		st.addInstance(in)
		st.event(va.Name, EventReservation, "authorization code issued for "+in.UDI+": "+reservedDetail(lic))
		return nil
	})
}

// issuing is one transaction that issues an authorization code for a product.
type issuing struct {
	st  *State
	udi reservation.UDI
	now time.Time
	key *ecdsa.PrivateKey
	out *Issued
}

// sign signs the code for in with the next timestamp and puts it in the answer.
func (is *issuing) sign(in *Instance, lic []ReservedLicense, export bool) (IssuedCode, error) {
	code, err := sign(is.key, is.udi, in.ID, is.st.nextStamp(is.udi.String(), is.now), lic, export)
	if err != nil {
		return IssuedCode{}, err
	}
	is.out.Code, is.out.InstanceID, is.out.Licenses, is.out.ExportAllowed, is.out.Timestamp = code.Code, in.ID, lic, export, code.Timestamp
	return code, nil
}

// issue parses the product, takes the signing key (before the transaction:
// both take the store lock) and runs fill in one transaction.
func (p *Portal) issue(product string, update bool, fill func(*issuing) error) (*Issued, error) {
	udi, err := parseProduct(product)
	if err != nil {
		return nil, err
	}
	key, wrote, err := p.signingKey()
	if err != nil {
		return nil, err
	}
	is := &issuing{udi: udi, now: p.Clock.Now(), key: key,
		out: &Issued{UDI: udi.String(), RequestCode: reservation.RequestCode(udi), Update: update, TrustWritten: wrote}}
	err = p.update(func(st *State) error {
		is.st = st
		return fill(is)
	})
	if err != nil {
		return nil, err
	}
	return is.out, nil
}

// UpdateReservation issues a new code for a product's reservation with the
// given licences (replacing the whole list). Earlier codes the product may
// still hold stay valid for a return until a later one is confirmed.
func (p *Portal) UpdateReservation(opt ReserveOptions) (*Issued, error) {
	return p.issue(opt.Product, true, func(is *issuing) error {
		st, udi, now := is.st, is.udi, is.now
		in, err := st.findReservation(udi, opt.Virtual)
		if err != nil {
			return err
		}
		_, va := st.findVA(in.VirtualAccount)
		if va == nil {
			return errNoVA(in.VirtualAccount)
		}
		lic, err := resolveLicenses(va, opt.Licenses, now)
		if err != nil {
			return err
		}
		r := in.Reservation
		export := r.newest().ExportAllowed
		if opt.AllowExport != nil {
			export = *opt.AllowExport
		}
		grown := &Reservation{Codes: append(slices.Clone(r.Codes), IssuedCode{Licenses: lic})}
		if err := st.checkPool(va, in, r.held(now), grown.held(now), now); err != nil {
			return err
		}
		code, err := is.sign(in, lic, export)
		if err != nil {
			return err
		}
		r.Codes = append(r.Codes, code)
		in.ExportAllowed = export
		st.event(in.VirtualAccount, EventReservation, "authorization code updated for "+instanceName(in)+": "+reservedDetail(lic))
		is.out.VirtualAccount = in.VirtualAccount
		return nil
	})
}

// ReservationCode returns the newest code issued to a product, to print again.
func (p *Portal) ReservationCode(virtual, product string) (string, error) {
	udi, err := parseProduct(product)
	if err != nil {
		return "", err
	}
	var code string
	err = p.Store.View(func(st *State) error {
		in, err := st.findReservation(udi, virtual)
		if err != nil {
			return err
		}
		code = in.Reservation.newest().Code
		return nil
	})
	return code, err
}

var confirmationSyntax = regexp.MustCompile(`^[0-9a-f]{8}$`)

// ConfirmReservation takes the confirmation code a product printed after
// installing a code. It must be the confirmation code of a code issued to it
// that is still in transit (normally the newest); that code becomes the
// installed one and codes older than it are dropped. A wrong code changes
// nothing.
func (p *Portal) ConfirmReservation(virtual, product, confirmation string) (string, error) {
	udi, err := parseProduct(product)
	if err != nil {
		return "", err
	}
	code := strings.ToLower(strings.TrimSpace(confirmation))
	if !confirmationSyntax.MatchString(code) {
		return "", errConfirmationSyntax(confirmation)
	}
	now := p.Clock.Now()
	var msg string
	err = p.update(func(st *State) error {
		in, err := st.findReservation(udi, virtual)
		if err != nil {
			return err
		}
		r := in.Reservation
		for i := len(r.Codes) - 1; i >= 0; i-- {
			c := &r.Codes[i]
			ac, err := c.parsed()
			if err != nil {
				return err
			}
			if reservation.ConfirmationCode(ac) != code {
				continue
			}
			if !c.Confirmed.IsZero() {
				msg = msgAlreadyConfirmed(udi, c)
				return nil
			}
			c.Confirmed, c.Confirmation = now, code
			st.event(in.VirtualAccount, EventReservation, "confirmation code entered for "+instanceName(in))
			r.Codes = slices.Clone(r.Codes[i:])
			in.LastSeen = now
			msg = msgConfirmed(udi, in, &r.Codes[0])
			return nil
		}
		return errConfirmationWrong(udi, r.newest())
	})
	return msg, err
}

// ReturnReservation takes the return code a product printed when it gave its
// reservation back (or for a code it never installed). When the code is the
// return code of a code cssm issued to the product and it may still hold, the
// reservation ends and its licences go back to the pool; otherwise nothing
// changes. It also accepts the return code of a reservation that was removed
// without one.
func (p *Portal) ReturnReservation(virtual, product, returnCode string) (string, error) {
	udi, err := parseProduct(product)
	if err != nil {
		return "", err
	}
	code, err := reservation.ParseReturnCode(returnCode)
	if err != nil {
		return "", err
	}
	now := p.Clock.Now()
	var msg string
	err = p.update(func(st *State) error {
		in, findErr := st.findReservation(udi, virtual)
		if in != nil {
			i, err := in.Reservation.matchReturn(code)
			if err != nil {
				return err
			}
			if i >= 0 {
				held := heldLicenses(in.Reservation.held(now))
				msg = msgReturned(in.ID, in.UDI, in.VirtualAccount, held)
				st.event(in.VirtualAccount, EventReservationReturned, instanceName(in)+": "+reservedDetail(held))
				st.removeInstance(in)
				return nil
			}
		}
		// A reservation removed without its return code.
		for _, sa := range st.smartAccounts() {
			for _, va := range sa.VirtualAccounts {
				if virtual != "" && va.Name != virtual {
					continue
				}
				for j, f := range va.Forfeited {
					if f.UDI != udi.String() {
						continue
					}
					i, err := f.Reservation.matchReturn(code)
					if err != nil {
						return err
					}
					if i >= 0 {
						held := heldLicenses(f.Reservation.held(now))
						msg = msgReturned(f.InstanceID, f.UDI, va.Name, held)
						st.event(va.Name, EventReservationReturned, f.UDI+": "+reservedDetail(held))
						va.Forfeited = slices.Delete(va.Forfeited, j, j+1)
						return nil
					}
					findErr = nil
				}
			}
		}
		if findErr != nil {
			return findErr
		}
		return errReturnWrong(udi)
	})
	return msg, err
}

// RemoveOptions are `instance remove`'s flags.
type RemoveOptions struct {
	ReturnCode         string // a reservation instance's return code
	ForceWithoutReturn bool   // remove a reservation instance without one: its licences stay out of the pool
}

// RemoveInstance removes a product instance as the portal's "Remove" action
// does. A registered instance's next call gets instance_not_found and its
// export keys return to the pool. A reservation instance needs the product's
// return code, which gives its licences back; with ForceWithoutReturn it goes
// without one and its licences stay out of the pool (ForfeitedReservation).
func (p *Portal) RemoveInstance(id string, opt RemoveOptions) (string, error) {
	id = strings.TrimSpace(id)
	if opt.ReturnCode != "" && opt.ForceWithoutReturn {
		return "", errReturnAndForce()
	}
	var code string
	if opt.ReturnCode != "" {
		var err error
		if code, err = reservation.ParseReturnCode(opt.ReturnCode); err != nil {
			return "", err
		}
	}
	now := p.Clock.Now()
	var msg string
	err := p.update(func(st *State) error {
		in := st.instance(id)
		if in == nil {
			return errNoInstance(id)
		}
		r := in.Reservation
		switch {
		case r == nil && (code != "" || opt.ForceWithoutReturn):
			return errNotAReservation(in)
		case r == nil:
			st.removeInstance(in)
			msg = msgInstanceRemoved(in)
		case code != "":
			i, err := r.matchReturn(code)
			if err != nil {
				return err
			}
			if i < 0 {
				udi, _ := reservation.ParseUDI(in.UDI)
				return errReturnWrong(udi)
			}
			held := heldLicenses(r.held(now))
			msg = msgReturned(in.ID, in.UDI, in.VirtualAccount, held)
			st.event(in.VirtualAccount, EventReservationReturned, instanceName(in)+": "+reservedDetail(held))
			st.removeInstance(in)
		case opt.ForceWithoutReturn:
			_, va := st.findVA(in.VirtualAccount)
			if va == nil {
				return errNoVA(in.VirtualAccount)
			}
			msg = msgForfeited(in, heldLicenses(r.held(now)))
			va.Forfeited = append(va.Forfeited, &ForfeitedReservation{InstanceID: in.ID, UDI: in.UDI, Removed: now, Reservation: *r.clone()})
			st.removeInstance(in)
		default:
			return errReservationNeedsReturn(in, heldLicenses(r.held(now)))
		}
		return nil
	})
	return msg, err
}

// ReservationInfo is one line of `reservation list`.
type ReservationInfo struct {
	InstanceID, UDI, VirtualAccount string
	State                           string            // a Reservation* state
	Licenses                        []ReservedLicense // of the newest code
	ExportAllowed                   bool              // of the newest code
	Issued                          time.Time         // the newest code's timestamp
	Confirmation                    string            // entered for the installed code, "" if none
}

func reservationInfo(id, udi, va string, r *Reservation) ReservationInfo {
	n := r.newest()
	return ReservationInfo{
		InstanceID: id, UDI: udi, VirtualAccount: va, State: r.State(),
		Licenses: slices.Clone(n.Licenses), ExportAllowed: n.ExportAllowed, Issued: n.Timestamp,
		Confirmation: r.Codes[0].Confirmation,
	}
}

// Reservations lists reservations, of one virtual account if virtual is not
// empty, ordered by virtual account, UDI and instance id; forfeited ones too.
func (p *Portal) Reservations(virtual string) ([]ReservationInfo, error) {
	var out []ReservationInfo
	err := p.Store.View(func(st *State) error {
		if virtual != "" {
			if _, va := st.findVA(virtual); va == nil {
				return errNoVA(virtual)
			}
		}
		for _, sa := range st.smartAccounts() {
			for _, va := range sa.VirtualAccounts {
				if virtual != "" && va.Name != virtual {
					continue
				}
				for _, in := range st.reservingIn(va.Name) {
					out = append(out, reservationInfo(in.ID, in.UDI, va.Name, in.Reservation))
				}
				for _, f := range va.Forfeited {
					ri := reservationInfo(f.InstanceID, f.UDI, va.Name, &f.Reservation)
					ri.State = ReservationForfeited
					out = append(out, ri)
				}
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b ReservationInfo) int {
		return cmp.Or(cmp.Compare(a.VirtualAccount, b.VirtualAccount), cmp.Compare(a.UDI, b.UDI), a.Issued.Compare(b.Issued), cmp.Compare(a.InstanceID, b.InstanceID))
	})
	return out, err
}

// WriteCodeFile writes an authorization code to path (0600, replaced
// atomically), for the node's install-file.
func WriteCodeFile(path, code string) error {
	dir, name := filepath.Split(filepath.Clean(path))
	if dir == "" {
		dir = "."
	}
	if err := atomicfile.Write(filepath.Join(dir, name), []byte(code+"\n"), 0o600); err != nil {
		return errWriteCode(path, err)
	}
	return nil
}
