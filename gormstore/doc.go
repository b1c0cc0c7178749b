// Package gormstore is the GORM implementation of keystore.Store, ginkey's
// default store: SQLite, PostgreSQL and MariaDB/MySQL (any GORM dialect, the
// three tested), with migrations that instances starting together take in
// turns, a check of the tables' shape, bulk inserts, usage counts written
// exactly once, refusals, the audit log, atomic rotation and, on
// PostgreSQL, LISTEN/NOTIFY between instances.
//
// ginkey.New opens it by itself: on Config.DB with New, else on the
// database Config.DBPath names with Open. PostgreSQL's driver, pgx, is not
// imported here but by package gormstore/pgstore, which a program passes
// (as ginkey's Config.Postgres) to use PostgreSQL: the others never compile
// it.
package gormstore
