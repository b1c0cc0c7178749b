//go:build race

package ginkey

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// gin allocates contexts and allocation counts mean nothing.
const raceEnabled = true
