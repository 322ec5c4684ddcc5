// yield - the twin of bench/yield.c: a bare goroutine switch.  Where the
// C program pins the process to one CPU, this one sets GOMAXPROCS to 1
// (Go's way of running goroutines on one processor: one P), then two
// goroutines call runtime.Gosched N times each (default 1,000,000), so
// every Gosched hands the P to the other.  Prints ns per switch, one way
// (wall time / 2N).
//
// usage: yield [N]
package main

import (
	"runtime"
	"sync"
	"time"

	"weftbench/internal/bench"
)

func main() {
	bench.Name = "yield"
	n := bench.ArgCount(1, 1000000)
	runtime.GOMAXPROCS(1)
	loop := func() {
		for i := int64(0); i < n; i++ {
			runtime.Gosched()
		}
	}
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(1)
	go func() {
		loop()
		wg.Done()
	}()
	loop()
	wg.Wait()
	bench.Report("ns/switch", float64(time.Since(t0).Nanoseconds())/(2*float64(n)), n)
}
