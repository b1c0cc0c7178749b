// Package ginkey adds API-key authentication to gin: a middleware that checks
// keys stored as SHA-256 hashes (in SQLite by default, or any GORM
// database), and an admin API that creates, lists, revokes, renews, rotates
// and reports on keys. Five lines protect a route:
//
//	guard, err := ginkey.New(ginkey.Config{})
//	if err != nil { ... }
//	defer guard.Close()
//	guard.RegisterAdmin(r.Group("/auth"))
//	r.GET("/secure", guard.Handler(), handler)
//
// Require admits only keys that hold every scope it names (RequireAny: one
// of them); KeyFrom(c) is the admitted key in a handler:
//
//	r.POST("/items", guard.Require("items:write"), createItem)
//
// Keys are made over the admin API or in Go. CreateKey returns the
// plaintext key once; only its hash is stored:
//
//	k, err := guard.CreateKey(ctx, ginkey.KeySpec{Name: "billing", Scopes: []string{"items:read"}})
//	// hand k.Secret to the client now: it cannot be read again
//
// The admin API lives below the group given to RegisterAdmin, behind the
// X-Admin-Secret header; Docs serves its OpenAPI document. The ginkey
// command (cmd/ginkey) manages keys from a shell, on the same database. The
// integrations are modules of their own: ginkeyredis shares rate limits,
// quotas and failure throttles between instances through Redis, ginkeyprom
// exports metrics to Prometheus, and ginkeyotel traces with OpenTelemetry.
// What they and other extensions implement lives in small packages:
// keystore (where keys are kept; gormstore is the default, on SQLite,
// PostgreSQL or MariaDB), limiter (where limits are counted) and observe
// (what metrics and tracing are told).
package ginkey
