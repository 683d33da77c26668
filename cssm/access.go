package cssm

import (
	"fmt"
	"net/http"
	"strings"
)

// Who may see and change which account: the one check the portal and the
// REST API share. A user holds grants; each is a role over a scope: every
// account (Smart and Virtual empty: users of an older database, API clients),
// one smart account (all its virtual accounts), or one virtual account.

// Need is what an action asks of the caller.
type Need int

const (
	NeedView  Need = iota // see: any role
	NeedUse               // tokens, reservations: user or admin
	NeedAdmin             // remove or transfer instances, move licences: admin
)

// Grant is one role over one scope.
type Grant struct {
	Role, Smart, Virtual string
}

// Access is everything a caller may do.
type Access struct {
	Grants []Grant
}

// Everything is the access of API clients: admin of every account.
var Everything = Access{Grants: []Grant{{Role: RoleAdmin}}}

func level(role string) Need {
	switch role {
	case RoleAdmin:
		return NeedAdmin
	case RoleUser:
		return NeedUse
	}
	return NeedView
}

// Allows says whether the caller may do need on virtual account va of smart
// account sa; with va empty, on the smart account as a whole.
func (a Access) Allows(sa, va string, need Need) bool {
	for _, g := range a.Grants {
		if level(g.Role) < need {
			continue
		}
		if g.Smart == "" || (g.Smart == sa && (g.Virtual == "" || (va != "" && g.Virtual == va))) {
			return true
		}
	}
	return false
}

// Sees says whether the caller may see anything of smart account sa.
func (a Access) Sees(sa string) bool {
	for _, g := range a.Grants {
		if g.Smart == "" || g.Smart == sa {
			return true
		}
	}
	return false
}

// Writes says whether any grant lets the caller change something.
func (a Access) Writes() bool {
	for _, g := range a.Grants {
		if level(g.Role) > NeedView {
			return true
		}
	}
	return false
}

// String is the grants as an admin reads them.
func (a Access) String() string {
	var parts []string
	for _, g := range a.Grants {
		switch {
		case g.Virtual != "":
			parts = append(parts, fmt.Sprintf("%s of virtual account %s", g.Role, g.Virtual))
		case g.Smart != "":
			parts = append(parts, fmt.Sprintf("%s of smart account %s", g.Role, g.Smart))
		default:
			parts = append(parts, g.Role+" of every account")
		}
	}
	return strings.Join(parts, ", ")
}

// restAllowed checks a REST call's account path against the caller's grants:
// calls on a smart account as a whole need a grant over it (or every account);
// calls on a virtual account need one over it. Only a grant over every account
// learns that an account is unknown (the handler's 404); others get 403.
func (st *State) restAllowed(g *grant, segs []string, readOnly bool) error {
	if len(segs) < 2 || segs[0] != "accounts" || segs[1] == "search" {
		return nil // the account list shows only what the caller sees
	}
	vaName := ""
	if len(segs) >= 4 && segs[2] == "virtual-accounts" {
		vaName = segs[3]
	}
	need := NeedView
	if !readOnly {
		need = NeedUse
		tail := ""
		if vaName != "" {
			tail = strings.Join(segs[4:], "/")
		}
		switch tail {
		case "devices/remove", "devices/transfer", "licenses/transfer":
			need = NeedAdmin
		}
	}
	var sa *SmartAccount
	var va *VirtualAccount
	var err error
	if vaName == "" {
		sa, err = st.restSmartAccount(segs[1])
	} else {
		sa, va, err = st.restAccount(segs[1], vaName)
	}
	if err != nil {
		if g.access.Allows("", "", need) {
			return nil // the handler says which account is unknown
		}
		return restFail(http.StatusForbidden, msgRESTNoScope, g.subject, segs[1])
	}
	where := sa.Name
	if va != nil {
		vaName = va.Name
		where += "/" + va.Name
	}
	if !g.access.Allows(sa.Name, vaName, need) {
		return restFail(http.StatusForbidden, msgRESTNoScope, g.subject, where)
	}
	return nil
}

// userAccess reads a user's grants.
func (st *State) userAccess(name string) Access {
	var a Access
	var g Grant
	st.tx.rows(`SELECT role, sa, va FROM user_grants WHERE name = ? ORDER BY sa, va, role`, []any{name}, func() {
		a.Grants = append(a.Grants, g)
	}, &g.Role, &g.Smart, &g.Virtual)
	return a
}

// AccountOfInstance is the smart and virtual account holding instance id ("" if none).
func (p *Portal) AccountOfInstance(id string) (sa, va string, err error) {
	err = p.Store.View(func(st *State) error {
		if in := st.instance(strings.TrimSpace(id)); in != nil {
			va = in.VirtualAccount
			if s, _ := st.findVA(va); s != nil {
				sa = s.Name
			}
		}
		return nil
	})
	return sa, va, err
}

// Allowed says whether a may do need on virtual account va: the portal's check, the same rule as the REST API's.
func (p *Portal) Allowed(a Access, va string, need Need) (ok bool, err error) {
	err = p.Store.View(func(st *State) error {
		if sa, v := st.findVA(strings.TrimSpace(va)); v != nil {
			ok = a.Allows(sa.Name, v.Name, need)
		} else {
			ok = a.Allows("", "", need) // only a grant over every account learns it is unknown
		}
		return nil
	})
	return ok, err
}
