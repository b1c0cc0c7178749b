package ginkey

import (
	"errors"
	"testing"
)

// A path with no admin operation answers not_found on the wire, as an
// unknown key does, but a caller comparing errors must not take one for the
// other; errors built by BadRequest still match ErrBadRequest.
func TestRouteNotFoundIsNotTheKeyNotFoundError(t *testing.T) {
	t.Parallel()
	if errors.Is(errRouteNotFound, ErrNotFound) || errors.Is(ErrNotFound, errRouteNotFound) {
		t.Fatal("errRouteNotFound and ErrNotFound compare equal")
	}
	if !errors.Is(errRouteNotFound, errRouteNotFound) {
		t.Fatal("errRouteNotFound does not match itself")
	}
	if errRouteNotFound.Code != ErrNotFound.Code || errRouteNotFound.Status != ErrNotFound.Status {
		t.Fatalf("route 404 is %d %s on the wire, want %d %s", errRouteNotFound.Status, errRouteNotFound.Code, ErrNotFound.Status, ErrNotFound.Code)
	}
	if !errors.Is(BadRequest("name is too long"), ErrBadRequest) {
		t.Fatal("BadRequest(...) does not match ErrBadRequest")
	}
}
