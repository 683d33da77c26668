// Package web is cssm's web portal: server-rendered pages laid out like CSSM's
// Inventory, usable without JavaScript, served by `cssm serve` under /portal/.
// Every action calls the same cssm.Portal operation as the cssm subcommands.
package web

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/cssmapi"
)

// Prefix is where the portal lives; nothing of the product or REST API is under it.
const Prefix = "/portal/"

// MaxUpload bounds a form, a pasted or uploaded request code included.
const MaxUpload = 1 << 20

const (
	cookieName = "cssm_portal"
	// loginCookie carries the login form's CSRF token (double submit): a page
	// elsewhere cannot sign a browser in to an account of its choosing.
	loginCookie = "cssm_portal_login"
	maxField    = 100
	maxID       = 256 // names, ids, tokens, UDIs in a form
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"day":   func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"short": func(s string) string { return shorten(s) },
}).ParseFS(templateFS, "templates/*.html"))

// serveStatic answers GET or HEAD for one embedded file by its exact name:
// no directory listings and no redirects (http.FileServer redirects "." to "./").
func serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
		return
	}
	b, err := fs.ReadFile(staticFS, "static/"+name)
	if !fs.ValidPath(name) || err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "max-age=3600")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// Handler serves the portal.
type Handler struct {
	portal   *cssm.Portal
	secure   bool // cookies only over TLS
	sessions sessions
	byUser   lockout
	byAddr   lockout
}

// New makes the portal over p; secure marks the cookie Secure (serve --tls).
func New(p *cssm.Portal, secure bool) *Handler {
	return &Handler{portal: p, secure: secure}
}

func (h *Handler) now() time.Time { return h.portal.Clock.Now() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	path := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(Prefix, "/"))
	if name, ok := strings.CutPrefix(path, "/static/"); ok {
		serveStatic(w, r, name)
		return
	}
	if path == "/login" {
		h.login(w, r)
		return
	}
	ss, sid := h.session(r)
	if ss == nil {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, Prefix+"login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		http.Error(w, msgSignInFirst, http.StatusForbidden)
		return
	}
	acc, err := h.portal.UserAccess(ss.user)
	if err != nil {
		h.fail(w, http.StatusServiceUnavailable, upperFirst(err.Error()))
		return
	}
	ss.access = acc
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, MaxUpload+64<<10)
		if err := r.ParseMultipartForm(MaxUpload); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			h.fail(w, http.StatusRequestEntityTooLarge, msgTooLarge)
			return
		}
		if err := r.ParseForm(); err != nil {
			h.fail(w, http.StatusRequestEntityTooLarge, msgTooLarge)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(ss.csrf)) != 1 {
			h.fail(w, http.StatusForbidden, msgCSRF)
			return
		}
		if path == "/logout" {
			h.sessions.drop(sid)
			http.SetCookie(w, h.cookie("", -1))
			http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
			return
		}
		if !ss.access.Writes() {
			h.fail(w, http.StatusForbidden, fmt.Sprintf(msgReadOnly, ss.user))
			return
		}
		h.action(w, r, ss, path)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, POST")
		h.fail(w, http.StatusMethodNotAllowed, msgMethod)
		return
	}
	// Every page of an account checks that the user may see it.
	if va := r.URL.Query().Get("va"); va != "" || path == "/licenses.csv" || path == "/instances.csv" {
		if !h.may(w, ss, va, cssm.NeedView) {
			return
		}
	}
	switch path {
	case "/", "":
		h.inventory(w, r, ss)
	case "/licenses.csv":
		h.licensesCSV(w, r)
	case "/instances.csv":
		h.instancesCSV(w, r)
	default:
		h.fail(w, http.StatusNotFound, msgNoPage)
	}
}

func (h *Handler) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: cookieName, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode}
}

func (h *Handler) session(r *http.Request) (*session, string) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil, ""
	}
	return h.sessions.get(c.Value, h.now()), c.Value
}

// localPath keeps a post-login target on this portal: a path under Prefix,
// never another host (//evil, /\evil, scheme:).
func localPath(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(next, Prefix) || strings.ContainsAny(next, "\\\r\n\t") || strings.HasPrefix(next, "//") {
		return Prefix
	}
	return next
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type loginPage struct {
	Next, User, Error, CSRF string
}

// loginToken is the login form's CSRF token: the browser's, or a new one.
func (h *Handler) loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	tok := randomID()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: Prefix + "login", MaxAge: 3600,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode})
	return tok
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.render(w, http.StatusOK, "login.html", loginPage{Next: localPath(r.URL.Query().Get("next")), CSRF: h.loginToken(w, r)})
		return
	case http.MethodPost:
	default:
		h.fail(w, http.StatusMethodNotAllowed, msgMethod)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		h.fail(w, http.StatusRequestEntityTooLarge, msgTooLarge)
		return
	}
	user, pass := r.PostForm.Get("user"), r.PostForm.Get("password")
	next := localPath(r.PostForm.Get("next"))
	page := loginPage{Next: next, User: clip(user, maxField), CSRF: h.loginToken(w, r)}
	if c, err := r.Cookie(loginCookie); err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) != 1 {
		page.Error = msgLoginCSRF
		h.render(w, http.StatusForbidden, "login.html", page)
		return
	}
	now, addr := h.now(), clientAddr(r)
	if h.byUser.locked(user, now) || h.byAddr.locked(addr, now) {
		page.Error = fmt.Sprintf(msgLocked, int(failureWindow/time.Minute))
		h.render(w, http.StatusTooManyRequests, "login.html", page)
		return
	}
	_, ok, err := h.portal.CheckUser(user, pass)
	if err != nil {
		page.Error = err.Error()
		h.render(w, http.StatusServiceUnavailable, "login.html", page)
		return
	}
	if !ok {
		h.byUser.fail(user, now)
		h.byAddr.fail(addr, now)
		page.Error = msgBadLogin
		h.render(w, http.StatusUnauthorized, "login.html", page)
		return
	}
	h.byUser.reset(user)
	id, _ := h.sessions.create(user, now)
	http.SetCookie(w, h.cookie(id, int(sessionLifetime/time.Second)))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// view is what every inventory page shows.
type view struct {
	User, Role, CSRF string
	Accounts         []cssm.AccountTree
	Smart, Virtual   string
	Tab              string
	Tabs             []string
	Flash, Error     string
	Secret           string // a token or code just made, shown once to copy

	Tokens    []cssm.TokenInfo
	Usage     *cssm.UsageReport
	Instances []cssm.Instance
	Reserved  []cssm.ReservationInfo
	Alerts    []cssm.Alert
	Charts    map[string]template.HTML
	Events    []cssm.Event
	Filter    string
	Available []cssm.Balance // what may be reserved
	CanWrite  bool           // tokens, reservations
	CanAdmin  bool           // remove, transfer

	Names      map[string]string   // tag -> display name
	ReservedOf map[string][]string // instance id -> what its reservation holds
	Siblings   []string            // the other virtual accounts of the smart account
}

func names() map[string]string {
	m := map[string]string{}
	for _, e := range cssmapi.Entitlements {
		m[e.Tag] = e.DisplayName
	}
	return m
}

var tabs = []string{"general", "licenses", "instances", "events", "reserve", "alerts"}

func (h *Handler) inventory(w http.ResponseWriter, r *http.Request, ss *session) {
	q := r.URL.Query()
	v, status := h.load(ss, q.Get("va"), q.Get("tab"), q.Get("filter"))
	v.Flash = clip(q.Get("flash"), 500)
	h.render(w, status, "inventory.html", v)
}

func (h *Handler) load(ss *session, va, tab, filter string) (*view, int) {
	v := &view{User: ss.user, Role: ss.access.String(), CSRF: ss.csrf, Tabs: tabs, Tab: "general", Filter: clip(filter, maxField),
		Names: names()}
	for _, t := range tabs {
		if tab == t {
			v.Tab = t
		}
	}
	var err error
	if v.Accounts, err = h.portal.AccountTree(); err != nil {
		v.Error = err.Error()
		return v, http.StatusServiceUnavailable
	}
	// The picker shows only what the user may see.
	var seen []cssm.AccountTree
	for _, sa := range v.Accounts {
		t := sa
		t.Virtual = nil
		for _, name := range sa.Virtual {
			if ss.access.Allows(sa.Name, name, cssm.NeedView) {
				t.Virtual = append(t.Virtual, name)
			}
		}
		if len(t.Virtual) > 0 {
			seen = append(seen, t)
		}
	}
	v.Accounts = seen
	for _, sa := range v.Accounts {
		for _, name := range sa.Virtual {
			if name == va || (va == "" && v.Virtual == "") {
				v.Smart, v.Virtual = sa.Name, name
			}
		}
	}
	v.CanWrite = ss.access.Allows(v.Smart, v.Virtual, cssm.NeedUse)
	v.CanAdmin = ss.access.Allows(v.Smart, v.Virtual, cssm.NeedAdmin)
	if v.Virtual == "" {
		if va != "" {
			v.Error = fmt.Sprintf(msgNoVA, va)
			return v, http.StatusNotFound
		}
		return v, http.StatusOK
	}
	if err := h.fill(v); err != nil {
		v.Error = err.Error()
		return v, http.StatusBadRequest
	}
	return v, http.StatusOK
}

func (h *Handler) fill(v *view) error {
	var err error
	switch v.Tab {
	case "general":
		v.Tokens, err = h.portal.Tokens(v.Virtual)
	case "licenses":
		if v.Usage, err = h.portal.Usage(v.Virtual); err != nil {
			return err
		}
		var hist []cssm.UsagePoint
		if hist, err = h.portal.UsageHistory(v.Virtual); err != nil {
			return err
		}
		v.Charts = charts(v.Usage.Balances, hist, h.now())
		v.Alerts, err = h.portal.Alerts(v.Virtual)
	case "instances":
		if v.Instances, err = h.portal.Instances(v.Virtual); err != nil {
			return err
		}
		if v.Reserved, err = h.portal.Reservations(v.Virtual); err != nil {
			return err
		}
		v.ReservedOf = map[string][]string{}
		for _, r := range v.Reserved {
			for _, l := range r.Licenses {
				v.ReservedOf[r.InstanceID] = append(v.ReservedOf[r.InstanceID], fmt.Sprintf("%d %s", l.Count, v.Names[l.Tag]))
			}
		}
		for _, sa := range v.Accounts {
			if sa.Name == v.Smart {
				for _, name := range sa.Virtual {
					if name != v.Virtual {
						v.Siblings = append(v.Siblings, name)
					}
				}
			}
		}
	case "events":
		v.Events, err = h.portal.Events(v.Virtual, v.Filter, 500)
	case "reserve":
		var u *cssm.UsageReport
		if u, err = h.portal.Usage(v.Virtual); err != nil {
			return err
		}
		for _, b := range u.Balances {
			if b.Balance() > 0 {
				v.Available = append(v.Available, b)
			}
		}
		v.Reserved, err = h.portal.Reservations(v.Virtual)
	case "alerts":
		v.Alerts, err = h.portal.Alerts(v.Virtual)
	}
	return err
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "The portal could not draw this page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (h *Handler) fail(w http.ResponseWriter, status int, msg string) {
	h.render(w, status, "error.html", map[string]any{"Status": status, "Message": msg})
}

// back returns to a tab with a sentence (or an error) to show.
func back(w http.ResponseWriter, r *http.Request, va, tab, flash string) {
	q := url.Values{"va": {va}, "tab": {tab}}
	if flash != "" {
		q.Set("flash", strings.TrimSpace(flash))
	}
	http.Redirect(w, r, Prefix+"?"+q.Encode(), http.StatusSeeOther)
}

// actionFail re-renders the tab with the error, keeping the user's place.
func (h *Handler) actionFail(w http.ResponseWriter, ss *session, va, tab string, err error) {
	v, _ := h.load(ss, va, tab, "")
	v.Error = upperFirst(err.Error())
	h.render(w, http.StatusBadRequest, "inventory.html", v)
}

// may answers 403 unless the user may do need on virtual account va.
func (h *Handler) may(w http.ResponseWriter, ss *session, va string, need cssm.Need) bool {
	ok, err := h.portal.Allowed(ss.access, va, need)
	if err != nil {
		h.fail(w, http.StatusServiceUnavailable, upperFirst(err.Error()))
		return false
	}
	if !ok {
		h.fail(w, http.StatusForbidden, fmt.Sprintf(msgNoScope, ss.user, clip(va, maxID)))
	}
	return ok
}

// mayAct checks every account a POST touches: the form's va, and for an
// instance its own account and the transfer's target, which need an admin.
func (h *Handler) mayAct(w http.ResponseWriter, r *http.Request, ss *session, path string) bool {
	f := r.PostForm
	switch path {
	case "/instance/remove", "/instance/transfer":
		_, va, err := h.portal.AccountOfInstance(f.Get("id"))
		if err != nil {
			h.fail(w, http.StatusServiceUnavailable, upperFirst(err.Error()))
			return false
		}
		if va == "" {
			va = f.Get("va") // unknown instance: the action says so, if the form's account allows
		}
		if ok, _ := h.portal.Allowed(ss.access, va, cssm.NeedView); ok {
			if ok, _ := h.portal.Allowed(ss.access, va, cssm.NeedAdmin); !ok {
				h.fail(w, http.StatusForbidden, fmt.Sprintf(msgAdminOnly, ss.user))
				return false
			}
		}
		if !h.may(w, ss, va, cssm.NeedAdmin) {
			return false
		}
		if path == "/instance/transfer" && !h.may(w, ss, f.Get("to"), cssm.NeedAdmin) {
			return false
		}
		return h.may(w, ss, f.Get("va"), cssm.NeedView)
	}
	return h.may(w, ss, f.Get("va"), cssm.NeedUse)
}

func (h *Handler) action(w http.ResponseWriter, r *http.Request, ss *session, path string) {
	f := r.PostForm
	va := f.Get("va")
	p := h.portal.As(ss.user)
	// Names and ids are short; a long one is refused before it is echoed.
	for _, k := range []string{"va", "to", "id", "token", "product", "confirmation"} {
		if v := f.Get(k); len(v) > maxID || strings.ContainsFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) {
			h.fail(w, http.StatusBadRequest, fmt.Sprintf(msgBadField, k, maxID))
			return
		}
	}
	if !h.mayAct(w, r, ss, path) {
		return
	}
	switch path {
	case "/token/create":
		opt, err := tokenOptions(f)
		if err != nil {
			h.actionFail(w, ss, va, "general", err)
			return
		}
		text, err := p.CreateToken(va, opt)
		if err != nil {
			h.actionFail(w, ss, va, "general", err)
			return
		}
		v, _ := h.load(ss, va, "general", "")
		v.Flash, v.Secret = msgTokenCreated, text
		h.render(w, http.StatusOK, "inventory.html", v)
	case "/token/revoke":
		msg, err := p.RevokeToken(va, f.Get("token"))
		if err != nil {
			h.actionFail(w, ss, va, "general", err)
			return
		}
		back(w, r, va, "general", msg)
	case "/instance/remove":
		code, err := formCode(r, "return_code", "return_file")
		if err != nil {
			h.actionFail(w, ss, va, "instances", err)
			return
		}
		msg, err := p.RemoveInstance(f.Get("id"), cssm.RemoveOptions{ReturnCode: code})
		if err != nil {
			h.actionFail(w, ss, va, "instances", err)
			return
		}
		back(w, r, va, "instances", msg)
	case "/instance/transfer":
		msg, err := p.TransferInstance(f.Get("id"), f.Get("to"))
		if err != nil {
			h.actionFail(w, ss, va, "instances", err)
			return
		}
		back(w, r, va, "instances", msg)
	case "/reserve":
		h.reserve(w, r, ss, p, va)
	case "/reserve/confirm":
		msg, err := p.ConfirmReservation(va, f.Get("product"), strings.TrimSpace(f.Get("confirmation")))
		if err != nil {
			h.actionFail(w, ss, va, "reserve", err)
			return
		}
		back(w, r, va, "reserve", msg)
	default:
		h.fail(w, http.StatusNotFound, msgNoPage)
	}
}

func tokenOptions(f url.Values) (cssm.TokenOptions, error) {
	opt := cssm.TokenOptions{AllowExport: f.Get("allow_export") == "on"}
	desc := strings.TrimSpace(f.Get("description"))
	if len(desc) > maxField || strings.ContainsFunc(desc, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return opt, fmt.Errorf(msgBadDescription, maxField)
	}
	opt.Description = desc
	days, err := strconv.Atoi(strings.TrimSpace(f.Get("expires_days")))
	if err != nil || days < 1 || days > 365 {
		return opt, errors.New(msgBadDays)
	}
	opt.ExpiresDays = days
	if u := strings.TrimSpace(f.Get("max_uses")); u != "" {
		n, err := strconv.Atoi(u)
		if err != nil || n < 0 || n > 1000000 {
			return opt, errors.New(msgBadUses)
		}
		opt.MaxUses = n
	}
	return opt, nil
}

var codeChars = regexp.MustCompile(`^[\x20-\x7e\r\n\t]*$`)

// formCode is a code pasted into field or uploaded as file (at most MaxUpload).
func formCode(r *http.Request, field, file string) (string, error) {
	code := r.PostForm.Get(field)
	if r.MultipartForm != nil && len(r.MultipartForm.File[file]) > 0 {
		fh := r.MultipartForm.File[file][0]
		if fh.Size > MaxUpload {
			return "", errors.New(msgTooLarge)
		}
		fd, err := fh.Open()
		if err != nil {
			return "", err
		}
		defer fd.Close()
		b, err := io.ReadAll(io.LimitReader(fd, MaxUpload+1))
		if err != nil {
			return "", err
		}
		if len(b) > MaxUpload {
			return "", errors.New(msgTooLarge)
		}
		if strings.TrimSpace(code) == "" {
			code = string(b)
		}
	}
	if len(code) > MaxUpload || !codeChars.MatchString(code) {
		return "", errors.New(msgBadCode)
	}
	return strings.TrimSpace(code), nil
}

func (h *Handler) reserve(w http.ResponseWriter, r *http.Request, ss *session, p *cssm.Portal, va string) {
	f := r.PostForm
	code, err := formCode(r, "request_code", "request_file")
	if err == nil && code == "" {
		err = errors.New(msgNoRequestCode)
	}
	if err != nil {
		h.actionFail(w, ss, va, "reserve", err)
		return
	}
	var lic []cssm.LicenseRequest
	for _, e := range cssmapi.Entitlements {
		s := strings.TrimSpace(f.Get("qty_" + e.Tag))
		if s == "" || s == "0" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 100000 {
			h.actionFail(w, ss, va, "reserve", fmt.Errorf(msgBadQuantity, e.DisplayName))
			return
		}
		lic = append(lic, cssm.LicenseRequest{Tag: e.Tag, Count: n, Type: cssm.Perpetual})
	}
	if len(lic) == 0 {
		h.actionFail(w, ss, va, "reserve", errors.New(msgNoQuantity))
		return
	}
	allow := f.Get("allow_export") == "on"
	opt := cssm.ReserveOptions{Virtual: va, Product: code, Licenses: lic, AllowExport: &allow}
	var is *cssm.Issued
	if f.Get("update") == "on" {
		is, err = p.UpdateReservation(opt)
	} else {
		is, err = p.Reserve(opt)
	}
	if err != nil {
		h.actionFail(w, ss, va, "reserve", err)
		return
	}
	if f.Get("download") == "on" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="AuthorizationCode.txt"`)
		io.WriteString(w, is.Code+"\n")
		return
	}
	v, _ := h.load(ss, va, "reserve", "")
	v.Flash, v.Secret = strings.TrimSpace(is.Message()), is.Code
	h.render(w, http.StatusOK, "inventory.html", v)
}

func (h *Handler) licensesCSV(w http.ResponseWriter, r *http.Request) {
	u, err := h.portal.Usage(r.URL.Query().Get("va"))
	if err != nil {
		h.fail(w, http.StatusNotFound, upperFirst(err.Error()))
		return
	}
	rows := [][]string{{"License", "Tag", "Purchased", "In Use", "Reserved", "Substitution", "Balance", "Status"}}
	for _, b := range u.Balances {
		rows = append(rows, []string{b.DisplayName, b.Tag, itoa(b.Purchased), itoa(b.InUse), itoa(b.Reserved), itoa(b.Borrowed), itoa(b.Balance()), b.Status()})
	}
	writeCSV(w, "licenses.csv", rows)
}

func (h *Handler) instancesCSV(w http.ResponseWriter, r *http.Request) {
	ins, err := h.portal.Instances(r.URL.Query().Get("va"))
	if err != nil {
		h.fail(w, http.StatusNotFound, upperFirst(err.Error()))
		return
	}
	rows := [][]string{{"Name", "UDI", "Virtual Account", "Last Contact", "Licenses In Use", "Reserved"}}
	for _, in := range ins {
		rows = append(rows, []string{in.Hostname, in.UDI, in.VirtualAccount, in.LastSeen.UTC().Format(time.RFC3339), usageText(in), strconv.FormatBool(in.Reservation != nil)})
	}
	writeCSV(w, "instances.csv", rows)
}

// writeCSV quotes a leading = + - @ so that a spreadsheet shows a name, not a formula.
func writeCSV(w http.ResponseWriter, name string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i, c := range row {
			if _, err := strconv.Atoi(c); err != nil && c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				row[i] = "'" + c
			}
		}
		cw.Write(row)
	}
	cw.Flush()
}

func usageText(in cssm.Instance) string {
	var parts []string
	for _, e := range cssmapi.Entitlements {
		if n := in.Usage[e.Tag]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", e.DisplayName, n))
		}
	}
	return strings.Join(parts, "; ")
}

func itoa(n int) string { return strconv.Itoa(n) }

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func shorten(s string) string {
	if len(s) > 24 {
		return s[:10] + "…" + s[len(s)-10:]
	}
	return s
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
