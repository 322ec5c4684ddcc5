// mutex - the twin of bench/mutex.c: contended sync.Mutex: 8 goroutines
// each add 1 to one shared counter under one mutex, N times in all
// (default 40,000,000).  The C program's barrier is a channel main
// closes once all 8 are started.  Prints ns per increment: the time from
// the first goroutine's start to the last one's end, over N.
//
// usage: mutex [N]
package main

import (
	"sync"
	"time"

	"weftbench/internal/bench"
)

const threads = 8

var (
	mu          sync.Mutex
	counter     int64     // mu
	first, last time.Time // mu
)

func adder(start <-chan struct{}, perThread int64, wg *sync.WaitGroup) {
	<-start
	t0 := time.Now()
	for i := int64(0); i < perThread; i++ {
		mu.Lock()
		counter++
		mu.Unlock()
	}
	t1 := time.Now()
	mu.Lock()
	if first.IsZero() || t0.Before(first) {
		first = t0
	}
	if t1.After(last) {
		last = t1
	}
	mu.Unlock()
	wg.Done()
}

func main() {
	bench.Name = "mutex"
	n := bench.ArgCount(1, 40000000)
	perThread := (n + threads - 1) / threads
	n = perThread * threads
	start := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(threads)
	for i := 0; i < threads; i++ {
		go adder(start, perThread, &wg)
	}
	close(start)
	wg.Wait()
	if counter != n {
		bench.Fail("counter is %d, not %d", counter, n)
	}
	bench.Report("ns/op", bench.Per(last.Sub(first), n), n)
}
