//go:build race

package protocol

// raceEnabled reports whether the race detector is on, under which math/big
// is too slow for the 100,000 reference computations.
const raceEnabled = true
