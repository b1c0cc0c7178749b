// Package swaggercheck checks a document against the official Swagger 2.0
// JSON schema, for the tests of ginkey's own document and of the example's.
// It is apart from testkit so that the modules whose tests import testkit
// need none of its dependencies.
package swaggercheck

import (
	"bytes"
	"encoding/json"
	"testing"

	openapispec "github.com/go-openapi/spec"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validate checks b against the official Swagger 2.0 JSON schema, which
// go-openapi/spec (a dependency of swag) embeds. It is read through
// Swagger20Schema, which every go-openapi/spec release since v0.20 has
// (the assets' own accessor changed in v0.21), because the workspace picks
// a newer go-openapi/spec than the root module's go.mod: internal/clienttest's
// generated client needs one. A schema that does not compile fails t.
func Validate(t testing.TB, b []byte) error {
	t.Helper()
	const url = "http://swagger.io/v2/schema.json"
	spec, err := openapispec.Swagger20Schema()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}
