// sleepers - the twin of bench/sleepers.c: idle cost of sleeping
// goroutines: N goroutines (default 5,000) each loop on
// time.Sleep(INTERVAL ms) (default 1,000) until told to stop.  Once all
// have started (a sync.WaitGroup), main measures the process's CPU time
// (getrusage RUSAGE_SELF, user + system) over SECONDS (default 5) of wall
// time and prints it as a percentage of one CPU.  Stopping is a flag the
// sleepers see at their next wakeup; main joins them all.  (The C
// program's 64 KiB stack attribute has no Go equivalent.)
//
// usage: sleepers [N [INTERVAL_MS [SECONDS]]]
package main

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"weftbench/internal/bench"
)

func cpuNs() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		bench.Fail("getrusage: %v", err)
	}
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	bench.Name = "sleepers"
	n := bench.ArgCount(1, 5000)
	interval := time.Duration(bench.ArgCount(2, 1000)) * time.Millisecond
	secs := bench.ArgCount(3, 5)
	var stop atomic.Bool
	var started, done sync.WaitGroup

	started.Add(int(n))
	done.Add(int(n))
	for i := int64(0); i < n; i++ {
		go func() {
			started.Done()
			for !stop.Load() {
				time.Sleep(interval)
			}
			done.Done()
		}()
	}
	started.Wait()
	w0 := time.Now()
	c0 := cpuNs()
	time.Sleep(time.Duration(secs) * time.Second)
	bench.Report("%cpu", 100*(cpuNs()-c0)/float64(time.Since(w0).Nanoseconds()), n)
	stop.Store(true)
	done.Wait()
}
