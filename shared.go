package ginkey

import "net/http"

// The names of the guard's failure throttles, as a limiter.FailureCounter
// sees them in limiter.Throttle.Name.
const (
	throttleUnknownKeys  = "unknown_key"  // Config.FailureLimit
	throttleAdminSecrets = "admin_secret" // Config.AdminFailureLimit
)

// errLimitsUnavailable answers a request that Config.FailClosed refuses
// while a shared counter is down. It is ErrUnavailable to errors.Is.
var errLimitsUnavailable = newError(http.StatusServiceUnavailable, "unavailable",
	"a rate-limit service is unavailable; try again")
