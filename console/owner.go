package console

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/ginkey/ginkey"
)

// ownerAuth admits the owner the host's sign-in names, acting through
// ginkey.OwnerKeys: their own keys only, under their policy. Its forms'
// CSRF token is the token cookie's.
func (con *Console) ownerAuth(c *gin.Context) {
	owner, ok := con.opts.Owner(c)
	if !ok || owner == "" {
		con.fail(c, http.StatusUnauthorized, "credentials_missing", "sign in to the application to manage your keys")
		return
	}
	var policy ginkey.OwnerPolicy
	if con.opts.Policy != nil {
		policy = con.opts.Policy(owner)
	}
	keys, err := con.guard.ForOwner(owner, policy)
	switch {
	case errors.Is(err, ginkey.ErrBadRequest):
		// An owner Options.Owner should not have signed in (control
		// characters, over 200 characters): the host's sign-in is at fault.
		_ = c.Error(err)
		con.fail(c, http.StatusUnauthorized, "credentials_invalid", "your sign-in cannot manage keys; sign in to the application again")
		return
	case err != nil:
		// The host's set-up (a store that cannot cap an owner's keys, a
		// policy that breaks its rules), not a passing outage: 500, the
		// detail left in c.Errors for the host's log.
		_ = c.Error(err)
		con.fail(c, http.StatusInternalServerError, "console_misconfigured", "the key console is not set up correctly; the server's log says why")
		return
	}
	c.Set(csrfKey, con.cookieToken(c))
	c.Set(keysKey, ownerKeys{keys})
	c.Set(whoKey, owner)
}
