// lock - the twin of bench/lock.c: uncontended sync.Mutex: one goroutine
// locks and unlocks its own mutex N times (default 50,000,000) while main
// waits on a sync.WaitGroup.  Prints ns per Lock+Unlock pair.
//
// usage: lock [N]
package main

import (
	"sync"
	"time"

	"weftbench/internal/bench"
)

func main() {
	bench.Name = "lock"
	n := bench.ArgCount(1, 50000000)
	var elapsed time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		var m sync.Mutex
		t0 := time.Now()
		for i := int64(0); i < n; i++ {
			m.Lock()
			m.Unlock() //nolint:staticcheck // an empty critical section is the point
		}
		elapsed = time.Since(t0)
		wg.Done()
	}()
	wg.Wait()
	bench.Report("ns/op", bench.Per(elapsed, n), n)
}
