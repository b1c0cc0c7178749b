package console

import (
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
	if err != nil {
		con.failErr(c, err)
		return
	}
	c.Set(csrfKey, con.cookieToken(c))
	c.Set(keysKey, ownerKeys{keys})
	c.Set(whoKey, owner)
}
