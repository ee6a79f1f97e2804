//go:build race

package api

// raceDetector is true in a -race build, where SQLite (translated to Go) runs
// an order of magnitude slower: tests that write thousands of rows skip.
const raceDetector = true
