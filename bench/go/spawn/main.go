// spawn - the twin of bench/spawn.c: start and join N goroutines
// (default 100,000) in batches of 1,000, 1,000 alive at a time.  Each
// goroutine returns its result in its slot; a sync.WaitGroup per batch is
// the join.  Prints ns per start+join.
//
// usage: spawn [N]
package main

import (
	"sync"
	"time"

	"weftbench/internal/bench"
)

const batch = 1000

func main() {
	bench.Name = "spawn"
	n := bench.ArgCount(1, 100000)
	var r [batch]int
	t0 := time.Now()
	for done := int64(0); done < n; {
		b := batch
		if n-done < batch {
			b = int(n - done)
		}
		var wg sync.WaitGroup
		wg.Add(b)
		for k := 0; k < b; k++ {
			go func(k int) {
				r[k] = k + 1
				wg.Done()
			}(k)
		}
		wg.Wait()
		for k := 0; k < b; k++ {
			if r[k] != k+1 {
				bench.Fail("goroutine %d: wrong result %d", k, r[k])
			}
			r[k] = 0
		}
		done += int64(b)
	}
	bench.Report("ns/op", bench.Per(time.Since(t0), n), n)
}
