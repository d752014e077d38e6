package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// goTool finds the go command: on PATH, else the one of the toolchain that
// built this test.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	root := runtime.GOROOT() //nolint:staticcheck // deprecated for locating go, but only a fallback to PATH here
	p := filepath.Join(root, "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no go tool on PATH or in %s", root)
	}
	return p
}

// The production binary must not link package testing (a test helper
// imported by production code pulls it in, with its -test.* flags and its
// code): hotline simulate uses ari/arifake, never ari/aritest.
func TestBinaryDoesNotLinkTesting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Every package the binary links, with the packages it imports.
	cmd := exec.CommandContext(ctx, goTool(t), "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderr.String())
	}
	var linked bool
	var importers []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "testing" {
			linked = true
		}
		for _, imp := range fields[1:] {
			if imp == "testing" {
				importers = append(importers, fields[0])
			}
		}
	}
	if len(out) == 0 || !strings.Contains(string(out), "github.com/csm-vn/hotline/internal/app") {
		t.Fatalf("go list -deps did not list the binary's packages:\n%s", out)
	}
	if linked || len(importers) > 0 {
		t.Fatalf("cmd/hotline links package testing, imported by %v", importers)
	}
}
