package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestTwoExampleProcessesShareRateLimitsAndQuotasThroughRedis runs two
// example processes on one PostgreSQL database and one Redis: a key's rate
// limit and quota hold across both, exactly.
func TestTwoExampleProcessesShareRateLimitsAndQuotasThroughRedis(t *testing.T) {
	redisURL := os.Getenv("GINKEY_TEST_REDIS")
	if redisURL == "" {
		if os.Getenv("GINKEY_REQUIRE_SERVICES") == "1" {
			t.Fatal("GINKEY_TEST_REDIS is not set but GINKEY_REQUIRE_SERVICES=1")
		}
		t.Skip("SKIPPING Redis test: set GINKEY_TEST_REDIS (e.g. redis://127.0.0.1:6379/0)")
	}
	dbURL := postgresSchemaURL(t)
	dir := t.TempDir()
	a := startExample(t, dbURL, freePort(t), filepath.Join(dir, "a.log"), "GINKEY_REDIS="+redisURL)
	b := startExample(t, dbURL, freePort(t), filepath.Join(dir, "b.log"), "GINKEY_REDIS="+redisURL)
	c := loadClient(2)

	create := func(body string) (id, key string) {
		t.Helper()
		status, out, err := call(c, http.MethodPost, a.base+"/auth/keys", "X-Admin-Secret", testSecret, body)
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create %s: %d %s %v", body, status, out, err)
		}
		var k struct{ ID, Key string }
		if err := json.Unmarshal(out, &k); err != nil {
			t.Fatal(err)
		}
		opts, err := redis.ParseURL(redisURL)
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opts)
		t.Cleanup(func() { // the example's Redis keys for this key, whatever they are
			ctx := context.Background()
			for _, pattern := range []string{"ginkey:rate:" + k.ID, "ginkey:quota:" + k.ID + ":*"} {
				keys, _ := rdb.Keys(ctx, pattern).Result()
				if len(keys) > 0 {
					_ = rdb.Del(ctx, keys...).Err()
				}
			}
			_ = rdb.Close()
		})
		return k.ID, k.Key
	}
	alternate := func(key string, n int) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for i := range n {
			base := a.base
			if i%2 == 1 {
				base = b.base
			}
			status, out, err := call(c, http.MethodGet, base+"/secure", "X-API-Key", key, "")
			if err != nil {
				t.Fatal(err)
			}
			if status == http.StatusOK {
				seen["ok"]++
			} else {
				seen[errorCode(out)]++
			}
		}
		return seen
	}

	_, limited := create(`{"rate_limit":{"requests":10,"per":"1m"}}`)
	if got := alternate(limited, 16); got["ok"] != 10 || got["rate_limited"] != 6 {
		t.Errorf("rate limit 10/min over two processes, 16 requests: %v, want 10 ok and 6 rate_limited", got)
	}
	_, quota := create(`{"quota":{"requests":5,"per":"day"}}`)
	if got := alternate(quota, 8); got["ok"] != 5 || got["quota_exceeded"] != 3 {
		t.Errorf("quota 5/day over two processes, 8 requests: %v, want 5 ok and 3 quota_exceeded", got)
	}
	a.stop()
	b.stop()
}
