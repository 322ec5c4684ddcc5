// blocked - the twin of bench/blocked.c: memory held by blocked
// goroutines: N goroutines (default 100,000) each wait on one sync.Cond.
// Once every one is inside Wait, main reads the process's VmRSS
// (/proc/self/status) and prints (that - VmRSS before the first go
// statement) / N in KiB: what a blocked goroutine costs, stack and the
// runtime's own bookkeeping included.  Then it releases and joins them
// all.
//
// usage: blocked [N]
package main

import (
	"bufio"
	"fmt"
	"os"
	"sync"

	"weftbench/internal/bench"
)

var (
	mu       sync.Mutex
	release  = sync.NewCond(&mu)
	allIn    = sync.NewCond(&mu)
	n        int64
	waiting  int64 // mu
	released bool  // mu
)

func waiter(wg *sync.WaitGroup) {
	mu.Lock()
	waiting++
	if waiting == n {
		allIn.Signal()
	}
	for !released {
		release.Wait()
	}
	mu.Unlock()
	wg.Done()
}

// rssKiB is VmRSS of this process, KiB.
func rssKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		bench.Fail("open /proc/self/status: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		var kib int64
		if _, err := fmt.Sscanf(s.Text(), "VmRSS: %d", &kib); err == nil {
			return kib
		}
	}
	bench.Fail("no VmRSS in /proc/self/status")
	return 0
}

func main() {
	bench.Name = "blocked"
	n = bench.ArgCount(1, 100000)
	var wg sync.WaitGroup
	before := rssKiB()
	wg.Add(int(n))
	for i := int64(0); i < n; i++ {
		go waiter(&wg)
	}
	mu.Lock()
	for waiting < n {
		allIn.Wait()
	}
	// Every waiter has released mu inside Wait.
	after := rssKiB()
	released = true
	release.Broadcast()
	mu.Unlock()
	wg.Wait()
	bench.Report("KiB/thread", float64(after-before)/float64(n), n)
}
