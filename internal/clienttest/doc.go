// Package clienttest holds Go clients generated from the example's two
// OpenAPI documents, as the running example serves them through guard.Docs
// (docsgen fetches them), and the tests that drive the example server
// through the whole key lifecycle with each:
//
//   - swagger2/: go-swagger's client, from swagger.json (Swagger 2.0, /docs/doc.json);
//   - oapi3/: oapi-codegen's client, from openapi3.json (OpenAPI 3.0, /docs/openapi3.json).
//
// The documents and the clients are generated and committed; .ci/run
// installs the pinned generators, runs go generate here and fails when the
// output differs from what is committed. The module is apart from the root
// module so that the generated code's runtime dependencies stay out of the
// graph of a project that requires github.com/ginkey/ginkey.
//
// Regenerate (go-swagger and oapi-codegen on PATH, at the versions .ci/run
// pins) with:
//
//	go generate ./internal/clienttest
package clienttest

//go:generate go run ./docsgen -o .
//go:generate rm -rf swagger2/client swagger2/models
//go:generate swagger generate client --quiet -f swagger.json -t swagger2 -A ginkey
//go:generate oapi-codegen -config oapi3/config.yaml openapi3.json
