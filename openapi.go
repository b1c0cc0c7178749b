package ginkey

import (
	"bytes"
	_ "embed" // ginkey's own OpenAPI document
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

//go:generate swag init --instanceName ginkey -g openapi.go -d . --exclude ./example --tags !ginkey-self-service --outputTypes json -o docs

// The general info of ginkey's own OpenAPI document, which swag generates
// from this file and the admin handlers' annotations:
//
//	@title						ginkey admin API
//	@version					1
//	@description				Creates, lists, revokes, renews and reports on API keys. Every operation needs the X-Admin-Secret header.
//	@BasePath					/
//
//	@securityDefinitions.apikey	APIKeyHeader
//	@in							header
//	@name						X-API-Key
//	@description				An API key in the X-API-Key header.
//
//	@securityDefinitions.apikey	APIKeyQuery
//	@in							query
//	@name						api_key
//	@description				An API key in the api_key query parameter.
//
//	@securityDefinitions.apikey	APIKeyBearer
//	@in							header
//	@name						Authorization
//	@description				An API key as a bearer token: the Authorization header's value is "Bearer " and the key.
//
//	@securityDefinitions.apikey	AdminSecret
//	@in							header
//	@name						X-Admin-Secret
//	@description				The admin secret (Config.AdminSecret or GINKEY_SECRET), needed by every ginkey admin operation.

// ownSpec is ginkey's own document. It is embedded rather than registered
// with swag, so it can never collide with an application's docs package.
//
//go:embed docs/ginkey_swagger.json
var ownSpec []byte

// The annotations' @Router paths start with annotatedBase; Docs moves them
// below the group actually given to RegisterAdmin.
const (
	annotatedBase = "/auth"
	docsTag       = "ginkey"
	adminScheme   = "AdminSecret"
	headerScheme  = "APIKeyHeader"
	queryScheme   = "APIKeyQuery"
	bearerScheme  = "APIKeyBearer"
)

// docReader is Docs' doc.
type docReader interface {
	ReadDoc() string
}

// Docs returns a handler that serves doc, the application's OpenAPI
// (Swagger 2.0) document in JSON as its ReadDoc method returns it, with
// ginkey's part made true to this guard. The SwaggerInfo variable of a docs
// package made by swag init is such a doc. In the document served:
//
//   - ginkey's admin operations appear below the group given to
//     RegisterAdmin (e.g. /admin/keys for r.Group("/admin")), whatever paths
//     swag wrote for them, together with their schemas and the AdminSecret
//     scheme;
//   - with Config.HideDocs (GINKEY_HIDE_DOCS=true), or when RegisterAdmin
//     was never called, the admin operations, their schemas and the
//     AdminSecret scheme are removed instead; the endpoints keep working;
//   - the APIKeyHeader and APIKeyQuery schemes name the header and query
//     parameter the guard reads (Config.Sources), and are added if missing.
//
// Requests whose path ends in /doc.json get the document; requests whose
// path ends in /openapi3.json get the same document converted to OpenAPI
// 3.0; every other request goes to next, typically
// gin-swagger's handler serving Swagger UI:
//
//	r.GET("/docs/*any", guard.Docs(docs.SwaggerInfo, ginSwagger.WrapHandler(swaggerFiles.Handler)))
//
// (without ginSwagger.PersistAuthorization(true), which would keep the admin
// secret typed into Authorize in the browser's localStorage). That serves
// /docs/doc.json (Swagger 2.0) and /docs/openapi3.json (OpenAPI 3.0);
// ginSwagger.URL("openapi3.json") points Swagger UI at the latter.
//
// With a nil next every request gets the Swagger 2.0 document, except those
// ending in /openapi3.json, e.g. r.GET("/openapi.json", guard.Docs(docs.SwaggerInfo, nil))
// and r.GET("/openapi3.json", guard.Docs(docs.SwaggerInfo, nil)).
//
// Each document is built once, on its first request, so routes and swag's
// SwaggerInfo fields (Host, BasePath...) may be set up after Docs is
// called. Docs never panics: a document that cannot be read, is not JSON or
// cannot be converted is logged once and answered with 500 on every request.
func (g *Guard) Docs(doc interface{ ReadDoc() string }, next gin.HandlerFunc) gin.HandlerFunc {
	return g.serveDoc(next, func() ([]byte, error) { return g.buildDoc(doc) })
}

// serveDoc serves the document build makes, on its first request, as Docs
// says; CustomerDocs serves another through it.
func (g *Guard) serveDoc(next gin.HandlerFunc, build func() ([]byte, error)) gin.HandlerFunc {
	var (
		once sync.Once
		body []byte
		v3   openAPI3Doc
	)
	return func(c *gin.Context) {
		path := c.Request.URL.Path
		wantV3 := strings.HasSuffix(path, openAPI3Suffix)
		if next != nil && !wantV3 && !strings.HasSuffix(path, "/doc.json") {
			next(c)
			return
		}
		once.Do(func() {
			var err error
			if body, err = build(); err != nil {
				g.log.Error("ginkey: cannot serve the OpenAPI document", "error", err)
			}
		})
		out := body
		if wantV3 && body != nil {
			out = v3.get(g, body)
		}
		if out == nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", out)
	}
}

// noteAdminMount remembers the first group the admin API is mounted on.
func (g *Guard) noteAdminMount(base string) {
	base = strings.TrimSuffix(base, "/")
	g.admin.base.CompareAndSwap(nil, &base)
}

// buildDoc reads doc and rewrites ginkey's part of it.
func (g *Guard) buildDoc(doc docReader) (out []byte, err error) {
	if doc == nil {
		return nil, errors.New("no document (nil doc)")
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("reading the document panicked: %v", r)
		}
	}()
	app, err := decodeObject([]byte(doc.ReadDoc()))
	if err != nil {
		return nil, fmt.Errorf("the document is not a JSON object: %w", err)
	}
	own, err := decodeObject(ownSpec)
	if err != nil {
		return nil, fmt.Errorf("ginkey's embedded document: %w", err)
	}
	// The self-service operations first: the admin part prunes the
	// definitions no operation left refers to.
	if err := g.patchSelfServiceDoc(app); err != nil {
		return nil, fmt.Errorf("ginkey's embedded self-service document: %w", err)
	}
	g.patchDoc(app, own)
	return encodeDoc(app)
}

// encodeDoc is the document served: app as JSON, unescaped.
func encodeDoc(app map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(app); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep numbers exactly as written
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("null document")
	}
	return m, nil
}

// patchDoc removes whatever ginkey operations swag put into the app's
// document, then adds this version's operations below the real mount, or
// leaves them out when the docs are hidden or the admin API is not mounted.
func (g *Guard) patchDoc(app, own map[string]any) {
	// swag's template writes "host": "" and "basePath": "" when they are
	// unset, which Swagger 2.0 does not allow; absent means the same.
	for _, k := range []string{"host", "basePath"} {
		if v, ok := app[k].(string); ok && v == "" {
			delete(app, k)
		}
	}
	paths := objectAt(app, "paths")
	removeTagged(paths, docsTag)

	prefix, show := g.adminPrefix(app)
	defs := objectAt(app, "definitions")
	schemes := objectAt(app, "securityDefinitions")
	if show {
		withSecret := g.admin.secretHashes.Load() != nil
		security := g.adminSecurity(withSecret)
		for p, item := range objectAt(own, "paths") {
			ops, _ := item.(map[string]any)
			for _, op := range ops {
				if op, ok := op.(map[string]any); ok {
					op["security"] = security
				}
			}
			paths[prefix+strings.TrimPrefix(p, annotatedBase)] = item
		}
		for name, def := range objectAt(own, "definitions") {
			defs[name] = def
		}
		_, defined := schemes[adminScheme]
		switch {
		case withSecret && !defined:
			schemes[adminScheme] = objectAt(own, "securityDefinitions")[adminScheme]
		case !withSecret: // AdminAuth alone: no header would be accepted
			delete(schemes, adminScheme)
			removeRequirement(app, adminScheme)
		}
	} else {
		delete(schemes, adminScheme)
		removeRequirement(app, adminScheme)
		removeTagDeclaration(app, docsTag)
		pruneDefinitions(app, docsTag+".")
	}
	g.matchKeySchemes(schemes, objectAt(own, "securityDefinitions"))
}

// adminSecurity is the security of every admin operation: the secret, when
// there is one, or any of AdminAuth's schemes.
func (g *Guard) adminSecurity(withSecret bool) []any {
	var out []any
	if withSecret {
		out = append(out, map[string]any{adminScheme: []any{}})
	}
	for _, s := range g.admin.schemes {
		out = append(out, map[string]any{s: []any{}})
	}
	return out
}

// adminPrefix is where the admin operations go, relative to the document's
// basePath; show is false when they must not appear.
func (g *Guard) adminPrefix(app map[string]any) (prefix string, show bool) {
	mount := g.admin.base.Load()
	if g.admin.hideDocs || mount == nil {
		return "", false
	}
	if prefix, ok := mountedBelow(app, *mount); ok {
		return prefix, true
	}
	g.log.Warn("ginkey: the admin API is mounted outside the document's basePath; its operations are left out of the OpenAPI document",
		"mount", *mount, "basePath", app["basePath"])
	return "", false
}

// matchKeySchemes makes APIKeyHeader and APIKeyQuery name what the guard
// reads, so that Swagger UI's Authorize sends the key where it is looked for,
// and adds APIKeyBearer when the guard reads bearer tokens (Swagger 2.0 has
// no bearer scheme: an apiKey in the Authorization header stands for it).
func (g *Guard) matchKeySchemes(schemes, own map[string]any) {
	for _, s := range []struct {
		scheme string
		from   sourceKind
	}{{headerScheme, fromHeader}, {queryScheme, fromQuery}, {bearerScheme, fromBearer}} {
		i := slices.IndexFunc(g.admin.sources, func(src sourceSpec) bool { return src.from == s.from })
		if i < 0 {
			continue
		}
		def, ok := schemes[s.scheme].(map[string]any)
		if !ok {
			def = cloneObject(own[s.scheme])
			schemes[s.scheme] = def
		}
		if s.from != fromBearer { // always the Authorization header
			def["name"] = g.admin.sources[i].name
		}
	}
}
