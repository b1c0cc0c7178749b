//go:build !race

package ginkey

const raceEnabled = false
