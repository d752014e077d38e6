//go:build race

package release

// Under the race detector (scripts/test.sh), scripts/release.sh builds with
// -race too: the packages are then already compiled for the other tests, and
// the release test costs a link instead of a second build of everything.
func init() { releaseGoFlags = "-race" }
