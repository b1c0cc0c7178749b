// A module of its own so that the root module's go.mod names no Prometheus
// module; its internal path keeps it private to this repository's modules
// (ginkeyprom's and the example's tests). It is tagged with ginkeyprom
// (internal/testkit/promcheck/vX.Y.Z): go mod tidy in a project that
// requires ginkeyprom downloads what ginkeyprom's tests import.
module github.com/ginkey/ginkey/internal/testkit/promcheck

go 1.26.0

toolchain go1.26.10

require (
	github.com/prometheus/client_model v0.6.3
	github.com/prometheus/common v0.73.1
)

require (
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/pandatix/go-abnf v0.5.3 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
