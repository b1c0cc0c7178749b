package ginkeyredis_test

import (
	"log"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/ginkeyredis"
)

// Every instance of the application counts its keys' rate limits, quotas
// and failed attempts in the same Redis.
func ExampleFromURL() {
	if err := serve(); err != nil {
		log.Print(err)
	}
}

func serve() error {
	cfg := ginkey.Config{FailClosed: false} // Redis down: limits fail open
	if url := os.Getenv(ginkeyredis.EnvVar); url != "" {
		limits, err := ginkeyredis.FromURL(url, ginkeyredis.WithPrefix("myapp:"))
		if err != nil {
			return err
		}
		defer func() { _ = limits.Close() }()
		limits.Apply(&cfg)
	}
	guard, err := ginkey.New(cfg)
	if err != nil {
		return err
	}
	defer func() { _ = guard.Close() }()
	r := gin.New()
	r.GET("/items", guard.Handler(), func(c *gin.Context) { c.JSON(200, gin.H{"items": []string{}}) })
	return nil // r.Run() in a real program
}
