package ginkey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// openAPI3Suffix ends the paths at which Docs serves the OpenAPI 3.0
// document, e.g. /docs/openapi3.json next to Swagger UI's /docs/doc.json.
// It is the Swagger 2.0 document Docs serves at doc.json (the admin
// operations below the group given to RegisterAdmin, or hidden), converted
// by kin-openapi's openapi2conv: for client generators and API gateways
// that read only OpenAPI 3.
const openAPI3Suffix = "/openapi3.json"

// openAPI3Doc is one Docs handler's OpenAPI 3.0 document, converted once
// from its Swagger 2.0 document on the first request that asks for it.
type openAPI3Doc struct {
	once sync.Once
	body []byte
}

// get returns the conversion of v2, or nil (logged once) when it fails.
func (d *openAPI3Doc) get(g *Guard, v2 []byte) []byte {
	d.once.Do(func() {
		var err error
		if d.body, err = toOpenAPI3(v2); err != nil {
			g.log.Error("ginkey: cannot serve the OpenAPI 3 document", "error", err)
		}
	})
	return d.body
}

// toOpenAPI3 converts a Swagger 2.0 document to OpenAPI 3.0. A host-less
// document keeps its basePath as a relative server URL ("/" or "/api/v1"),
// so tools resolve the paths against the host serving the document, as
// they do for Swagger 2.0.
func toOpenAPI3(v2 []byte) (out []byte, err error) {
	// The conversion works on arbitrary input from an application's
	// document; a panic there must not take the request with it.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("converting to OpenAPI 3 panicked: %v", r)
		}
	}()
	var doc2 openapi2.T
	if err := json.Unmarshal(v2, &doc2); err != nil {
		return nil, fmt.Errorf("reading the Swagger 2.0 document: %w", err)
	}
	doc3, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("converting to OpenAPI 3: %w", err)
	}
	promoteParameterExamples(doc3)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc3); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// promoteParameterExamples turns a parameter's x-example into its example.
// Swagger 2.0 has no example for a path or query parameter, so the document
// carries one as x-example (which openapi2conv keeps as an extension);
// OpenAPI 3 has the field, and contract-testing tools read only the field.
func promoteParameterExamples(doc *openapi3.T) {
	promote := func(params openapi3.Parameters) {
		for _, p := range params {
			if p == nil || p.Value == nil || p.Value.Example != nil {
				continue
			}
			if ex, ok := p.Value.Extensions["x-example"]; ok {
				p.Value.Example = ex
				delete(p.Value.Extensions, "x-example")
			}
		}
	}
	if doc.Paths == nil {
		return
	}
	for _, item := range doc.Paths.Map() {
		promote(item.Parameters)
		for _, op := range item.Operations() {
			promote(op.Parameters)
		}
	}
}
