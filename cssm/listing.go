package cssm

import (
	"io"
	"strconv"
	"time"

	"github.com/ucmsh/ucmsh/internal/sanitize"
)

// AccountInfo is one virtual account, as cssm account list shows it.
type AccountInfo struct {
	SmartAccount, VirtualAccount string
	Created                      time.Time
	Licenses                     int // licences in the pool, all tiers
	ExportKeys                   int
}

// Accounts lists every virtual account, by smart account then creation.
func (p *Portal) Accounts() ([]AccountInfo, error) {
	var out []AccountInfo
	err := p.Store.View(func(st *State) error {
		for _, sa := range st.smartAccounts() {
			for _, va := range sa.VirtualAccounts {
				n := 0
				for _, l := range va.Licenses {
					n += l.Count
				}
				out = append(out, AccountInfo{sa.Name, va.Name, va.Created, n, va.ExportKeys})
			}
		}
		return nil
	})
	return out, err
}

// TokenInfo is one registration token, as cssm token list shows it.
type TokenInfo struct {
	Token, VirtualAccount, Description string
	Created, Expires                   time.Time
	MaxUses, Uses                      int // MaxUses 0: unlimited
	AllowExport                        bool
	Status                             string // VALID, USED, EXPIRED or REVOKED (as the REST API says)
}

// UsesLeft is how many registrations the token still allows, "unlimited"
// for a token without a limit.
func (t TokenInfo) UsesLeft() string {
	if t.MaxUses == 0 {
		return "unlimited"
	}
	return strconv.Itoa(max(0, t.MaxUses-t.Uses))
}

// Tokens lists the registration tokens, of one virtual account if virtual
// is not empty: usable ones first, newest first, as the REST API lists
// them, so that a token whose text was lost can be found again.
func (p *Portal) Tokens(virtual string) ([]TokenInfo, error) {
	now := p.Clock.Now()
	var out []TokenInfo
	err := p.Store.View(func(st *State) error {
		if virtual != "" {
			if _, va := st.findVA(virtual); va == nil {
				return errNoVA(virtual)
			}
		}
		for _, r := range st.tokensOf(virtual, now) {
			out = append(out, TokenInfo{Token: r.text, VirtualAccount: r.t.VirtualAccount, Description: r.t.Description,
				Created: r.t.Created, Expires: r.t.Expires, MaxUses: r.t.MaxUses, Uses: r.t.Uses, AllowExport: r.t.AllowExport, Status: r.info.Status})
		}
		return nil
	})
	return out, err
}

// WriteAccounts prints the virtual account list.
func WriteAccounts(w io.Writer, list []AccountInfo) error {
	if len(list) == 0 {
		_, err := io.WriteString(w, msgNoAccounts)
		return err
	}
	t := newTable(w, nil)
	t.Header("Smart Account", "Virtual Account", "Created", "Licenses", "Export Keys")
	for _, a := range list {
		if err := t.Append(a.SmartAccount, a.VirtualAccount, a.Created.UTC().Format(listTime),
			strconv.Itoa(a.Licenses), strconv.Itoa(a.ExportKeys)); err != nil {
			return err
		}
	}
	return t.Render()
}

// WriteTokens prints the token list, each token in full.
func WriteTokens(w io.Writer, list []TokenInfo) error {
	if len(list) == 0 {
		_, err := io.WriteString(w, msgNoTokens)
		return err
	}
	t := newTable(w, nil)
	t.Header("Token", "Virtual Account", "Status", "Uses Left", "Expires", "Export", "Description")
	for _, k := range list {
		desc := k.Description
		if desc == "" {
			desc = "-"
		}
		if err := t.Append(k.Token, k.VirtualAccount, k.Status, k.UsesLeft(), k.Expires.UTC().Format(listTime),
			exportText(k.AllowExport), sanitize.Text(desc)); err != nil {
			return err
		}
	}
	return t.Render()
}
