// Package swaggercheck checks a document against the official Swagger 2.0
// JSON schema, for the tests of ginkey's own document and of the example's.
// It is apart from testkit so that the modules whose tests import testkit
// need none of its dependencies.
package swaggercheck

import (
	"bytes"
	"testing"

	openapispec "github.com/go-openapi/spec"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validate checks b against the official Swagger 2.0 JSON schema, which
// go-openapi/spec (a dependency of swag) ships in its embedded assets. A
// schema that does not compile fails t.
func Validate(t testing.TB, b []byte) error {
	t.Helper()
	const url = "http://swagger.io/v2/schema.json"
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapispec.MustAsset("v2/schema.json")))
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
