//go:build race

package localemu

// raceDetector: the tests run under -race, several times slower.
const raceDetector = true
