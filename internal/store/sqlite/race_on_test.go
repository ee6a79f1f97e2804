//go:build race

package sqlite

// raceDetector is true in a -race build, where SQLite (translated to Go) runs
// an order of magnitude slower and timing comparisons mean nothing.
const raceDetector = true
