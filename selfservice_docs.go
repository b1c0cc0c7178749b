package ginkey

import (
	_ "embed" // the self-service routes' OpenAPI document
	"strings"

	"github.com/gin-gonic/gin"
)

//go:generate swag init --instanceName ginkeyselfservice -g selfservice_docs.go -d . --exclude ./example --tags ginkey-self-service --outputTypes json -o docs

// The general info of the self-service routes' document, which swag
// generates apart from the admin API's, so that each can be served alone:
//
//	@title						ginkey self-service API
//	@version					1
//	@description				Lets a signed-in user list, create, rotate, revoke and renew their own API keys, and read their usage and history.
//	@BasePath					/
//
//	@securityDefinitions.apikey	OwnerSession
//	@in							header
//	@name						Cookie
//	@description				The signed-in user's session, as the host application keeps it (typically a cookie the browser sends by itself): every self-service operation acts for that user.

// selfSpec is the self-service routes' own document.
//
//go:embed docs/ginkeyselfservice_swagger.json
var selfSpec []byte

// The self-service annotations' tag, @Router base and security scheme.
const (
	selfServiceTag    = "ginkey-self-service"
	selfServiceBase   = "/account"
	selfServiceScheme = "OwnerSession"
)

// selfServiceMount is where RegisterSelfService mounted the routes first,
// and the security scheme their document names.
type selfServiceMount struct {
	base, scheme string
}

// noteSelfServiceMount remembers the first group the self-service routes
// are mounted on, for the OpenAPI document.
func (g *Guard) noteSelfServiceMount(base, scheme string) {
	if scheme == "" {
		scheme = selfServiceScheme
	}
	g.self.mount.CompareAndSwap(nil, &selfServiceMount{base: strings.TrimSuffix(base, "/"), scheme: scheme})
}

// CustomerDocs is Docs for the guard's customers: it serves doc, the
// application's document, with the self-service operations below the
// group given to RegisterSelfService, under the security scheme
// SelfService.SecurityScheme names, and without any admin operation, its
// schemas or the AdminSecret scheme, whatever Config.HideDocs says. Docs
// shows the self-service operations too, beside the admin API's.
//
//	r.GET("/customer-docs/*any", guard.CustomerDocs(docs.SwaggerInfo, ginSwagger.WrapHandler(swaggerFiles.Handler)))
func (g *Guard) CustomerDocs(doc interface{ ReadDoc() string }, next gin.HandlerFunc) gin.HandlerFunc {
	return g.serveDoc(next, func() ([]byte, error) {
		full, err := g.buildDoc(doc)
		if err != nil {
			return nil, err
		}
		app, err := decodeObject(full)
		if err != nil {
			return nil, err
		}
		removeTagged(objectAt(app, "paths"), docsTag)
		delete(objectAt(app, "securityDefinitions"), adminScheme)
		removeRequirement(app, adminScheme)
		removeTagDeclaration(app, docsTag)
		pruneDefinitions(app, docsTag+".")
		return encodeDoc(app)
	})
}

// patchSelfServiceDoc replaces whatever self-service operations swag put
// into the app's document by this version's, below the routes' mount, or
// leaves them out when RegisterSelfService was not called.
func (g *Guard) patchSelfServiceDoc(app map[string]any) error {
	paths := objectAt(app, "paths")
	removeTagged(paths, selfServiceTag)
	m := g.self.mount.Load()
	if m == nil {
		return nil
	}
	prefix, ok := mountedBelow(app, m.base)
	if !ok {
		g.log.Warn("ginkey: the self-service routes are mounted outside the document's basePath; their operations are left out of the OpenAPI document",
			"mount", m.base)
		return nil
	}
	own, err := decodeObject(selfSpec)
	if err != nil {
		return err
	}
	security := []any{map[string]any{m.scheme: []any{}}}
	for p, item := range objectAt(own, "paths") {
		if ops, ok := item.(map[string]any); ok {
			for _, op := range ops {
				if op, ok := op.(map[string]any); ok {
					op["security"] = security
				}
			}
		}
		paths[prefix+strings.TrimPrefix(p, selfServiceBase)] = item
	}
	defs := objectAt(app, "definitions")
	for name, def := range objectAt(own, "definitions") {
		defs[name] = def
	}
	schemes := objectAt(app, "securityDefinitions")
	if _, defined := schemes[m.scheme]; !defined && m.scheme == selfServiceScheme {
		schemes[m.scheme] = objectAt(own, "securityDefinitions")[selfServiceScheme]
	}
	return nil
}

// mountedBelow is mount relative to the document's basePath; false when it
// lies outside it.
func mountedBelow(app map[string]any, mount string) (string, bool) {
	base, _ := app["basePath"].(string)
	base = strings.TrimSuffix(base, "/")
	if base == "" {
		return mount, true
	}
	if rest, ok := strings.CutPrefix(mount, base); ok && (rest == "" || rest[0] == '/') {
		return rest, true
	}
	return "", false
}
