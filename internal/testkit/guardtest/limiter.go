package guardtest

import (
	"context"
	"errors"
	"time"

	"github.com/ginkey/ginkey/limiter"
)

// DownLimiter is a limiter.Limiter that is down, as a Redis that refuses
// connections: every call fails at once.
type DownLimiter struct{}

// Allow fails.
func (DownLimiter) Allow(context.Context, string, int64, time.Duration) (limiter.Decision, error) {
	return limiter.Decision{}, errors.New("redis: connection refused")
}
