package memstore_test

import (
	"testing"

	"github.com/ginkey/ginkey/keystore"
	"github.com/ginkey/ginkey/keystore/memstore"
	"github.com/ginkey/ginkey/keystore/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(*testing.T) keystore.Store { return memstore.New() })
}
