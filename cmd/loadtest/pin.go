package main

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
)

// cpuPlan says where the generator and the servers run. With taskset and
// two CPUs or more, the servers share the last CPU and everything that
// generates load (this process, wrk) runs on CPU 0, so a server never
// competes with its own load for a core.
type cpuPlan struct {
	generator, server int
	pinned            bool
	why               string // when not pinned
}

func planCPUs() cpuPlan {
	n := runtime.NumCPU()
	if _, err := exec.LookPath("taskset"); err != nil {
		return cpuPlan{why: "taskset not found"}
	}
	if n < 2 {
		return cpuPlan{why: "one CPU"}
	}
	return cpuPlan{generator: 0, server: n - 1, pinned: true}
}

// serverPrefix is the command prefix that pins a server.
func (p cpuPlan) serverPrefix() []string {
	if !p.pinned {
		return nil
	}
	return []string{"taskset", "-c", strconv.Itoa(p.server)}
}

func (p cpuPlan) generatorPrefix() []string {
	if !p.pinned {
		return nil
	}
	return []string{"taskset", "-c", strconv.Itoa(p.generator)}
}

// pinSelf moves every thread of this process (vegeta, the callback
// signing) to the generator's CPU; threads started later inherit it.
func (p cpuPlan) pinSelf() error {
	if !p.pinned {
		return nil
	}
	return exec.Command("taskset", "-a", "-p", "-c", strconv.Itoa(p.generator), strconv.Itoa(os.Getpid())).Run()
}

func (p cpuPlan) describe() string {
	if !p.pinned {
		return "not pinned (" + p.why + "): load generator and servers share the cores"
	}
	return "servers pinned to CPU " + strconv.Itoa(p.server) + " with taskset (GOMAXPROCS=1 each), load generator (this tool, wrk) pinned to CPU " + strconv.Itoa(p.generator)
}
