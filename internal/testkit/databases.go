package testkit

import (
	"crypto/rand"
	"os"
	"testing"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// PostgresDSN returns the DSN of the test PostgreSQL server from
// GINKEY_TEST_POSTGRES. Without it the test is skipped, loudly, unless
// GINKEY_REQUIRE_SERVICES=1 (set by .ci/run) turns the skip into a failure.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return service(t, "GINKEY_TEST_POSTGRES", "PostgreSQL", "host=127.0.0.1 user=postgres dbname=test sslmode=disable")
}

// MySQLDSN returns the DSN of the test MySQL/MariaDB server from
// GINKEY_TEST_MYSQL, skipping loudly without it as PostgresDSN does.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	return service(t, "GINKEY_TEST_MYSQL", "MySQL/MariaDB", "root@tcp(127.0.0.1:3306)/test?parseTime=true")
}

func service(t testing.TB, env, name, example string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		if os.Getenv("GINKEY_REQUIRE_SERVICES") == "1" {
			t.Fatal(env + " is not set but GINKEY_REQUIRE_SERVICES=1")
		}
		t.Skip("SKIPPING " + name + " test: set " + env + " (e.g. " + example + ")")
	}
	return dsn
}

// OpenPostgres connects to the test PostgreSQL server and returns a table
// prefix no other test uses; the tables are dropped when the test ends.
func OpenPostgres(t testing.TB) (*gorm.DB, string) {
	t.Helper()
	return open(t, postgres.Open(PostgresDSN(t)), "PostgreSQL")
}

// OpenMySQL is OpenPostgres for MySQL/MariaDB.
func OpenMySQL(t testing.TB) (*gorm.DB, string) {
	t.Helper()
	return open(t, mysql.Open(MySQLDSN(t)), "MySQL")
}

func open(t testing.TB, dialector gorm.Dialector, name string) (*gorm.DB, string) {
	t.Helper()
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	prefix := UniquePrefix(t)
	t.Cleanup(func() { DropAndClose(db, prefix) })
	return db, prefix
}

// UniquePrefix isolates one test's tables in a shared database server.
func UniquePrefix(t testing.TB) string {
	t.Helper()
	const digits = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = digits[int(b[i])%len(digits)]
	}
	return "gkt_" + string(b[:]) + "_"
}

// DropAndClose drops ginkey's tables under prefix and closes db.
func DropAndClose(db *gorm.DB, prefix string) {
	DropTables(db, prefix)
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// DropTables drops every table ginkey keeps under prefix.
func DropTables(db *gorm.DB, prefix string) {
	_ = db.Migrator().DropTable(prefix+"keys", prefix+"usage", prefix+"flush_marks", prefix+"outcomes", prefix+"audit", prefix+"owner_locks")
}
