package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// With -perf-dir, each phase's first slice is profiled with Linux perf on
// the server that serves it, into DIR/PHASE.perf.data, so a profile holds
// that phase alone (the phases are interleaved). Read one with
//
//	perf report -i DIR/callback.perf.data --children --sort sym -g none
//
// perf samples the server at 999 Hz, which costs it a little CPU; the
// figures of a profiled run are for reading the profile, not for the table.

// perfSlice starts perf on pid and returns the function that stops it.
func perfSlice(dir, phase string, pid int, logf func(string, ...any)) (stop func(), err error) {
	out := filepath.Join(dir, phase+".perf.data")
	cmd := exec.Command("perf", "record", "-F", "999", "-g", "-p", strconv.Itoa(pid), "-o", out)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf: %w", err)
	}
	time.Sleep(200 * time.Millisecond) // perf attaches before the slice starts
	return func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf("perf profile of %s: %s", phase, out)
	}, nil
}

// checkPerfDir makes dir and checks that perf can be run.
func checkPerfDir(dir string) error {
	if _, err := exec.LookPath("perf"); err != nil {
		return fmt.Errorf("-perf-dir needs Linux perf on PATH: %w", err)
	}
	return os.MkdirAll(dir, 0o755)
}
