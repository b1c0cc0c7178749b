package console

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/observe"
)

// pageNames are the templates in templates/, one per page, each rendered
// inside layout.html.
var pageNames = []string{"signin", "error", "keys", "new", "created", "detail", "edit", "audit", "usage"}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return "never"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"join": strings.Join,
	"list": func(v ...string) []string { return v },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"json": func(v any) string {
		// The template escapes the text; JSON's own escapes of < > &
		// would only make it unreadable.
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "?"
		}
		return strings.TrimSuffix(b.String(), "\n")
	},
	"outcomes": observe.KeyOutcomes,
	"count":    func(o ginkey.Outcomes, code string) int64 { return o.Count(code) },
	"label":    func(code string) string { return strings.ReplaceAll(code, "_", " ") },
}

func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/keyfields.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// view is what every page gets: the layout's fields and the page's Data.
type view struct {
	Base, Version, CSRF, Title, Who string
	Signed, OwnerMode               bool
	Error, Code, Notice             string
	Data                            any
}

// notices are the flash messages a redirect after a change names by code
// (?done=...): fixed texts, so that no URL can put words on a page.
var notices = map[string]string{
	"revoked":  "The key was revoked: it is refused from its next request.",
	"renewed":  "The key was renewed.",
	"updated":  "The key was updated.",
	"deleted":  "The key and its usage were deleted.",
	onceNotice: "That form was sent before, and this is the key it made. A key is shown only once: if its value was not copied, rotate it.",
}

func (con *Console) view(c *gin.Context, title string, data any) view {
	_, signed := c.Get(keysKey)
	return view{
		Base: con.base(c), Version: con.version, CSRF: c.GetString(csrfKey), Title: title,
		Who: c.GetString(whoKey), Signed: signed, OwnerMode: con.ownerMode(),
		Notice: notices[c.Query("done")], Data: data,
	}
}

// Once is a new one-time token, for a form that mints a key (see once.go):
// made when a page's template asks for it, so pages without such a form
// draw no random bytes.
func (view) Once() string { return randomToken() }

func (con *Console) render(c *gin.Context, status int, page, title string, data any) {
	con.write(c, status, page, con.view(c, title, data))
}

func (con *Console) renderError(c *gin.Context, status int, page, title string, data any, code, msg string) {
	v := con.view(c, title, data)
	v.Error, v.Code = msg, code
	con.write(c, status, page, v)
}

func (con *Console) write(c *gin.Context, status int, page string, v view) {
	var b strings.Builder
	if err := con.pages[page].ExecuteTemplate(&b, "layout", v); err != nil {
		_ = c.Error(err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("the page could not be rendered"))
		return
	}
	c.Data(status, "text/html; charset=utf-8", []byte(b.String()))
}

// fail answers with the error page and stops the chain.
func (con *Console) fail(c *gin.Context, status int, code, msg string) {
	con.renderError(c, status, "error", "Error", nil, code, msg)
	c.Abort()
}

// failErr answers err as fail does.
func (con *Console) failErr(c *gin.Context, err error) {
	status, code, msg := errorText(c, err)
	con.fail(c, status, code, msg)
}

// errorText is what a page shows of err: a ginkey *Error's status, code
// and message (fixed texts, naming at most a field); anything else, such as
// a store failure, as the fixed unavailable message, its detail left in
// c.Errors for the host's log.
func errorText(c *gin.Context, err error) (int, string, string) {
	var e *ginkey.Error
	if errors.As(err, &e) {
		return e.Status, e.Code, e.Message
	}
	_ = c.Error(err)
	u := ginkey.ErrUnavailable
	return u.Status, u.Code, u.Message
}
