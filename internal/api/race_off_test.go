//go:build !race

package api

// raceDetector is false outside a -race build.
const raceDetector = false
