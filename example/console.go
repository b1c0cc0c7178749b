package main

import (
	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/console"
)

// The key console (package console): pages to list, create, rotate, revoke,
// renew and edit keys and to see their usage, rendered on the server with
// their stylesheet and script embedded, so that no request leaves it.
//
// The admin's console is at /console: its sign-in form takes the admin
// secret (GINKEY_SECRET) and gives the browser a session cookie in
// exchange. Each demo user's is at /account/console, behind the demo
// sign-in of account.go: it shows that user only their own keys, under the
// demo plan.

// mountConsole serves the admin console under /console.
func mountConsole(r *gin.Engine, guard *ginkey.Guard) error {
	con, err := console.New(guard, console.Options{})
	if err != nil {
		return err
	}
	con.Register(r.Group("/console"))
	return nil
}

// mountOwnerConsole serves the signed-in demo user's console under
// /account/console; owner reads the demo session, as the self-service
// routes do.
func mountOwnerConsole(r *gin.Engine, guard *ginkey.Guard, owner func(*gin.Context) (string, bool)) error {
	con, err := console.New(guard, console.Options{Owner: owner, Policy: demoPlan})
	if err != nil {
		return err
	}
	con.Register(r.Group("/account/console"))
	return nil
}
