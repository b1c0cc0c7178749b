package clienttest

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// expectAround fails unless v (a string, *string, time.Time or *time.Time)
// is a time within a minute of want.
func expectAround(t *testing.T, what string, v any, want time.Time) {
	t.Helper()
	var got time.Time
	switch v := v.(type) {
	case time.Time:
		got = v
	case *time.Time:
		if v != nil {
			got = *v
		}
	case *string:
		if v != nil {
			got, _ = time.Parse(time.RFC3339Nano, *v)
		}
	case string:
		got, _ = time.Parse(time.RFC3339Nano, v)
	default:
		got, _ = time.Parse(time.RFC3339Nano, fmt.Sprint(v))
	}
	if d := got.Sub(want); got.IsZero() || d < -time.Minute || d > time.Minute {
		t.Errorf("%s = %v, want about %s", what, v, want.UTC().Format(time.RFC3339))
	}
}

// isStatus reports whether err is a generated client's error for an answer
// with the given status (go-swagger's errors have an IsCode method).
func isStatus(err error, status int) bool {
	var coded interface{ IsCode(int) bool }
	return errors.As(err, &coded) && coded.IsCode(status)
}

func ptr[T any](v T) *T { return &v }

// deref is *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
